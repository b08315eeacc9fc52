"""A returning prospect in a real browser: once the download link they were mailed is
opened, the signed cookie makes the next white paper ask only for what is still unknown, and once everything is known the
download is one click; each download is one more submission of the same lead."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.extensions import db
from gated.models import Lead, Submission
from tests.e2e.helpers import open_mailed_link, publish_whitepaper

pytestmark = pytest.mark.e2e
PAPERS = {
    "e2e-return-first": ("客户成功白皮书", b"%PDF-1.4\n% first\n%%EOF\n"),
    "e2e-return-second": ("续费增长白皮书", b"%PDF-1.4\n% second\n%%EOF\n"),
    "e2e-return-third": ("定价策略白皮书", b"%PDF-1.4\n% third\n%%EOF\n"),
}


@pytest.fixture
def papers(live_app):
    live_app.config["FORM_MIN_FILL_SECONDS"] = 0
    with live_app.app_context():
        for slug, (title, data) in PAPERS.items():
            publish_whitepaper(slug, title, data)
        db.session.remove()


def download(page, slug):
    page.wait_for_url(f"**/library/{slug}/thanks?t=*")
    with page.expect_download() as info:
        page.get_by_role("link", name="下载白皮书").click()
    assert Path(info.value.path()).read_bytes() == PAPERS[slug][1]


def visible_fields(page):
    form = page.locator("form.lead-form")
    return sorted(
        form.locator("input:not([type=hidden]):not(#website):not([type=checkbox]), select").evaluate_all(
            "els => els.map(e => e.name)"
        )
    )


def test_the_form_asks_only_for_what_is_unknown_then_one_click(live_app, page, papers):
    page.goto("/library/e2e-return-first")
    assert visible_fields(page) == ["company", "email", "job_title", "name", "phone", "role"]
    page.get_by_label("工作邮箱").fill("returning@example.com")
    page.get_by_label("姓名").fill("李雷")
    page.get_by_label("公司").fill("星火科技")
    page.get_by_label("职位").fill("运营总监")
    page.locator("#consent").check()
    page.get_by_role("button", name="获取白皮书").click()
    download(page, "e2e-return-first")
    # The thank-you page's link proves nothing; the mailed one proves the address.
    page.goto("/library/e2e-return-second")
    expect(page.locator(".lead-known")).to_have_count(0)
    open_mailed_link(live_app, page)

    # Known by the cookie: greeted, and asked only for the two fields still unknown.
    page.goto("/library/e2e-return-second")
    expect(page.locator(".lead-known")).to_contain_text("欢迎回来")
    assert visible_fields(page) == ["phone", "role"]
    expect(page.locator(".form-intro")).to_have_count(1)  # a number is still asked for
    expect(page.locator("#consent")).to_have_count(0)  # consent already given
    page.get_by_label("手机").fill("13800138000")
    page.get_by_label("您在采购决策中的角色").select_option(label="我负责采购决策")
    page.get_by_role("button", name="获取白皮书").click()
    download(page, "e2e-return-second")

    # Everything known: no field at all, one button.
    page.goto("/library/e2e-return-third")
    expect(page.locator(".lead-known")).to_contain_text("欢迎回来")  # /forms/known answered
    assert visible_fields(page) == []
    expect(page.locator(".form-intro")).to_have_count(0)  # nothing left to "leave" on the page
    page.get_by_role("button", name="下载", exact=True).click()
    download(page, "e2e-return-third")

    with live_app.app_context():
        (lead,) = db.session.scalars(db.select(Lead)).all()
        assert (lead.email, lead.name, lead.company, lead.job_title) == (
            "returning@example.com",
            "李雷",
            "星火科技",
            "运营总监",
        )
        assert (lead.phone, lead.role, lead.marketing_consent) == ("+8613800138000", "decision_maker", True)
        submissions = db.session.scalars(db.select(Submission).order_by(Submission.id)).all()
        assert [s.lead_id for s in submissions] == [lead.id] * 3
        assert len({s.asset_id for s in submissions}) == 3
        db.session.remove()

    # "Not you?" forgets the visitor: the whole form again.
    page.goto("/library/e2e-return-first")
    page.get_by_role("link", name="不是您？").click()
    expect(page.locator(".lead-known")).to_have_count(0)
    assert "email" in visible_fields(page)
