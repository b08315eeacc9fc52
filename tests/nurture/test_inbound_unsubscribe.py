"""The mailto of List-Unsubscribe: a mail to a delivered message's own address, through
the real inbound SMTP server or piped to `flask nurture inbound-mail`, unsubscribes the
recipient at once; a forged address changes nothing and is logged."""

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from core.extensions import db
from nurture import enrolment, inbound, suppression
from nurture.models import Enrollment, Message
from tests.conftest import free_port
from tests.nurture.conftest import MONDAY_10_SHANGHAI, make_lead, make_sequence, tick

pytestmark = pytest.mark.usefixtures("app")
NOW = MONDAY_10_SHANGHAI


@pytest.fixture
def inbound_server(app):
    port = free_port()
    controller = inbound.serve(app, host="127.0.0.1", port=port)
    yield port
    controller.stop()


def delivered_mailto(smtp_sink, email="lead@example.com"):
    """Enroll a lead in a two-step sequence, deliver step one, and return the mailto
    address its List-Unsubscribe names."""
    sequence = make_sequence()
    lead = make_lead(email)
    enrolment.enroll([lead.id], sequence.id, now=NOW)
    assert tick(NOW)["sent"] == 1
    [mail] = smtp_sink.wait_for(1)
    _https, mailto = [part.strip().strip("<>") for part in str(mail["List-Unsubscribe"]).split(",")]
    assert mailto.startswith("mailto:unsubscribe+")
    return lead, mailto.removeprefix("mailto:").partition("?")[0]


def unsubscribe_mail(to: str, sender="lead@example.com") -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, "unsubscribe"
    mail.set_content("unsubscribe")
    return mail


def assert_unsubscribed(lead):
    db.session.expire_all()
    assert suppression.is_suppressed(lead.email)
    assert db.session.scalar(select(Enrollment.status).where(Enrollment.lead_id == lead.id)) == "exited"
    assert db.session.scalar(select(Message.unsubscribed_at)) is not None


def test_mail_to_the_inbound_server_unsubscribes_and_nothing_more_is_sent(smtp_sink, inbound_server):
    lead, address = delivered_mailto(smtp_sink)
    assert address.endswith("@lodestar.example") and len(address.partition("@")[0]) <= 64
    with smtplib.SMTP("127.0.0.1", inbound_server) as smtp:
        smtp.send_message(unsubscribe_mail(address))
    assert_unsubscribed(lead)
    smtp_sink.clear()
    # Step two would be due two days later: it is not sent.
    counts = tick(NOW + timedelta(days=2, minutes=1))
    assert counts["sent"] == 0 and smtp_sink.messages == []


def test_the_inbound_server_refuses_addresses_that_are_not_the_mailbox(inbound_server):
    with (
        smtplib.SMTP("127.0.0.1", inbound_server) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        smtp.send_message(unsubscribe_mail("someone@lodestar.example"))
    assert refused.value.recipients["someone@lodestar.example"][0] == 550


def test_a_forged_address_changes_nothing_and_is_logged(smtp_sink, inbound_server, caplog):
    lead, address = delivered_mailto(smtp_sink)
    local, _at, domain = address.partition("@")
    number, _dash, signature = local.removeprefix("unsubscribe+").partition("-")
    forged = [
        f"unsubscribe+{number}-{'0' * len(signature)}@{domain}",  # a made-up signature
        f"unsubscribe+{int(number) + 1}-{signature}@{domain}",  # another message's number
    ]
    with (
        caplog.at_level(logging.WARNING, logger="nurture.inbound"),
        smtplib.SMTP("127.0.0.1", inbound_server) as smtp,
    ):
        for address in forged:
            smtp.send_message(unsubscribe_mail(address))
    db.session.expire_all()
    assert not suppression.is_suppressed(lead.email)
    assert db.session.scalar(select(Enrollment.status).where(Enrollment.lead_id == lead.id)) == "active"
    assert sum("signature does not match" in record.getMessage() for record in caplog.records) == 2


def test_a_mail_piped_from_the_mta_unsubscribes(smtp_sink, runner):
    lead, address = delivered_mailto(smtp_sink)
    # An MTA that rewrote To keeps the original in Delivered-To; case may be folded.
    mail = unsubscribe_mail("Unsubscribe <unsubscribe@lodestar.example>")
    mail["Delivered-To"] = address.upper()
    result = runner.invoke(args=["nurture", "inbound-mail"], input=mail.as_bytes())
    assert result.exit_code == 0, result.output
    assert f"{address.upper()}: unsubscribed" in result.output
    assert_unsubscribed(lead)


def test_a_piped_forgery_exits_zero_and_changes_nothing(smtp_sink, runner):
    lead, address = delivered_mailto(smtp_sink)
    tampered = address.replace("-", "-f", 1)
    result = runner.invoke(args=["nurture", "inbound-mail"], input=unsubscribe_mail(tampered).as_bytes())
    assert result.exit_code == 0
    assert f"{tampered}: forged" in result.output
    db.session.expire_all()
    assert not suppression.is_suppressed(lead.email)


def test_the_signature_depends_on_the_secret(app):
    address = inbound.unsubscribe_address(7, "unsubscribe@lodestar.example")
    assert inbound.message_of(address, "unsubscribe@lodestar.example") == 7
    original = app.config["SECRET_KEY"]
    try:
        app.config["SECRET_KEY"] = "another-secret-key-that-is-long-enough-000"
        assert inbound.message_of(address, "unsubscribe@lodestar.example") is None
    finally:
        app.config["SECRET_KEY"] = original
