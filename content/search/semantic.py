"""Search by meaning beside the words: article vectors in the database, the queue that
keeps them current, the in-memory matrix each process scans, and the fusion of the two
rankings.

    queue(article_id, now=)        an article saved: the worker re-embeds it
    embed_pending(now, stop)       the worker's job: a batch of queued articles
    queue_missing(now=)            public articles without current vectors, queued
    embed_all(progress=)           `flask search reindex`: every public article, in batches
    Vectors.ranking(vector, ...)   article ids by meaning, best first
    fuse(lexical, dense, ...)      reciprocal rank fusion of the two

Why reciprocal rank fusion: BM25F scores and cosine similarities live on scales that
cannot be added; ranks can. Meaning's ranks weigh less than the words' (DENSE_WEIGHT):
the words, with the synonyms and typo folding, are the surer sign when they match, and
meaning mostly brings in what they miss.
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import delete, func, select

from content.models import Article
from content.search import dense
from content.search.highlight import mark, snippet
from content.search.index import published_clause
from content.search.models import ArticleVector, EmbeddingJob
from content.search.ranking import Hit, Results
from core.extensions import db

log = logging.getLogger(__name__)
RRF_K = 60
# What a rank by meaning counts beside the same rank by words (1.0: plain RRF). Chosen on
# the development set only (relevance.yml: 1.0 gave nDCG@10 0.925, 0.5 0.939, 0.3 0.940,
# 0.15 0.954, words alone 0.966; paraphrase.yml: 0.5 0.756, 0.3 0.743, 0.15 0.741, words
# alone 0.715), never on the held-out sets.
DENSE_WEIGHT = 0.15
# How many of each ranking take part in the fusion.
FUSION_DEPTH = 50
DENSE_DEPTH = 20
# An article found only by meaning must be at least this close to the query (cosine).
# e5 calls almost any two texts of one language 0.8 similar, so: beside what the words
# found, DENSE_FLOOR; when the words found nothing, DENSE_ALONE, so that a query about
# nothing the site has still finds nothing (it is an article to write).
DENSE_FLOOR = 0.84
DENSE_ALONE = 0.86
# Articles per call to the engine (about 24 passages): larger batches measured no faster.
EMBED_BATCH = 8
# Articles embedded per worker pass: about 48 passages, 10-30 s at the 2-5 passages/s
# measured on this shared machine (docs/SEARCH.md), so the next pass (mail first) is never
# far off; a backlog drains over a few passes.
PER_PASS = 16
MAX_ATTEMPTS = 5


# The queue --------------------------------------------------------------------------------


def queue(article_id: int, *, now: datetime) -> None:
    """Ask the worker to (re)compute an article's vectors; one row per article, however
    many saves happen before the worker's next pass. Commits."""
    row = db.session.get(EmbeddingJob, article_id)
    if row is None:
        db.session.add(EmbeddingJob(article_id=article_id, queued_at=now))
    else:
        row.queued_at, row.attempts = now, 0
    db.session.commit()


def queue_missing(*, now: datetime) -> int:
    """Queue every published article whose vectors are missing, of another model or
    older than its last change (after a restore, a model upgrade or the demo load)."""
    newest = (
        select(ArticleVector.article_id, func.min(ArticleVector.embedded_at).label("at"))
        .where(ArticleVector.model == dense.MODEL_NAME)
        .group_by(ArticleVector.article_id)
        .subquery()
    )
    stale = db.session.scalars(
        select(Article.id)
        .outerjoin(newest, newest.c.article_id == Article.id)
        .outerjoin(EmbeddingJob, EmbeddingJob.article_id == Article.id)
        .where(published_clause(), EmbeddingJob.article_id.is_(None))
        .where((newest.c.at.is_(None)) | (newest.c.at < Article.updated_at))
    ).all()
    for article_id in stale:
        db.session.add(EmbeddingJob(article_id=article_id, queued_at=now))
    db.session.commit()
    return len(stale)


