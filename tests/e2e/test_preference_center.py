"""The preference page behind a mail's unsubscribe link, as a person on a phone uses it
(390 × 844, JavaScript off, the keyboard only): they leave the newsletter, keep the rest,
and the site records exactly that; the page never scrolls sideways."""

import pytest

from core import tokens
from core.extensions import db
from gated.models import Lead
from nurture import topics
from nurture.models import Message, Suppression, Topic
from tests.e2e.helpers import PHONE


@pytest.fixture(scope="module")
def mailed_link(live_app):
    """The unsubscribe link of a newsletter mail sent to a consenting lead."""
    with live_app.app_context():
        made = [
            Topic(slug="newsletter", name="新闻简报", description="每月一期，精选续费与客户成功文章。"),
            Topic(slug="events", name="活动与直播"),
            Topic(slug="product-news", name="产品动态"),
        ]
        lead = Lead(email="reader@example.com", name="韩梅梅", marketing_consent=True)
        db.session.add_all([*made, lead])
        db.session.flush()
        message = Message(kind="campaign", lead_id=lead.id, to_address=lead.email, topic_id=made[0].id)
        message.status = "sent"
        db.session.add(message)
        db.session.commit()
        link = f"/u/{tokens.sign('unsubscribe', message.id)}"
        lead_id = lead.id
        db.session.remove()
    return link, lead_id


def test_a_person_leaves_the_newsletter_on_a_phone_with_the_keyboard(
    browser, live_server, live_app, mailed_link
):
    link, lead_id = mailed_link
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        java_script_enabled=False,
    )
    page = context.new_page()
    try:
        page.goto(link)
        assert page.get_by_role("heading", name="您的邮件偏好").is_visible()
        assert "r***@example.com" in page.content()
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= inner <= PHONE["width"]
        newsletter = page.get_by_role("checkbox", name="新闻简报")
        assert newsletter.is_checked() and page.get_by_role("checkbox", name="活动与直播").is_checked()
        page.screenshot(path="/tmp/preferences-phone.png", full_page=True)
        # Keyboard only: Tab to the newsletter's box, Space to clear it, Tab to the save
        # button (past the other two topics), Enter.
        newsletter.focus()
        page.keyboard.press("Space")
        assert not newsletter.is_checked()
        for _ in range(3):
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "保存我的选择"
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.get_by_role("heading", name="偏好已保存").is_visible()
        kept = page.locator("ul.kept li").all_inner_texts()
        assert kept == ["活动与直播", "产品动态"]
        page.screenshot(path="/tmp/preferences-saved-phone.png", full_page=True)
    finally:
        context.close()
    with live_app.app_context():
        receiving = {choice.topic.slug for choice in topics.preferences(lead_id) if choice.receiving}
        assert receiving == {"events", "product-news"}
        assert Suppression.query.count() == 0
        db.session.remove()


def test_the_page_on_a_desktop_in_english(browser, live_server, mailed_link):
    link, _lead_id = mailed_link
    context = browser.new_context(
        base_url=live_server.url, locale="en", viewport={"width": 1366, "height": 900}
    )
    page = context.new_page()
    try:
        page.goto(link)
        page.screenshot(path="/tmp/preferences-desktop.png", full_page=True)
        assert page.get_by_role("button", name="Leave all marketing mail").is_visible()
    finally:
        context.close()
