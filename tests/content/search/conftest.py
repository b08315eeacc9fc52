"""Search fixtures: articles saved through the content service (so the real signals
update the index), on the index of tests/conftest.py that syncs on every search."""

from datetime import datetime

import pytest

from tests.factories import make_article

PAST = datetime(2026, 1, 1)


@pytest.fixture
def publish(app, search_index):
    """publish(title, body, **fields) -> a published article, indexed via the signal."""

    def make(title: str, body: str = "", **fields):
        return make_article(body, title=title, **{"published_at": PAST, **fields})

    return make
