"""Search's own tables: the synonym dictionary editors keep, and what visitors searched for.

The index itself is not here: it is a Whoosh folder on each web node, derived from the
articles and rebuildable at any time.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    clicked_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    clicked_rank: Mapped[int | None]
    clicked_at: Mapped[datetime | None]