def embed_pending(now: datetime, stop=None, *, limit: int = PER_PASS) -> dict:
    """The worker's job: embed up to `limit` queued articles, oldest first, in batches.
    Without a model it does nothing (the jobs wait for one)."""
    if dense.model() is None:
        return {"embedding_unavailable": 1}
    counts = {"queued": queue_missing(now=now), "embedded": 0, "dropped": 0}
    jobs = db.session.execute(
        select(EmbeddingJob.article_id, EmbeddingJob.queued_at)
        .where(EmbeddingJob.attempts < MAX_ATTEMPTS)
        .order_by(EmbeddingJob.queued_at, EmbeddingJob.article_id)
        .limit(limit)
    ).all()
    for start in range(0, len(jobs), EMBED_BATCH):
        if stop is not None and stop.is_set():
            break
        batch = dict(jobs[start : start + EMBED_BATCH])
        try:
            embedded, dropped = store(list(batch), now=now)
        except Exception:
            db.session.rollback()
            db.session.execute(
                EmbeddingJob.__table__.update()
                .where(EmbeddingJob.article_id.in_(list(batch)))
                .values(attempts=EmbeddingJob.attempts + 1)
            )
            db.session.commit()
            raise
        # A save during the embedding queued the article again: its job stays.
        for article_id, queued_at in batch.items():
            db.session.execute(
                delete(EmbeddingJob).where(
                    EmbeddingJob.article_id == article_id, EmbeddingJob.queued_at == queued_at
                )
            )
        db.session.commit()
        counts["embedded"] += embedded
        counts["dropped"] += dropped
    return counts


def store(article_ids: list[int], *, now: datetime) -> tuple[int, int]:
    """Replace the vectors of these articles (published ones embedded, others dropped).
    Returns (embedded, dropped); commits."""
    articles = db.session.scalars(
        select(Article).where(Article.id.in_(article_ids), published_clause())
    ).all()
    texts, owners = [], []
    changed = {article.id: article.updated_at for article in articles}
    for article in articles:
        for start, text in dense.passages(article.title, article.summary, article.body_text):
            texts.append(text)
            owners.append((article.id, start))
    # The model runs before any row changes, so a failure leaves the old vectors.
    vectors = dense.embed_passages(texts)
    db.session.execute(delete(ArticleVector).where(ArticleVector.article_id.in_(article_ids)))
    numbers: dict[int, int] = {}
    for (article_id, start), vector in zip(owners, vectors, strict=True):
        passage = numbers[article_id] = numbers.get(article_id, -1) + 1
        db.session.add(
            ArticleVector(
                article_id=article_id,
                passage=passage,
                start=start,
                vector=np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
                model=dense.MODEL_NAME,
                # Never older than the change it reflects (a worker's clock may be moved).
                embedded_at=max(now, changed[article_id]),
            )
        )
    db.session.commit()
    return len(articles), len(article_ids) - len(articles)


def embed_all(*, now: datetime, progress=None) -> int:
    """Embed every published article (the bulk path of `flask search reindex`)."""
    if dense.model() is None:
        return 0
    ids = db.session.scalars(select(Article.id).where(published_clause()).order_by(Article.id)).all()
    for start in range(0, len(ids), EMBED_BATCH):
        batch = ids[start : start + EMBED_BATCH]
        store(batch, now=now)
        db.session.execute(delete(EmbeddingJob).where(EmbeddingJob.article_id.in_(batch)))
        db.session.commit()
        if progress is not None:
            progress(len(batch))
    return len(ids)


def drop(article_id: int) -> None:
    db.session.execute(delete(ArticleVector).where(ArticleVector.article_id == article_id))
    db.session.execute(delete(EmbeddingJob).where(EmbeddingJob.article_id == article_id))
    db.session.commit()


def status() -> dict:
    """For the health check: whether search uses meaning, and how far behind it is."""
    found = {
        "vectors": db.session.scalar(select(func.count(func.distinct(ArticleVector.article_id)))) or 0,
        "queued": db.session.scalar(select(func.count()).select_from(EmbeddingJob)) or 0,
    }
    if dense.model() is None:
        found["mode"] = "lexical"
        found["reason"] = dense.error() or "embedding model not loaded"
    else:
        found["mode"] = "hybrid"
    return found


# The matrix ------------------------------------------------------------------------------


