"""Issue 22's "done means", end to end through real parts (Chromium, the live server, the
SMS queue and its sink provider, nurture's worker, segno's QR code):

A prospect in WeChat scans a QR code on a slide (a colleague's personal share QR, whose
PNG is checked to hold the scan URL), reads the white paper's page, leaves a mobile
number confirmed by an SMS code, opens the PDF (inline, WeChat's viewer), and sales sees
a lead credited to the colleague who shared it (lead page, leaderboard)."""

import pytest
import segno
from playwright.sync_api import expect
from sqlalchemy import select

from accounts import services as accounts
from channels import qr
from channels.models import LinkLead, ShortLink
from content.models import Article
from core.extensions import db
from core.timeutil import utcnow
from gated.models import Lead
from nurture import worker
from nurture.sms.models import SmsMessage
from tests.channels.conftest import png_facts
from tests.e2e.helpers import DESKTOP, STAFF_PASSWORD, fits, publish_whitepaper, sign_in
from tests.e2e.test_short_links import WECHAT_UA, in_wechat

pytestmark = pytest.mark.e2e
PDF_BYTES = b"%PDF-1.4\n% done-means white paper\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
NUMBER = "+8613700137000"


@pytest.fixture(scope="module")
def seeded(live_app, live_server):
    live_app.config.update(
        FORM_MIN_FILL_SECONDS=0,
        FORM_IDENTITY="phone",
        SMS_CODE_FORMS="auto",
        FORM_CHALLENGE="auto",
        SMS_PROVIDER="sink",
    )
    with live_app.app_context():
        publish_whitepaper("renewal-playbook", "续费增长手册", PDF_BYTES, filename="续费增长手册.pdf")
        accounts.create_user("sharer@example.com", role="sales", password=STAFF_PASSWORD, name="陈晓")
        accounts.create_user("marketer-dm@example.com", role="marketer", password=STAFF_PASSWORD, name="周敏")
        article_id = db.session.scalar(select(Article.id).where(Article.slug == "renewal-playbook"))
        db.session.remove()
    yield article_id
    live_app.config.update(FORM_IDENTITY="email_or_phone")


def _qr_holds(png: bytes, url: str) -> bool:
    """Whether a QR code PNG (as the share page offers it) encodes exactly `url`."""
    matrix = [list(row) for row in segno.make_qr(url, error="m", boost_error=False).matrix]
    _width, _height, pixels = png_facts(png)
    centre = qr.PNG_SCALE // 2
    modules = [
        [pixels[(y + 4) * qr.PNG_SCALE + centre][(x + 4) * qr.PNG_SCALE + centre] for x in range(len(matrix))]
        for y in range(len(matrix))
    ]
    return modules == matrix


def test_a_wechat_prospect_scans_a_colleagues_qr_and_sales_sees_the_credit(
    browser, live_app, live_server, seeded
):
    article_id = seeded
    # The colleague takes their personal QR code for the slide.
    desk = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=DESKTOP)
    sharer = desk.new_page()
    sign_in(sharer, "sharer@example.com")
    sharer.goto(f"/admin/share/{article_id}")
    personal = sharer.get_by_role("textbox", name="您的专属链接").input_value()
    png = sharer.request.get(sharer.get_by_role("link", name="下载 PNG").get_attribute("href"))
    assert png.headers["content-type"] == "image/png"
    scan_url = personal + "?qr=1"
    assert _qr_holds(png.body(), scan_url)

    # The prospect scans it inside WeChat and reads the white paper's page.
    wechat = in_wechat(browser, live_server)
    phone = wechat.new_page()
    phone.goto(scan_url)
    assert "/library/renewal-playbook?" in phone.url and "utm_source=staff" in phone.url
    expect(phone.get_by_role("heading", name="续费增长手册").first).to_be_visible()
    assert fits(phone)

    # A mobile number, confirmed by the code the SMS queue sends.
    phone.get_by_label("手机号码").click()
    phone.keyboard.type("137 0013 7000")
    phone.locator(".sms-code-send").click()
    expect(phone.get_by_text("验证码已发送到您的手机。")).to_be_visible(timeout=20000)
    with live_app.app_context():
        text = db.session.scalars(select(SmsMessage).where(SmsMessage.template == "verify_code")).one()
        code, text_id = text.params["code"], text.id
        counts = worker.tick(utcnow())  # the worker hands it to the provider (sink)
        db.session.expire_all()
        assert db.session.get(SmsMessage, text_id).status == "sent" and counts["sms_sent"] == 1
        db.session.remove()
    phone.get_by_label("验证码").click()
    phone.keyboard.type(code)
    phone.get_by_role("button", name="获取白皮书").click()
    phone.wait_for_url("**/library/renewal-playbook/thanks?t=*", timeout=20000)

    # WeChat cannot download: the PDF opens inline, with the way to the phone's browser.
    assert phone.get_by_role("heading", name="在浏览器中打开").is_visible()
    assert phone.get_by_role("button", name="把链接发到我的手机").is_visible()
    pdf = phone.request.get(
        phone.get_by_role("link", name="打开白皮书").get_attribute("href"), headers={"User-Agent": WECHAT_UA}
    )
    assert pdf.body() == PDF_BYTES and pdf.headers["content-disposition"].startswith("inline;")
    assert fits(phone)
    wechat.close()

    with live_app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.phone == NUMBER))
        link = db.session.scalar(select(ShortLink).where(ShortLink.code == personal.rsplit("/", 1)[1]))
        assert lead.email == "" and (lead.first_utm_source, lead.first_utm_medium) == ("staff", "qr")
        credit = db.session.scalar(select(LinkLead).where(LinkLead.lead_id == lead.id))
        assert credit.link_id == link.id and link.sharer_user_id is not None and link.scans == 1
        lead_id = lead.id
        db.session.remove()

    # Sales sees the lead and who shared it; the colleague leads the week's board.
    sharer.goto(f"/admin/leads/{lead_id}")
    expect(sharer.locator("main")).to_contain_text("陈晓")
    expect(sharer.get_by_role("heading", name="来源链接")).to_be_visible()
    expect(sharer.locator("main")).to_contain_text("+86 137 0013 7000")
    desk.close()
    board = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=DESKTOP)
    marketer = board.new_page()
    sign_in(marketer, "marketer-dm@example.com")
    marketer.goto("/admin/links/leaderboard")
    assert marketer.locator("#sharers tr", has_text="陈晓").locator("td.num").all_inner_texts() == ["1", "1"]
    board.close()
