"""Keeping the index and the articles' vectors in step with the articles: the receivers of
content's signals (which never let an editor's save fail), full rebuilds, the worker's
embedding job, and the health check's status."""

import logging
from collections.abc import Callable
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from content.models import Article
from content.search import embedding
from content.search.index import published_clause
from content.search.state import get_index
from core.extensions import db

log = logging.getLogger(__name__)


def reindex(*, now: datetime, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the index of the public articles from the database and swap it in."""
    return get_index().rebuild(now, progress=progress)


def embed_all(*, now: datetime, progress: Callable[[int], None] | None = None) -> int:
    """Recompute every public article's vectors (0 when the models are unavailable or
    SEARCH_DENSE is off)."""
    if not current_app.config.get("SEARCH_DENSE", True):
        return 0
    return embedding.embed_all(now=now, progress=progress)


def embed_pending(now: datetime, stop=None) -> dict:
    """The worker's job (core.hooks.add_background_job): vectors of saved articles."""
    if not current_app.config.get("SEARCH_DENSE", True):
        return {}
    return embedding.embed_pending(now, stop)


def published_count() -> int:
    """How many articles are published, now or scheduled (what a rebuild will index)."""
    return db.session.scalar(select(func.count(Article.id)).where(published_clause()))


def index_status(*, now: datetime) -> dict:
    found = get_index().status(now)
    if current_app.config.get("SEARCH_DENSE", True):
        found["meaning"] = embedding.status()
    else:
        found["meaning"] = {"mode": "lexical", "reason": "SEARCH_DENSE is off"}
    return found


def on_article_changed(app, article_id: int, *, now: datetime) -> None:
    """Receiver of content.signals.article_changed: never lets the editor's save fail."""
    try:
        get_index(app).article_changed(article_id, now=now)
    except Exception:  # noqa: BLE001 - the watermark sync repairs what this missed
        log.exception("indexing article %s failed; the next sync will retry", article_id)
    if app.config.get("SEARCH_DENSE", True):
        try:
            embedding.queue(article_id, now=now)
        except Exception:  # noqa: BLE001 - the worker's queue_missing finds it later
            db.session.rollback()
            log.exception("queueing article %s for embedding failed", article_id)


def on_article_deleted(app, article_id: int) -> None:
    try:
        get_index(app).article_deleted(article_id)
    except Exception:  # noqa: BLE001
        log.exception("removing article %s from the index failed; the next sync will retry", article_id)
    try:
        embedding.drop(article_id)
    except Exception:  # noqa: BLE001 - the foreign key's cascade removes them with the article
        db.session.rollback()
        log.exception("removing article %s's vectors failed", article_id)
