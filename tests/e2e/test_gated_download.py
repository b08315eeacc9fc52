"""A prospect on a phone, in a real browser: fills the short form, downloads the white
paper at once, and gets the link by mail once the worker runs (through `flask nurture
tick`, the public command), with a real SMTP sink."""

import re
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.extensions import db
from tests.e2e.helpers import publish_whitepaper

pytestmark = pytest.mark.e2e
PDF_BYTES = b"%PDF-1.4\n% renewal white paper\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"


@pytest.fixture
def published(live_app):
    live_app.config["FORM_MIN_FILL_SECONDS"] = 0
    with live_app.app_context():
        publish_whitepaper(
            "e2e-renewal",
            "续费白皮书",
            PDF_BYTES,
            filename="续费白皮书.pdf",
            toc_html='<div class="toc"><ul><li><a href="#a">第一章</a></li></ul></div>',
        )
        db.session.remove()


def test_a_prospect_downloads_at_once_and_gets_the_mail(live_app, live_server, phone, published, smtp_sink):
    phone.goto("/library/e2e-renewal?utm_source=wechat&utm_medium=social")
    assert phone.get_by_role("heading", level=1).inner_text() == "续费白皮书"
    phone.get_by_label("工作邮箱").fill("Buyer@Example.COM")
    phone.get_by_label("姓名").fill("张敏")
    phone.get_by_role("button", name="获取白皮书").click()
    phone.wait_for_url("**/library/e2e-renewal/thanks?t=*")
    link = phone.get_by_role("link", name="下载白皮书")
    with phone.expect_download() as info:
        link.click()
    assert Path(info.value.path()).read_bytes() == PDF_BYTES
    assert info.value.suggested_filename == "续费白皮书.pdf"

    result = live_app.test_cli_runner().invoke(args=["nurture", "tick"])
    assert result.exit_code == 0, result.output
    (mail,) = smtp_sink.wait_for(1)
    assert mail["To"].lower() == "buyer@example.com"
    body = mail.get_body(("plain",)).get_content()
    url = re.search(r"(http://127\.0\.0\.1:\d+/download/\S+)", body).group(1)
    with urllib.request.urlopen(url) as response:
        assert response.read() == PDF_BYTES


def test_a_mistyped_number_on_a_phone_lands_on_its_message(live_app, live_server, phone):
    """The page comes back from the server with the error: on a phone the form is a
    screen below the top, so the field to correct is brought into view and focused."""
    live_app.config["FORM_MIN_FILL_SECONDS"] = 0
    with live_app.app_context():
        publish_whitepaper("e2e-typo", "续费白皮书二", PDF_BYTES)
        db.session.remove()
    phone.goto("/library/e2e-typo")
    phone.get_by_label("手机号码").fill("1381234")
    phone.get_by_role("button", name="获取白皮书").click()
    error = phone.locator("#phone-error")
    error.wait_for()
    expect(phone.get_by_label("手机号码")).to_be_focused()
    assert phone.get_by_label("手机号码").input_value() == "1381234"  # nothing typed is lost
    box = error.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= phone.viewport_size["height"]
