"""Article vectors in the database and the queue that keeps them current: an article
saved is queued, the worker embeds queued articles in small passes, `flask search
reindex` embeds every public one. What the vectors are used for is in semantic.py.

    queue(article_id, now=)        an article saved: the worker re-embeds it
    embed_pending(now, stop)       the worker's job: a batch of queued articles
    queue_missing(now=)            public articles without current vectors, queued
    embed_all(progress=)           `flask search reindex`: every public article, in batches
    drop(article_id)               an article gone: its vectors and job too
    status()                       for the health check
"""

import logging
from datetime import datetime

import numpy as np
from sqlalchemy import delete, func, insert, select

from content.models import Article
from content.search import dense
from content.search.index import published_clause
from content.search.models import ArticleVector, EmbeddingJob
from core.extensions import db

log = logging.getLogger(__name__)
# Articles per call to the engines (about 24 passages): larger batches measured no faster.
EMBED_BATCH = 8
# Articles embedded per worker pass (a few seconds), so the next pass (mail first) is
# never far off; a backlog drains over a few passes.
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
    """Queue every published article whose vectors are missing, of another model, from
    fewer than every encoder or older than its last change (after a restore, a model
    upgrade or the demo load)."""
    newest = (
        select(
            ArticleVector.article_id,
            func.min(ArticleVector.embedded_at).label("at"),
            func.count(func.distinct(ArticleVector.model)).label("models"),
        )
        .where(ArticleVector.model.in_(dense.NAMES))
        .group_by(ArticleVector.article_id)
        .subquery()
    )
    stale = db.session.scalars(
        select(Article.id)
        .outerjoin(newest, newest.c.article_id == Article.id)
        .outerjoin(EmbeddingJob, EmbeddingJob.article_id == Article.id)
        .where(published_clause(), EmbeddingJob.article_id.is_(None))
        .where(
            (newest.c.at.is_(None))
            | (newest.c.at < Article.updated_at)
            | (newest.c.models < len(dense.NAMES))
        )
    ).all()
    for article_id in stale:
        db.session.add(EmbeddingJob(article_id=article_id, queued_at=now))
    db.session.commit()
    return len(stale)


def embed_pending(now: datetime, stop=None, *, limit: int = PER_PASS) -> dict:
    """The worker's job: embed up to `limit` queued articles, oldest first, in batches.
    Without a model it does nothing (the jobs wait for one)."""
    if dense.models() is None:
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
    """Replace the vectors of these articles (published ones embedded by every encoder,
    others dropped). Returns (embedded, dropped); commits."""
    articles = db.session.scalars(
        select(Article).where(Article.id.in_(article_ids), published_clause())
    ).all()
    wanted = {encoder.name: ([], []) for encoder in dense.ENCODERS}  # texts, owners
    for article in articles:
        pieces = dense.passages(article.title, article.summary, article.body_text)
        for encoder in dense.ENCODERS:
            texts, owners = wanted[encoder.name]
            for number, (start, text) in enumerate(pieces[: encoder.passages]):
                texts.append(text)
                owners.append((article, number, start))
    # The models run before any row changes, so a failure leaves the old vectors.
    computed = {
        encoder.name: dense.embed_passages(encoder, wanted[encoder.name][0]) for encoder in dense.ENCODERS
    }
    db.session.execute(delete(ArticleVector).where(ArticleVector.article_id.in_(article_ids)))
    rows = [
        {
            "article_id": article.id,
            "passage": number,
            "start": start,
            "vector": np.ascontiguousarray(vector, dtype=np.float32).tobytes(),
            "model": name,
            # Never older than the change it reflects (a worker's clock may be moved).
            "embedded_at": max(now, article.updated_at),
        }
        for name, (_, owners) in wanted.items()
        for (article, number, start), vector in zip(owners, computed[name], strict=True)
    ]
    if rows:
        db.session.execute(insert(ArticleVector), rows)
    db.session.commit()
    return len(articles), len(article_ids) - len(articles)


def embed_all(*, now: datetime, progress=None) -> int:
    """Embed every published article (the bulk path of `flask search reindex`)."""
    if dense.models() is None:
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
    if dense.models() is None:
        found["mode"] = "lexical"
        found["reason"] = dense.error() or "embedding models not loaded"
    else:
        found["mode"] = "hybrid"
    return found
