"""Transactional mail end to end: gated's real double opt-in confirmation, delivered by
a real tick, unsubscribed from with its own List-Unsubscribe one-click POST; a mail
asked for a lead without an address is a failed message the admin sees."""

from datetime import timedelta

import pytest
from flask import current_app

from core.extensions import db
from core.timeutil import utcnow
from gated import signals
from gated.models import Lead
from nurture import stats
from nurture.models import Enrollment, Message, Suppression, email_hash
from tests.factories import make_whitepaper
from tests.nurture.conftest import MONDAY_10_SHANGHAI, make_lead, make_sequence, tick

pytestmark = pytest.mark.usefixtures("app")
NOW = MONDAY_10_SHANGHAI


def one_click_path(mail) -> str:
    https_url = str(mail["List-Unsubscribe"]).split(",")[0].strip().strip("<>")
    return https_url.removeprefix("http://localhost")


def test_one_click_unsubscribe_from_the_double_opt_in_confirmation(app, client, smtp_sink, monkeypatch):
    from gated.capture import RequestMeta, capture_lead

    monkeypatch.setitem(app.config, "DOUBLE_OPT_IN", True)
    make_sequence(slug="whitepaper-followup")
    _, asset = make_whitepaper(sequence_slug="whitepaper-followup")
    with current_app.test_request_context(base_url="http://localhost"):
        capture_lead(
            "whitepaper",
            {"email": "reader@example.com", "name": "韩梅梅", "consent": "on"},
            asset=asset,
            request_meta=RequestMeta(),
            now=NOW,
        )
    assert Enrollment.query.count() == 0  # not before the lead confirms
    now = utcnow()  # gated queued the mails on the real clock
    assert tick(now)["sent"] == 2
    mails = smtp_sink.wait_for(2)
    [confirmation] = [mail for mail in mails if "/confirm/" in mail.get_body(("plain",)).get_content()]
    assert confirmation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    confirm_path = (
        confirmation.get_body(("plain",)).get_content().split("http://localhost/confirm/")[1].split()[0]
    )

    response = client.post(one_click_path(confirmation), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204
    assert Suppression.query.one().email_hash == email_hash("reader@example.com")
    assert Lead.query.one().marketing_consent is False

    # Confirming afterwards (a late click) enrolls nobody; nothing more is ever sent.
    assert client.post(f"/confirm/{confirm_path}").status_code == 200
    assert Enrollment.query.count() == 0
    for days in range(0, 10):
        tick(now + timedelta(days=days, minutes=1))
    assert len(smtp_sink.wait_for(3, timeout=0.5)) == 2
    assert Message.query.filter_by(status="sent").count() == 2


@pytest.mark.parametrize("lead_exists", [True, False])
def test_a_mail_for_a_lead_without_an_address_is_a_failure_the_admin_sees(login_as, smtp_sink, lead_exists):
    lead = make_lead("")
    lead_id = lead.id if lead_exists else lead.id + 1000
    signals.mail_requested.send(
        current_app._get_current_object(),
        lead_id=lead_id,
        template="gated/email/download_link",
        context={"download_url": "http://localhost/download/x", "asset_title": "白皮书", "valid_days": 7},
    )
    db.session.commit()
    message = Message.query.one()
    assert (message.status, message.kind, message.template) == (
        "failed",
        "transactional",
        "gated/email/download_link",
    )
    assert message.error.startswith("no email address")
    assert message.lead_id == (lead.id if lead_exists else None)
    assert tick(NOW)["sent"] == 0 and smtp_sink.wait_for(1, timeout=0.3) == []
    assert Message.query.one().status == "failed"
    assert stats.mail_status(NOW)["failed"] == 1
    marketer = login_as("marketer")
    assert "没有邮箱地址" in marketer.get("/admin/nurture/queue").get_data(as_text=True)  # translated
    log = marketer.get("/admin/nurture/messages?status=failed").get_data(as_text=True)
    assert f"/admin/nurture/messages/{message.id}" in log
    assert "没有邮箱地址" in marketer.get(f"/admin/nurture/messages/{message.id}").get_data(as_text=True)
