"""Public endpoints: open pixel, click redirect, unsubscribe page, provider webhook."""

import pytest

from core import tokens
from core.extensions import db
from nurture import mailqueue
from nurture.models import Message, Suppression
from tests.nurture.conftest import MONDAY_10_SHANGHAI, TEST_MAIL, make_lead

pytestmark = pytest.mark.usefixtures("app")


def sent_message(email="lead@example.com"):
    lead = make_lead(email)
    message = mailqueue.add_mail(
        to=lead.email, template=TEST_MAIL, context={}, lead_id=lead.id, now=MONDAY_10_SHANGHAI
    )
    message.status = "sent"
    db.session.commit()
    return message


def test_open_pixel_records_first_open_and_count(client):
    message = sent_message()
    token = tokens.sign("open", message.id)
    for _ in range(2):
        response = client.get(f"/t/o/{token}")
        assert response.status_code == 200 and response.mimetype == "image/gif"
    message = db.session.get(Message, message.id)
    assert message.open_count == 2 and message.opened_at is not None


def test_click_redirects_and_records(client):
    message = sent_message()
    response = client.get(f"/t/c/{tokens.sign('click', [message.id, 'https://example.com/x?a=1&b=2'])}")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://example.com/x?a=1&b=2"
    message = db.session.get(Message, message.id)
    assert message.click_count == 1 and message.clicked_at and message.opened_at


@pytest.mark.parametrize("purpose", ["open", "click"])
def test_tampered_tokens_are_refused_and_never_redirect(client, purpose):
    message = sent_message()
    payload = message.id if purpose == "open" else [message.id, "https://example.com/"]
    token = tokens.sign(purpose, payload)
    forged = (
        token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    )  # not the padding bits of the last character
    response = client.get(f"/t/{purpose[0]}/{forged}")
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert db.session.get(Message, message.id).click_count == 0


def test_a_token_for_another_purpose_is_refused(client):
    message = sent_message()
    response = client.get(f"/t/c/{tokens.sign('unsubscribe', [message.id, 'https://evil.example/'])}")
    assert response.status_code == 400 and "Location" not in response.headers


def test_only_http_targets_are_redirected(client):
    message = sent_message()
    response = client.get(f"/t/c/{tokens.sign('click', [message.id, 'javascript:alert(1)'])}")
    assert response.status_code == 400 and "Location" not in response.headers


def test_unsubscribe_page_confirms_then_unsubscribes(make_app):
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    with csrf_app.app_context():
        message = sent_message("reader@example.com")
        token = tokens.sign("unsubscribe", message.id)
        client = csrf_app.test_client()
        page = client.get(f"/u/{token}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "r***@example.com" in html and "reader@" not in html
        assert Suppression.query.count() == 0  # a GET (a link scanner) changes nothing
        assert client.post(f"/u/{token}", data={}).status_code == 400  # no CSRF token
        csrf_token = html.split('name="csrf_token" value="')[1].split('"')[0]
        done = client.post(f"/u/{token}", data={"csrf_token": csrf_token})
        assert done.status_code == 200
        assert Suppression.query.one().reason == "unsubscribed"
        # One-click from a provider needs no CSRF token, and twice is harmless.
        assert client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 204
        assert Suppression.query.count() == 1


def test_unsubscribe_with_a_bad_token(client):
    assert client.get("/u/not-a-token").status_code == 400
    assert client.post("/u/not-a-token", data={"List-Unsubscribe": "One-Click"}).status_code == 400
    assert Suppression.query.count() == 0


def test_unsubscribe_for_an_erased_message_still_answers(client):
    response = client.get(f"/u/{tokens.sign('unsubscribe', 999999)}")
    assert response.status_code == 200


def test_mail_events_webhook(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_EVENTS_TOKEN", "s3cret-token")
    make_lead("gone@example.com")
    events = {
        "events": [
            {"type": "bounce", "email": "gone@example.com", "detail": "550 mailbox"},
            {"type": "complaint", "email": "angry@example.com"},
        ]
    }
    assert client.post("/api/mail/events", json=events).status_code == 401
    assert (
        client.post("/api/mail/events", json=events, headers={"Authorization": "Bearer wrong"}).status_code
        == 401
    )
    auth = {"Authorization": "Bearer s3cret-token"}
    assert client.post("/api/mail/events", json={"events": [{"type": "x"}]}, headers=auth).status_code == 400
    assert client.post("/api/mail/events", data="not json", headers=auth).status_code == 400
    response = client.post("/api/mail/events", json=events, headers=auth)
    assert response.status_code == 200 and response.get_json() == {"recorded": 2}
    assert sorted(s.reason for s in Suppression.query.all()) == ["bounced", "complained"]


def test_mail_events_webhook_is_off_without_a_token(client):
    response = client.post(
        "/api/mail/events",
        json={"type": "bounce", "email": "a@example.com"},
        headers={"Authorization": "Bearer "},
    )
    assert response.status_code == 401


def test_public_posts_are_rate_limited(make_app):
    limited = make_app(RATELIMIT_ENABLED=True, UNSUBSCRIBE_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    codes = [client.post("/u/bad", data={"List-Unsubscribe": "One-Click"}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]
