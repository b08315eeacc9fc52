"""Search fixtures: articles saved through the content service (so the real signals
update the index), and an index that syncs on every search (no one-second throttle)."""

from datetime import datetime

import pytest

from content.search import services
from core.timeutil import utcnow
from tests.content.helpers import make_article

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
    """publish(title, body, **fields) -> a published article, indexed via the signal."""

    def make(title: str, body: str = "", **fields):
        return make_article(body, title=title, **{"published_at": PAST, **fields})

    return make
