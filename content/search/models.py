"""Search's own tables: the synonym dictionary editors keep, and what visitors searched for.

The index itself is not here: it is a Whoosh folder on each web node, derived from the
articles and rebuildable at any time.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow


class Synonym(db.Model):
    """One group of terms that mean the same to a searcher (落地页 = 着陆页 = landing page).

    A query that contains one of the terms also looks for the others, with a lower weight
    than the words typed.
    """

    __tablename__ = "search_synonyms"

    id: Mapped[int] = mapped_column(primary_key=True)
    terms: Mapped[list] = mapped_column(JSON, default=list)
    # "shipped" rows come from content/search/synonyms.yml; "admin" rows were made by hand.
    origin: Mapped[str] = mapped_column(String(20), default="admin")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SearchQuery(db.Model):
    """One search a visitor made, and the result they opened, if any."""

    __tablename__ = "search_queries"
    __table_args__ = (Index("ix_search_queries_created_normalised", "created_at", "normalised"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(200))
    # Folded (case, width, traditional) and trimmed: what "the same search" means in reports.
    normalised: Mapped[str] = mapped_column(String(200), index=True)
    results: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20), default="")
    locale: Mapped[str] = mapped_column(String(10), default="")
    # "page" (/search), "api" (/api/search) or "typeahead" (recorded when a result is opened).
    source: Mapped[str] = mapped_column(String(20), default="page")
    # The same visitor on the same day, unidentifiably (learning.visit_key): what "a
    # search rephrased within a visit" needs.
    visit: Mapped[str] = mapped_column(String(32), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    clicked_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    clicked_rank: Mapped[int | None]
    clicked_at: Mapped[datetime | None]


class ArticleVector(db.Model):
    """The meaning of one passage of a public article (title, summary and body cut into
    pieces of a few hundred characters), as one embedding model sees it: float32 bytes.

    Kept in the database so that every web node searches the same vectors without
    computing them; a brute-force scan of them all is a matrix product.
    """

    __tablename__ = "search_vectors"
    __table_args__ = (
        UniqueConstraint("article_id", "model", "passage", name="uq_search_vectors_article_model_passage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    passage: Mapped[int] = mapped_column(default=0)
    # Which character of the article's text the passage starts at (for its snippet).
    start: Mapped[int] = mapped_column(default=0)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    model: Mapped[str] = mapped_column(String(60))
    embedded_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class EmbeddingJob(db.Model):
    """An article whose vectors are to be (re)computed by the worker: queued when the
    article is saved, so the editor's request never waits for the model."""

    __tablename__ = "search_embedding_jobs"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)


class SynonymProposal(db.Model):
    """Two searches that visitors' behaviour says mean the same, waiting for an editor.

    `evidence` lists what was seen: {"kind": "same-click" | "rephrased", "article_id",
    "count"}; `status` is pending, accepted (the pair joined the synonyms) or rejected
    (never proposed again).
    """

    __tablename__ = "search_synonym_proposals"
    __table_args__ = (UniqueConstraint("first", "second", name="uq_search_synonym_proposals_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The two normalised queries, in sorted order, so a pair is found either way round.
    first: Mapped[str] = mapped_column(String(200))
    second: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    strength: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
