"""Short links and sharing in a real browser: a marketer makes a booth QR code; a prospect
in WeChat's browser (phone, MicroMessenger user agent) opens the QR's URL, reads the white
paper's page, leaves their details, opens the PDF in the viewer; the lead carries the
link's channel, campaign and owner. A colleague's personal link credits the colleague. An
ended code lands on the latest content. Screenshots at 1366×900 and 390×844 go to
LODESTAR_SHOTS_DIR when it is set (to look at them)."""

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from accounts import services as accounts
from channels.models import LinkLead, ShortLink
from core.extensions import db
from gated.models import Lead
from tests.e2e.helpers import (
    DESKTOP,
    PHONE,
    STAFF_PASSWORD,
    WECHAT_UA,
    fits,
    in_wechat,
    publish_whitepaper,
    sign_in,
)

pytestmark = pytest.mark.e2e
PDF_BYTES = b"%PDF-1.4\n% expo white paper\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"


def shot(page, name: str) -> None:
    folder = os.environ.get("LODESTAR_SHOTS_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


@pytest.fixture(scope="module")
def seeded(live_app, live_server):
    live_app.config["FORM_MIN_FILL_SECONDS"] = 0
    with live_app.app_context():
        publish_whitepaper("expo-guide", "展会获客指南", PDF_BYTES, filename="展会获客指南.pdf")
        marketer = accounts.create_user(
            "mk-links@example.com", role="marketer", password=STAFF_PASSWORD, name="周敏"
        )
        seller = accounts.create_user(
            "sales-links@example.com", role="sales", password=STAFF_PASSWORD, name="陈晓"
        )
        ids = {"marketer": marketer.id, "seller": seller.id}
        db.session.remove()
    return ids


def test_a_booth_qr_code_brings_a_wechat_lead_with_channel_campaign_and_owner(
    browser, live_app, live_server, seeded
):
    desk = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=DESKTOP)
    page = desk.new_page()
    sign_in(page, "mk-links@example.com")
    page.goto("/admin/links/new")
    page.get_by_label("页面").fill("/library/expo-guide")
    page.get_by_label("渠道").fill("booth")
    page.get_by_label("活动").fill("expo-2026")
    page.get_by_label("负责人").select_option(label="周敏")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/admin/links/\d+\?saved=1"))
    assert page.locator("svg.qr").is_visible()
    shot(page, "short-link-desktop")
    short_url = page.locator("code.short-url").inner_text()
    page.set_viewport_size(PHONE)
    page.reload()
    assert fits(page)
    shot(page, "short-link-phone")
    desk.close()

    wechat = in_wechat(browser, live_server)
    phone = wechat.new_page()
    phone.goto(short_url + "?qr=1")  # what the QR code holds
    assert "/library/expo-guide?" in phone.url and "utm_medium=qr" in phone.url
    assert fits(phone)
    phone.get_by_label("工作邮箱").fill("visitor@example.cn")
    phone.get_by_label("姓名").fill("王磊")
    phone.get_by_role("button", name="获取白皮书").click()
    phone.wait_for_url("**/library/expo-guide/thanks?t=*")
    assert phone.get_by_role("heading", name="在浏览器中打开").is_visible()
    assert phone.get_by_role("button", name="把链接发到我的邮箱").is_visible()
    assert fits(phone)
    shot(phone, "wechat-thanks-phone")
    pdf = phone.request.get(
        phone.get_by_role("link", name="打开白皮书").get_attribute("href"), headers={"User-Agent": WECHAT_UA}
    )
    assert pdf.body() == PDF_BYTES and pdf.headers["content-disposition"].startswith("inline;")
    wechat.close()

    with live_app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.email == "visitor@example.cn"))
        link = db.session.scalar(select(ShortLink).where(ShortLink.campaign == "expo-2026"))
        assert (lead.first_utm_source, lead.first_utm_campaign, lead.first_utm_medium) == (
            "booth",
            "expo-2026",
            "qr",
        )
        credit = db.session.scalar(select(LinkLead).where(LinkLead.lead_id == lead.id))
        assert credit.link_id == link.id and link.owner_id == seeded["marketer"] and link.scans == 1
        lead_id = lead.id
        db.session.remove()

    desk = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=DESKTOP)
    page = desk.new_page()
    sign_in(page, "mk-links@example.com")
    page.goto(f"/admin/leads/{lead_id}")
    assert page.get_by_role("heading", name="来源链接").is_visible()
    page.goto("/admin/links/")
    row = page.locator("tr", has_text=f"/s/{link.code}")
    assert row.locator("td.num").all_inner_texts() == ["1", "0", "1"]  # scans, clicks, leads
    shot(page, "short-links-desktop")
    desk.close()


def test_a_colleagues_personal_link_credits_the_colleague(browser, live_app, live_server, seeded):
    staff = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True
    )
    page = staff.new_page()
    sign_in(page, "sales-links@example.com")
    with live_app.app_context():
        from content.models import Article

        article_id = db.session.scalar(select(Article.id).where(Article.slug == "expo-guide"))
        db.session.remove()
    page.goto(f"/admin/share/{article_id}")
    personal = page.get_by_role("textbox", name="您的专属链接").input_value()
    assert fits(page)
    shot(page, "share-phone")

    visitor = in_wechat(browser, live_server)
    reader = visitor.new_page()
    reader.goto(personal)
    reader.get_by_label("工作邮箱").fill("friend@example.cn")
    reader.get_by_role("button", name="获取白皮书").click()
    reader.wait_for_url("**/thanks?t=*")
    visitor.close()

    page.goto("/admin/")
    panel = page.locator("section.share-home")
    assert "本周线索" in panel.inner_text()
    assert panel.locator("dd").all_inner_texts()[:2] == ["1", "1"]
    shot(page, "share-home-phone")
    staff.close()

    board = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=DESKTOP)
    page = board.new_page()
    sign_in(page, "mk-links@example.com")
    page.goto("/admin/links/leaderboard")
    assert page.locator("#sharers tr", has_text="陈晓").locator("td.num").all_inner_texts() == ["1", "1"]
    shot(page, "leaderboard-desktop")
    board.close()


def test_an_ended_code_lands_on_the_latest_content(browser, live_app, live_server, seeded):
    from datetime import timedelta

    from channels.links import save_link
    from core.timeutil import utcnow

    with live_app.app_context():
        link = save_link({"target": "/library/expo-guide", "code": "old-poster"}, now=utcnow())
        link.expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
        db.session.remove()
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=viewport)
        page = context.new_page()
        response = page.goto("/s/old-poster?qr=1")
        assert response.status == 410
        assert page.get_by_role("heading", name="此链接已结束").is_visible()
        assert page.get_by_role("link", name="阅读《展会获客指南》").is_visible()
        assert fits(page)
        shot(page, f"link-ended-{name}")
        context.close()
