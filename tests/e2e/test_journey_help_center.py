"""A customer in the help center, in a real browser: the help center's box searches as
they type (help articles only), they open an answer and say it helped, and the answer is
counted."""

import pytest
from playwright.sync_api import expect

from content.feedback import feedback_counts
from content.search.state import get_index
from core.extensions import db
from core.timeutil import utcnow
from tests.factories import make_article

pytestmark = pytest.mark.e2e


def test_search_as_you_type_then_was_this_helpful(live_app, page):
    with live_app.app_context():
        answer = make_article(
            "在「设置 → 安全」里上传身份提供方的元数据，再用测试账号登录一次。",
            title="如何配置单点登录",
            slug="e2e-help-sso",
            category="账号与安全",
        )
        make_article("导出发票的步骤。", title="如何下载发票", slug="e2e-help-invoice", category="账单")
        make_article(
            "单点登录的白皮书。", title="单点登录选型白皮书", slug="e2e-sso-paper", kind="whitepaper"
        )
        get_index().sync(utcnow(), force=True)
        answer_id, answer_url = answer.id, answer.url_path
        db.session.remove()

    page.goto("/help/")
    box = page.get_by_role("combobox", name="搜索帮助中心")
    box.fill("单点登录")
    options = page.get_by_role("option")
    expect(options.first).to_contain_text("如何配置单点登录")
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("listbox")).not_to_contain_text("选型白皮书")  # help articles only
    options.first.click()
    page.wait_for_url(f"**{answer_url}")
    expect(page.get_by_role("heading", level=1)).to_have_text("如何配置单点登录")

    feedback = page.locator("#feedback")
    expect(feedback.get_by_text("这篇文章有帮助吗？")).to_be_visible()
    feedback.get_by_role("button", name="是", exact=True).click()
    expect(feedback.get_by_role("status")).to_have_text("感谢您的反馈。")
    with live_app.app_context():
        assert feedback_counts(answer_id) == {"yes": 1, "no": 0}
        db.session.remove()
