"""Fixtures of the insights tests: published articles to visit, and a page-view buffer
emptied before each test (other tests' page views wait in it, since tests flush by hand)."""

from datetime import timedelta

import pytest

from content.models import Article
from core.extensions import db
from core.timeutil import utcnow
from insights import tracking
from insights.models import Event
from tests.gated.conftest import form_data, make_whitepaper  # noqa: F401 - shared with gated's tests

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def make_article(slug: str, *, kind: str = "help", title: str = "续费指南") -> Article:
    article = Article(
        kind=kind,
        slug=slug,
        title=title,
        summary="摘要",
        status="published",
        published_at=utcnow() - timedelta(days=1),
        body_md="正文",
        body_html="<p>正文</p>",
        toc_html="",
        category="客户成功",
    )
    db.session.add(article)
    db.session.commit()
    return article


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
