"""Search fixtures: articles saved through the content service (so the real signals
update the index), and an index that syncs on every search (no one-second throttle)."""

from datetime import datetime, timedelta

import pytest

from content.search import services
from core.timeutil import utcnow

PAST = datetime(2026, 1, 1)


@pytest.fixture
def search_index(app):
    """The app's index, emptied of documents left by other tests, syncing on every search."""
    index = services.get_index(app)
    index.sync_interval = 0
    index.sync(utcnow(), force=True)
    return index


@pytest.fixture
def publish(app, search_index):
    """publish(title=…, body=…, **fields) -> a published article, indexed via the signal."""
    from content.services import save_article

    def make(title: str, body: str = "", **fields):
        values = {
            "kind": "help",
            "locale": "zh-CN",
            "category": "",
            "tags": [],
            "summary": "",
            "status": "published",
            "published_at": PAST,
            "title": title,
            **fields,
        }
        return save_article(values, body, now=utcnow())

    return make


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
