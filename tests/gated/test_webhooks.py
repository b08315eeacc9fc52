"""The hand-off webhook against a real local HTTP receiver: signed JSON, retries with
backoff while the receiver fails, never blocking the form."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.timeutil import utcnow
from gated.capture import RequestMeta, capture_lead
from gated.models import WebhookDelivery
from gated.stages import change_stage
from gated.webhooks import backoff, deliver_due_webhooks
from tests.conftest import WEBHOOK_SECRET as SECRET
from tests.conftest import free_port

pytestmark = pytest.mark.usefixtures("app")


def test_new_leads_and_stage_changes_are_delivered_signed(receiver):
    now = utcnow()
    capture = capture_lead(
        "newsletter",
        {"email": "a@b.com", "consent": "y", "utm_source": "weibo"},
        request_meta=RequestMeta(),
        now=now,
    )
    assert receiver.requests == []  # the form never waits on the receiver
    change_stage(capture.lead.id, "sql", now=now)
    assert deliver_due_webhooks(now) == {"delivered": 2, "failed": 0, "gave_up": 0}
    events = []
    for headers, body in receiver.requests:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Lodestar-Signature"] == expected
        payload = json.loads(body)
        assert headers["X-Lodestar-Event"] == payload["event"]
        events.append(payload)
    assert [e["event"] for e in events] == ["lead.created", "lead.stage_changed"]
    assert events[0]["lead"]["email"] == "a@b.com" and events[0]["lead"]["first_channel"] == "social"
    assert (events[1]["old_stage"], events[1]["new_stage"]) == ("new", "sql")
    assert deliver_due_webhooks(now) == {"delivered": 0, "failed": 0, "gave_up": 0}


def test_failures_are_retried_with_backoff_then_given_up(receiver, app):
    now = utcnow()
    capture_lead("newsletter", {"email": "a@b.com", "consent": "y"}, request_meta=RequestMeta(), now=now)
    receiver.fail_next = 2
    assert deliver_due_webhooks(now)["failed"] == 1
    delivery = db.session.scalar(select(WebhookDelivery))
    assert (
        delivery.attempts == 1
        and delivery.next_attempt_at == now + backoff(1)
        and "503" in delivery.last_error
    )
    assert deliver_due_webhooks(now)["failed"] == 0  # not due yet
    later = now + backoff(1)
    assert deliver_due_webhooks(later)["failed"] == 1
    assert deliver_due_webhooks(later + backoff(2)) == {"delivered": 1, "failed": 0, "gave_up": 0}
    assert len(receiver.requests) == 3
    assert backoff(1) < backoff(2) < backoff(3) and backoff(30) == timedelta(hours=6)

    app.config["LEAD_WEBHOOK_MAX_ATTEMPTS"] = 1
    try:
        capture_lead("newsletter", {"email": "c@d.com", "consent": "y"}, request_meta=RequestMeta(), now=now)
        receiver.fail_next = 1
        assert deliver_due_webhooks(now)["gave_up"] == 1
    finally:
        app.config["LEAD_WEBHOOK_MAX_ATTEMPTS"] = 8


def test_an_unreachable_receiver_never_fails_the_form(receiver, app):
    app.config["LEAD_WEBHOOK_URL"] = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens
    now = utcnow()
    capture_lead("newsletter", {"email": "a@b.com", "consent": "y"}, request_meta=RequestMeta(), now=now)
    assert deliver_due_webhooks(now)["failed"] == 1
    assert "refused" in db.session.scalar(select(WebhookDelivery.last_error)).lower()


def test_healthz_reports_the_backlog(make_app):
    configured = make_app(LEAD_WEBHOOK_URL="http://127.0.0.1:9/hook")
    with configured.app_context():
        capture_lead(
            "newsletter", {"email": "h@b.com", "consent": "y"}, request_meta=RequestMeta(), now=utcnow()
        )
    body = configured.test_client().get("/healthz").get_json()
    assert body["checks"]["lead_webhook"] == {"ok": True, "pending": 1, "gave_up": 0}


def test_erasure_is_passed_on_without_personal_data(receiver):
    from gated import privacy

    now = utcnow()
    capture = capture_lead(
        "newsletter", {"email": "a@b.com", "consent": "y"}, request_meta=RequestMeta(), now=now
    )
    privacy.erase_lead("a@b.com")
    rows = db.session.scalars(select(WebhookDelivery)).all()
    assert [row.event for row in rows] == ["lead.erased"]  # the queued lead.created went with the person
    assert "a@b.com" not in json.dumps(rows[0].payload)
    assert deliver_due_webhooks(utcnow())["delivered"] == 1
    assert json.loads(receiver.requests[0][1])["lead"] == {"id": capture.lead.id}


def test_the_nurture_worker_delivers_due_webhooks(receiver, runner):
    capture_lead("newsletter", {"email": "w@b.com", "consent": "y"}, request_meta=RequestMeta(), now=utcnow())
    result = runner.invoke(args=["nurture", "tick"])
    assert result.exit_code == 0, result.output
    assert [json.loads(body)["event"] for _headers, body in receiver.requests] == ["lead.created"]
    assert db.session.scalar(select(WebhookDelivery.delivered_at)) is not None
