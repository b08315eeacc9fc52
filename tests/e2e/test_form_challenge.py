"""Lead forms in a real browser with the proof-of-work on (FORM_CHALLENGE's default): a
person whose browser autofills the form and who clicks at once gets the white paper and
becomes a lead with its mail queued; a bot that fills the honeypot becomes nothing; a
person without JavaScript confirms on one extra page and gets the white paper too."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from content.models import Article
from core.extensions import db
from gated.models import BlockedSubmission, HeldSubmission, Lead
from nurture.models import Message
from tests.e2e.helpers import publish_whitepaper

pytestmark = pytest.mark.e2e
PDF_BYTES = b"%PDF-1.4\n% challenge white paper\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
LANDING = "/library/e2e-challenge"


@pytest.fixture
def published(live_app):
    """The white paper, and the check as shipped: proof-of-work, a 3-second fill time."""
    live_app.config.update(FORM_CHALLENGE="auto", FORM_MIN_FILL_SECONDS=3)
    with live_app.app_context():
        if db.session.scalar(select(Article.id).where(Article.slug == "e2e-challenge")) is None:
            publish_whitepaper("e2e-challenge", "挑战白皮书", PDF_BYTES, filename="挑战白皮书.pdf")
        db.session.remove()


def autofill(page, email: str) -> None:
    """What an autofilling browser does: every field at once, then the button."""
    page.goto(LANDING)
    for label, value in (("工作邮箱", email), ("姓名", "周琳"), ("公司", "远景科技"), ("职位", "CIO")):
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="获取白皮书").click()


def stored(live_app, email: str):
    with live_app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.email == email))
        messages = (
            []
            if lead is None
            else db.session.scalars(select(Message.template).where(Message.lead_id == lead.id)).all()
        )
        held = db.session.scalars(select(HeldSubmission.reason).where(HeldSubmission.email == email)).all()
        blocked = db.session.scalars(select(BlockedSubmission.reason)).all()
        db.session.remove()
    return lead, messages, held, blocked


def test_a_person_who_autofills_gets_the_white_paper_and_becomes_a_lead(live_app, page, published):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    autofill(page, "zhou.lin@yuanjing.example")
    page.wait_for_url("**/library/e2e-challenge/thanks?t=*")
    assert page.get_by_role("link", name="下载白皮书").is_visible()
    lead, messages, held, _ = stored(live_app, "zhou.lin@yuanjing.example")
    assert lead is not None and lead.company == "远景科技"
    assert "gated/email/download_link" in messages and held == []
    assert errors == []  # no script or Content-Security-Policy error on the way


def test_a_bot_that_fills_the_honeypot_gets_no_lead(live_app, page, published):
    page.goto(LANDING)
    page.get_by_label("工作邮箱").fill("bot@spam.example")
    page.evaluate("document.getElementById('website').value = 'http://spam.example'")
    page.get_by_role("button", name="获取白皮书").click()
    page.wait_for_url("**/library/e2e-challenge/thanks")
    lead, messages, held, blocked = stored(live_app, "bot@spam.example")
    assert lead is None and messages == [] and held == [] and "honeypot" in blocked


def test_a_person_without_javascript_confirms_once_and_gets_the_white_paper(
    live_app, browser, live_server, published
):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    autofill(page, "no.script@yuanjing.example")
    assert page.get_by_role("heading", level=1).inner_text() == "请确认您是真人"
    assert stored(live_app, "no.script@yuanjing.example")[0] is None
    page.get_by_role("button", name="我是真人，提交").click()
    page.wait_for_url("**/library/e2e-challenge/thanks?t=*")
    assert page.get_by_role("link", name="下载白皮书").is_visible()
    lead, messages, held, _ = stored(live_app, "no.script@yuanjing.example")
    # Without JavaScript the form has no start time (it comes from /forms/start).
    assert lead is not None and "gated/email/download_link" in messages and held == ["no_start"]
    context.close()


def test_the_form_fetches_its_start_time_when_first_focused(page, published):
    page.goto(LANDING)
    started = page.locator("#f-started")
    assert started.input_value() == ""  # the page is the same for every visitor
    page.get_by_label("工作邮箱").focus()
    expect(started).not_to_have_value("")
    assert started.input_value().count(".") >= 1  # a signed token
