"""The search box searches as you type, in a real browser: debounced requests to
/api/search, an accessible listbox, keyboard choice, and the opened result recorded."""

import time

import pytest
from sqlalchemy import select

from content.search.models import SearchQuery
from content.search.state import get_index
from core.extensions import db
from core.timeutil import utcnow
from tests.factories import make_article

pytestmark = pytest.mark.e2e


def test_typeahead_lists_results_and_opens_one_with_the_keyboard(live_app, page):
    with live_app.app_context():
        article = make_article("用 SAML 2.0 接入 Okta。", title="配置 SSO 单点登录", slug="sso-e2e")
        make_article("发票怎么开", title="常见问题：发票", slug="invoice-e2e")
        get_index().sync(utcnow(), force=True)
        url = article.url_path
        db.session.remove()
    page.goto("/search")
    box = page.get_by_role("combobox")
    box.fill("單點登錄")
    option = page.get_by_role("option").first
    option.wait_for()
    assert "配置 SSO 单点登录" in option.inner_text()
    assert box.get_attribute("aria-expanded") == "true"
    box.press("ArrowDown")
    assert option.get_attribute("aria-selected") == "true"
    box.press("Enter")
    page.wait_for_url(f"**{url}")
    # The click goes by sendBeacon as the page changes: it lands when it lands.
    deadline = time.monotonic() + 30
    with live_app.app_context():
        while (
            row := db.session.scalars(select(SearchQuery)).first()
        ) is None and time.monotonic() < deadline:
            db.session.remove()
            page.wait_for_timeout(100)
        assert row is not None, "the opened result was never recorded"
        assert (row.query, row.source, row.clicked_rank) == ("單點登錄", "typeahead", 1)
