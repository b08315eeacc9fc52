"""Fixtures of the insights tests: published articles to visit, and a page-view buffer
emptied before each test (other tests' page views wait in it, since tests flush by hand)."""

from datetime import datetime, timedelta

import pytest

from content.models import Article
from core.extensions import db
from gated.models import Lead
from insights import tracking
from insights.events import record
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


def known_data_set():
    """Two weeks: five visits, two forms opened, two submissions (one after reading a
    help article first), an MQL, an SQL; two leads (one from paid search)."""
    article_to_visit("renewal", title="续费指南")
    article_to_visit("saas-renewal", kind="whitepaper", title="白皮书")
    paid = Lead(email="a@example.cn", first_channel="paid_search", created_at=MONDAY)
    organic = Lead(
        email="b@example.cn", first_channel="organic_search", created_at=MONDAY + timedelta(days=7)
    )
    db.session.add_all([paid, organic])
    db.session.flush()
    # Week 1
    visit("v1", ["/help/renewal", "/library/saas-renewal"], at=MONDAY, channel="paid_search", lead_id=paid.id)
    record(
        "form_view",
        visitor_id="v1",
        lead_id=paid.id,
        path="/library/saas-renewal",
        value="whitepaper",
        at=MONDAY,
    )
    record(
        "form_submit",
        lead_id=paid.id,
        path="/library/saas-renewal",
        value="whitepaper",
        channel="paid_search",
        landing="/help/renewal",
        at=MONDAY + timedelta(minutes=5),
    )
    visit("v2", ["/help/renewal"], at=MONDAY + timedelta(days=1))
    visit("v3", ["/library/saas-renewal"], at=MONDAY + timedelta(days=2), channel="social")
    record(
        "stage_change", lead_id=paid.id, value="new>mql", channel="paid_search", at=MONDAY + timedelta(days=3)
    )
    # Week 2
    week2 = MONDAY + timedelta(days=7)
    visit("v4", ["/library/saas-renewal", "/help/renewal", "/help/"], at=week2, lead_id=organic.id)
    record("form_view", visitor_id="v4", path="/library/saas-renewal", value="whitepaper", at=week2)
    record(
        "form_submit",
        lead_id=organic.id,
        path="/library/saas-renewal",
        value="whitepaper",
        channel="organic_search",
        landing="/library/saas-renewal",
        at=week2 + timedelta(minutes=1),
    )
    visit("v5", ["/help/"], at=week2 + timedelta(days=1))
    record(
        "stage_change", lead_id=paid.id, value="mql>sql", channel="paid_search", at=week2 + timedelta(days=2)
    )
    record(
        "stage_change",
        lead_id=organic.id,
        value="new>mql",
        channel="organic_search",
        at=week2 + timedelta(days=2),
    )
    db.session.commit()


MONDAY = datetime(2026, 11, 2, 10, 0)  # a Monday


def visit(visitor, pages, *, at, channel="organic_search", lead_id=None):
    """A visit's page views: the first is the landing page."""
    for seq, path in enumerate(pages, start=1):
        record(
            "page_view",
            visitor_id=visitor,
            lead_id=lead_id,
            path=path,
            channel=channel,
            visit_seq=min(seq, 3),
            landing=pages[0],
            at=at + timedelta(minutes=seq),
        )
