"""The search box searches as you type, in a real browser: debounced requests to
/api/search, an accessible listbox, keyboard choice, and the opened result recorded."""

import pytest
from sqlalchemy import select

from content.search import services
from content.search.models import SearchQuery
from core.extensions import db
from core.timeutil import utcnow
from tests.content.helpers import make_article
from tests.e2e import conftest as e2e
from tests.e2e.conftest import live_app, live_server, page  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser():
    """Chromium for this module only: Playwright's sync API allows one running instance,
    and the browser tests of other packages start their own after this module."""
    reason = e2e._browser_missing_reason()
    if reason:
        if e2e.os.environ.get("LODESTAR_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=e2e.CHROMIUM, headless=True, args=e2e.CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def test_typeahead_lists_results_and_opens_one_with_the_keyboard(live_app, page):  # noqa: F811
    with live_app.app_context():
        article = make_article("用 SAML 2.0 接入 Okta。", title="配置 SSO 单点登录", slug="sso-e2e")
        make_article("发票怎么开", title="常见问题：发票", slug="invoice-e2e")
        services.get_index().sync(utcnow(), force=True)
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
    with live_app.app_context():
        for _ in range(50):
            row = db.session.scalars(select(SearchQuery)).first()
            if row is not None:
                break
            db.session.remove()
            page.wait_for_timeout(100)
        assert (row.query, row.source, row.clicked_rank) == ("單點登錄", "typeahead", 1)
