"""Fixtures of the insights tests: published articles to visit, and a page-view buffer
emptied before each test (other tests' page views wait in it, since tests flush by hand)."""

import pytest

from content.models import Article
from core.extensions import db
from insights import tracking
from insights.models import Event
from tests.factories import BROWSER, make_article


def article_to_visit(slug: str, *, kind: str = "help", title: str = "续费指南") -> Article:
    """A published article with a category, to visit and count."""
    return make_article(slug=slug, kind=kind, title=title, summary="摘要", category="客户成功")


@pytest.fixture(autouse=True)
def empty_buffer(app):
    tracking.buffer(app).clear()
    yield
    tracking.buffer(app).clear()


@pytest.fixture
def browser(client):
    client.environ_base["HTTP_USER_AGENT"] = BROWSER
    return client


def flushed(app=None) -> list[Event]:
    """Write the waiting page views; every event, oldest first."""
    tracking.flush(app)
    db.session.expire_all()
    return db.session.query(Event).order_by(Event.id).all()
