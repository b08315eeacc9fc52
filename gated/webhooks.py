"""The hand-off webhook: each new lead and stage change POSTed as JSON to LEAD_WEBHOOK_URL,
HMAC-SHA256 signed, retried with backoff.

The form never waits on the receiver: `enqueue` only adds a row inside the lead's
transaction; `deliver_due_webhooks(now)` (the `flask leads deliver-webhooks` command, or
nurture's worker on each tick) sends what is due. Rows are claimed with a lease first,
so a crashed run's rows come back and two runs do not send the same row at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from core.extensions import db
from gated.models import Lead, WebhookDelivery

LEASE = timedelta(minutes=5)
SIGNATURE_HEADER = "X-Lodestar-Signature"
LEAD_FIELDS = (
    "id",
    "email",
    "name",
    "company",
    "job_title",
    "phone",
    "role",
    "stage",
    "score",
    "source",
    "marketing_consent",
    "first_channel",
    "first_utm_source",
    "first_utm_medium",
    "first_utm_campaign",
    "first_utm_term",
    "first_utm_content",
    "first_landing_page",
    "first_referrer",
    "last_channel",
    "last_utm_source",
    "last_utm_medium",
    "last_utm_campaign",
    "last_utm_term",
    "last_utm_content",
    "last_landing_page",
    "last_referrer",
    "created_at",
)


def lead_payload(lead: Lead) -> dict:
    out = {}
    for name in LEAD_FIELDS:
        value = getattr(lead, name)
        out[name] = value.isoformat() + "Z" if isinstance(value, datetime) else value
    return out


def enqueue(event: str, lead: Lead, *, now: datetime, extra: dict | None = None) -> WebhookDelivery | None:
    """Queue an event for the webhook (if one is set), inside the caller's transaction."""
    if not current_app.config.get("LEAD_WEBHOOK_URL"):
        return None
    db.session.flush()
    payload = {
        "event": event,
        "occurred_at": now.isoformat() + "Z",
        "lead": lead_payload(lead),
        **(extra or {}),
    }
    delivery = WebhookDelivery(
        lead_id=lead.id, event=event, payload=payload, next_attempt_at=now, created_at=now
    )
    db.session.add(delivery)
    return delivery


def enqueue_erased(lead_id: int, *, now: datetime) -> WebhookDelivery | None:
    """Tell the receiver a person was erased (GDPR art. 19): the lead id only, which the
    receiver knows from lead.created; no personal data is kept to say it."""
    if not current_app.config.get("LEAD_WEBHOOK_URL"):
        return None
    payload = {"event": "lead.erased", "occurred_at": now.isoformat() + "Z", "lead": {"id": lead_id}}
    delivery = WebhookDelivery(
        lead_id=None, event="lead.erased", payload=payload, next_attempt_at=now, created_at=now
    )
    db.session.add(delivery)
    return delivery


def signature(secret: str, body: bytes) -> str:
    """The header value receivers check: "sha256=" + hex HMAC of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: 1, 2, 4, 8 … minutes, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def _post(url: str, body: bytes, headers: dict, timeout: float) -> None:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - operator's URL
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "not 2xx", response.headers, None)


def deliver_due_webhooks(now: datetime, *, limit: int = 50) -> dict:
    """Send the webhook rows due at `now`. Returns {"delivered", "failed", "gave_up"}."""
    config = current_app.config
    counts = {"delivered": 0, "failed": 0, "gave_up": 0}
    url = config.get("LEAD_WEBHOOK_URL")
    if not url:
        return counts
    due = db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.delivered_at.is_(None), WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    ).all()
    claimed = []
    for delivery_id in due:
        # The lease: whoever moves next_attempt_at first owns the row for a while.
        result = db.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.next_attempt_at <= now,
                WebhookDelivery.delivered_at.is_(None),
            )
            .values(next_attempt_at=now + LEASE)
        )
        if result.rowcount:
            claimed.append(delivery_id)
    db.session.commit()
    secret = config.get("LEAD_WEBHOOK_SECRET") or ""
    for delivery_id in claimed:
        delivery = db.session.get(WebhookDelivery, delivery_id)
        if delivery is None:  # erased meanwhile
            continue
        body = json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Lodestar-Webhook/1",
            "X-Lodestar-Event": delivery.event,
            "X-Lodestar-Delivery": str(delivery.id),
            SIGNATURE_HEADER: signature(secret, body),
        }
        delivery.attempts += 1
        try:
            _post(url, body, headers, config["LEAD_WEBHOOK_TIMEOUT"])
        except (OSError, ValueError) as exc:
            delivery.last_error = str(exc)[:500]
            if delivery.attempts >= config["LEAD_WEBHOOK_MAX_ATTEMPTS"]:
                delivery.next_attempt_at = None
                counts["gave_up"] += 1
                current_app.logger.warning(
                    "Webhook %s gave up after %s attempts: %s", delivery.id, delivery.attempts, exc
                )
            else:
                delivery.next_attempt_at = now + backoff(delivery.attempts)
                counts["failed"] += 1
        else:
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            delivery.last_error = ""
            counts["delivered"] += 1
        db.session.commit()
    return counts


def health() -> dict:
    """For /healthz: the backlog and the events given up. A slow or dead receiver is
    reported, not fatal (the site and the forms work without it)."""
    count = lambda *where: db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(*where))  # noqa: E731
    pending = count(WebhookDelivery.delivered_at.is_(None), WebhookDelivery.next_attempt_at.is_not(None))
    gave_up = count(WebhookDelivery.delivered_at.is_(None), WebhookDelivery.next_attempt_at.is_(None))
    return {"ok": True, "pending": pending, "gave_up": gave_up}
