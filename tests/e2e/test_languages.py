"""A reader switches language in a real browser: from a Chinese article to its English
translation, then from an English article without one to the English list, told why;
each page in one language."""

import pytest

from core.extensions import db
from tests.factories import make_article

pytestmark = pytest.mark.e2e


def test_the_language_switch_follows_the_article(live_app, page):
    with live_app.app_context():
        make_article("中文正文", title="开始使用", slug="kai-shi-e2e", translation_key="start-e2e")
        make_article(
            "English body",
            title="Getting started",
            slug="start-e2e",
            locale="en",
            translation_key="start-e2e",
        )
        make_article("Only in English", title="English only", slug="en-only-e2e", locale="en", kind="blog")
        db.session.remove()
    page.goto("/help/kai-shi-e2e")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.locator(".lang-switch").get_by_role("link", name="English").click()
    page.wait_for_url("**/help/start-e2e")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Getting started"

    page.goto("/blog/en-only-e2e")
    page.locator(".lang-switch").get_by_role("link", name="中文").click()
    page.wait_for_url("**/blog/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "这篇文章还没有中文版。" in page.locator(".flashes").inner_text()
    assert "English only" not in page.content()
