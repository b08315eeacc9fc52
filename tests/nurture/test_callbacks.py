"""What mail providers send back: bounces and complaints for internationalised domains,
and callbacks that arrive in bulk from a few shared addresses, which rate limits must
not drop."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import tokens
from core.extensions import db
from nurture import enrolment, mailqueue, suppression
from nurture.models import Enrollment, Message, Suppression, email_hash, normalise_email
from tests.nurture.conftest import MONDAY_10_SHANGHAI, TEST_MAIL, make_lead, make_sequence, tick

pytestmark = pytest.mark.usefixtures("app")

NOW = MONDAY_10_SHANGHAI
EVENTS_TOKEN = "provider-events-token"


def sent_message(email: str) -> Message:
    lead = make_lead(email)
    message = mailqueue.add_mail(to=lead.email, template=TEST_MAIL, context={}, lead_id=lead.id, now=NOW)
    message.status = "sent"
    db.session.commit()
    return message


def suppressed(email: str) -> bool:
    db.session.expire_all()
    return (
        db.session.scalar(select(Suppression.id).where(Suppression.email_hash == email_hash(email)))
        is not None
    )


def test_a_punycode_domain_is_compared_in_its_unicode_form():
    assert normalise_email(" Lead@XN--FSQU00A.XN--FIQS8S ") == "lead@例子.中国"
    assert email_hash("lead@xn--fsqu00a.xn--fiqs8s") == email_hash("lead@例子.中国")
    assert normalise_email("Reader@Example.COM") == "reader@example.com"
    # Not valid punycode: kept as it came rather than refused or mangled.
    assert normalise_email("a@xn--bad.com") == "a@xn--bad.com"
    assert normalise_email("a@xn--fiqs8s..") == "a@xn--fiqs8s.."


def test_a_complaint_for_the_ascii_form_of_a_unicode_domain_stops_the_sequence(
    app, client, smtp_sink, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_EVENTS_TOKEN", EVENTS_TOKEN)
    sequence = make_sequence(slug="idn")
    lead = make_lead("lead@例子.中国")
    enrolment.enroll([lead.id], sequence.id, now=NOW)
    assert tick(NOW)["sent"] == 1
    (recipient,) = smtp_sink.envelopes[0].rcpt_tos
    assert recipient == "lead@xn--fsqu00a.xn--fiqs8s"  # what the provider will report

    response = client.post(
        "/api/mail/events",
        json={"type": "complaint", "email": recipient},
        headers={"Authorization": f"Bearer {EVENTS_TOKEN}"},
    )
    assert response.status_code == 200
    assert suppression.is_suppressed(lead.email)
    assert db.session.scalar(select(Enrollment.exit_reason)) == "complained"
    assert db.session.scalar(select(Message.bounced_at)) is not None  # counted on its step
    assert tick(NOW + timedelta(days=3))["sent"] == 0
    assert len(smtp_sink.envelopes) == 1


def test_the_provider_is_never_rate_limited_and_a_bad_token_is(make_app):
    limited = make_app(
        RATELIMIT_ENABLED=True, PUBLIC_POST_RATE_LIMIT="3 per minute", MAIL_EVENTS_TOKEN=EVENTS_TOKEN
    )
    client = limited.test_client()
    addresses = [f"bounce{i}@example.com" for i in range(8)]
    codes = [
        client.post(
            "/api/mail/events",
            json={"type": "bounce", "email": address},
            headers={"Authorization": f"Bearer {EVENTS_TOKEN}"},
        ).status_code
        for address in addresses
    ]
    assert codes == [200] * 8
    assert all(suppressed(address) for address in addresses)

    forged = [
        client.post(
            "/api/mail/events",
            json={"type": "bounce", "email": "victim@example.com"},
            headers={"Authorization": "Bearer guess"},
        ).status_code
        for _ in range(4)
    ]
    assert forged == [401, 401, 401, 429]
    assert not suppressed("victim@example.com")


def test_one_click_unsubscribes_from_one_address_each_spend_their_own_budget(make_app):
    limited = make_app(RATELIMIT_ENABLED=True, UNSUBSCRIBE_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    one_click = {"List-Unsubscribe": "One-Click"}
    addresses = [f"reader{i}@example.com" for i in range(6)]
    paths = [f"/u/{tokens.sign('unsubscribe', sent_message(address).id)}" for address in addresses]

    assert [client.post(path, data=one_click).status_code for path in paths] == [204] * 6
    assert all(suppressed(address) for address in addresses)
    # One link hammered still runs out; its confirm page never does.
    assert [client.post(paths[0], data=one_click).status_code for _ in range(2)] == [204, 429]
    assert {client.get(paths[0]).status_code for _ in range(4)} == {200}
    # A forged token is no new budget: those count against the sender's address.
    forged = [client.post(f"/u/forged-{i}", data=one_click).status_code for i in range(3)]
    assert forged == [400, 400, 429]