@dataclass
class Vectors:
    """Every stored passage vector of this process, re-read when the table changed
    (checked at most once a second): rows grouped by article."""

    signature: tuple | None = None
    checked: float = float("-inf")
    every: float = 1.0
    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, dense.DIMENSIONS), np.float32))
    articles: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    groups: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self) -> None:
        if time.monotonic() - self.checked < self.every:
            return
        with self.lock:
            signature = tuple(
                db.session.execute(
                    select(
                        func.count(ArticleVector.id),
                        func.max(ArticleVector.id),
                        func.max(ArticleVector.embedded_at),
                    )
                ).one()
            )
            self.checked = time.monotonic()
            if signature == self.signature:
                return
            rows = db.session.execute(
                select(ArticleVector.article_id, ArticleVector.start, ArticleVector.vector)
                .where(ArticleVector.model == dense.MODEL_NAME)
                .order_by(ArticleVector.article_id, ArticleVector.passage)
            ).all()
            articles = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            matrix = np.zeros((len(rows), dense.DIMENSIONS), dtype=np.float32)
            for number, row in enumerate(rows):
                matrix[number] = np.frombuffer(row[2], dtype=np.float32)
            self.starts = np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows))
            self.groups = (
                np.flatnonzero(np.r_[True, articles[1:] != articles[:-1]]) if len(rows) else articles
            )
            self.matrix, self.articles, self.signature = matrix, articles, signature

    def ranking(self, vector: np.ndarray, *, depth: int) -> list[tuple[int, float, int]]:
        """(article id, best passage's similarity, that passage's start), best first."""
        if not len(self.articles):
            return []
        scores = self.matrix @ vector
        best = np.maximum.reduceat(scores, self.groups)
        # The row of each article's best passage, for its snippet.
        rows = np.r_[self.groups[1:], len(scores)]
        order = np.argsort(-best, kind="stable")[:depth]
        found = []
        for group in order:
            first, last = self.groups[group], rows[group]
            row = first + int(np.argmax(scores[first:last]))
            found.append((int(self.articles[first]), float(best[group]), int(self.starts[row])))
        return found


def fuse(
    lexical: list[int], dense_ids: list[int], *, k: int = RRF_K, weight: float | None = None
) -> list[int]:
    """Weighted reciprocal rank fusion: the words' ranking gives a document 1 / (k + rank),
    meaning's `weight` / (k + rank); ties keep the lexical order (typed words are the
    surer sign)."""
    weight = DENSE_WEIGHT if weight is None else weight
    scores: dict[int, float] = {}
    for ranking, share in ((lexical, 1.0), (dense_ids, weight)):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + share / (k + rank)
    position = {item: rank for rank, item in enumerate(lexical)}
    return sorted(scores, key=lambda item: (-scores[item], position.get(item, len(position)), item))


def merge(
    searcher,
    lexical: Results,
    ranking: list[tuple[int, float, int]],
    *,
    kind: str | None,
    category: str | None,
    locale: str | None,
    hidden: frozenset[int],
    page: int,
    per_page: int,
) -> Results:
    """The page of the fused ranking: `lexical` holds the first FUSION_DEPTH lexical hits,
    `ranking` the closest articles by meaning. An article found only by meaning joins
    when it is public, passes the filters and is close enough (DENSE_FLOOR beside words,
    DENSE_ALONE without); its snippet is the passage that matched."""
    hits = {hit.id: hit for hit in lexical.hits}
    floor = DENSE_FLOOR if lexical.hits else DENSE_ALONE
    close = []
    for article_id, similarity, start in ranking:
        if article_id in hits:
            close.append(article_id)
            continue
        if similarity < floor:
            continue
        hit = _hit(searcher, article_id, start, similarity, kind, category, locale, hidden)
        if hit is not None:
            hits[article_id] = hit
            close.append(article_id)
    order = fuse([hit.id for hit in lexical.hits], close)
    added = len(order) - len(lexical.hits)
    results = Results(
        query=lexical.query,
        total=lexical.total + added,
        page=page,
        per_page=per_page,
        facets=lexical.facets,
        suggestion=lexical.suggestion,
        took_ms=lexical.took_ms,
    )
    results.hits = [hits[item] for item in order[(page - 1) * per_page : page * per_page]]
    return results


def _hit(searcher, article_id, start, similarity, kind, category, locale, hidden) -> Hit | None:
    docnum = searcher.document_number(id=str(article_id))
    if docnum is None or docnum in hidden:
        return None
    stored = searcher.stored_fields(docnum)
    wanted = (("kind", kind), ("category", category), ("locale", locale))
    if any(value and stored.get(name, "") != value for name, value in wanted):
        return None
    body = stored.get("body", "")
    return Hit(
        id=article_id,
        slug=stored["slug"],
        kind=stored["kind"],
        title=stored["title"],
        url=stored["url"],
        snippet=snippet(body[start:] or stored.get("summary", ""), []),
        title_html=mark(stored["title"], []),
        score=similarity,
        locale=stored.get("locale", ""),
        category=stored.get("category", ""),
        published=stored.get("published"),
    )
