"""A prospect on a phone (390×844) gets a white paper with a mobile number confirmed by an
SMS code: types the number, taps "发送验证码" twice in a hurry (one text goes out), reads
the code from the text (the sink's queue), types it and sends the form from the keyboard;
the lead is known by the number alone, and the page never scrolls sideways."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from content.models import Article
from core.extensions import db
from gated.models import Lead
from nurture.sms.models import SmsMessage
from tests.e2e.helpers import publish_whitepaper

pytestmark = pytest.mark.e2e
PDF_BYTES = b"%PDF-1.4\n% phone white paper\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
LANDING = "/library/e2e-phone"


@pytest.fixture
def phone_whitepaper(live_app):
    live_app.config.update(
        FORM_IDENTITY="phone", SMS_CODE_FORMS="auto", FORM_CHALLENGE="auto", SMS_PROVIDER="sink"
    )
    with live_app.app_context():
        if db.session.scalar(select(Article.id).where(Article.slug == "e2e-phone")) is None:
            publish_whitepaper("e2e-phone", "手机号白皮书", PDF_BYTES, filename="手机号白皮书.pdf")
        db.session.remove()
    yield
    live_app.config.update(FORM_IDENTITY="email_or_phone", SMS_CODE_FORMS="auto")


def texts(live_app) -> list[SmsMessage]:
    with live_app.app_context():
        rows = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)).all()
        db.session.expunge_all()
        db.session.remove()
    return rows


def test_a_phone_only_white_paper_with_an_sms_code(live_app, phone, phone_whitepaper, tmp_path):
    errors = []
    phone.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    phone.goto(LANDING)
    number = phone.get_by_label("手机号码")
    number.click()
    phone.keyboard.type("138 0013 8000")
    send = phone.locator(".sms-code-send")
    expect(send).to_have_text("发送验证码")
    send.click()
    send.click(force=True)  # a fast second tap sends nothing more
    expect(phone.get_by_text("验证码已发送到您的手机。")).to_be_visible(timeout=20000)
    expect(send).to_be_disabled()  # counting down before another code
    expect(send).to_contain_text("秒后重发")
    sent = texts(live_app)
    assert len(sent) == 1 and sent[0].to_number == "+8613800138000"
    code = sent[0].params["code"]
    phone.screenshot(path=str(tmp_path / "phone-code-form.png"), full_page=True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390

    phone.get_by_label("验证码").click()
    phone.keyboard.type(code)
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/library/e2e-phone/thanks?t=*", timeout=20000)
    assert phone.get_by_role("link", name="下载白皮书").is_visible()
    phone.screenshot(path=str(tmp_path / "phone-code-thanks.png"), full_page=True)
    with live_app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.phone == "+8613800138000"))
        assert lead is not None and lead.email == ""
        db.session.remove()
    assert errors == []
