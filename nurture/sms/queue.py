"""The SMS queue: `add_sms` writes a row inside the caller's transaction (the code, the
lead, the queued text: stored together or not at all); `deliver_due(now)`, run by
nurture's worker on every tick, sends what is due.

Exactly-once rules, as for the hand-off webhook: a row is claimed by moving its
`next_attempt_at` past a lease in one UPDATE that only one worker can win, and the claim
is committed before the provider is called; the outcome is committed right after the
provider answers. A worker that dies between the provider's answer and that commit
leaves the row to come back after the lease (the one case a text may go twice; vendors
offer no idempotency key). A refused text (a bad number, a template the vendor does not
know) is failed at once; an outage or a timeout is retried with backoff up to
SMS_MAX_ATTEMPTS; a text past its `expires_at` (a code no longer valid) is not sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from core.extensions import db
from gated.identity import masked, normalise_phone, phone_rules
from gated.models import Lead
from gated.webhooks import backoff
from nurture.sms import providers
from nurture.sms.models import SmsMessage
from nurture.sms.texts import TEXTS

LEASE = timedelta(minutes=2)


def add_sms(
    to_number: str,
    template: str,
    params: dict,
    *,
    now: datetime,
    lead_id: int | None = None,
    secret: Iterable[str] = (),
    expires_at: datetime | None = None,
) -> SmsMessage:
    """Queue a text (not committed: the caller's transaction stores it)."""
    message = SmsMessage(
        lead_id=lead_id,
        to_number=to_number,
        template=template,
        params=dict(params),
        secret_params=list(secret),
        status="queued",
        next_attempt_at=now,
        expires_at=expires_at,
        created_at=now,
    )
    db.session.add(message)
    return message


def send_sms(
    lead_or_number,
    template: str,
    params: dict,
    *,
    now: datetime,
    secret: Iterable[str] = (),
    expires_at: datetime | None = None,
) -> SmsMessage | None:
    """Queue a transactional text to a lead's mobile number or to a number as typed
    (normalised here; ValueError with the visitor's message if it is not a mobile
    number), inside the caller's transaction: commit to send. None when there is no
    number, or the number had SMS_PER_NUMBER_PER_HOUR texts in the last hour.
    `template`: a key of nurture.sms.texts.TEXTS."""
    if template not in TEXTS:
        raise KeyError(template)
    if isinstance(lead_or_number, Lead):
        lead_id, number = lead_or_number.id, lead_or_number.phone
    else:
        lead_id, number = None, normalise_phone(str(lead_or_number), **phone_rules())
    if not number:
        return None
    cap = current_app.config["SMS_PER_NUMBER_PER_HOUR"]
    if cap and sent_lately(number, now=now) >= cap:
        return None
    return add_sms(number, template, params, now=now, lead_id=lead_id, secret=secret, expires_at=expires_at)


def sent_lately(number: str, *, now: datetime, within: timedelta = timedelta(hours=1)) -> int:
    """How many texts went (or wait to go) to the number within the last `within`."""
    return db.session.scalar(
        select(func.count())
        .select_from(SmsMessage)
        .where(SmsMessage.to_number == number, SmsMessage.created_at > now - within)
    )


def _claim(now: datetime, limit: int) -> list[int]:
    due = db.session.scalars(
        select(SmsMessage.id)
        .where(SmsMessage.status.in_(("queued", "sending")), SmsMessage.next_attempt_at <= now)
        .order_by(SmsMessage.next_attempt_at, SmsMessage.id)
        .limit(limit)
    ).all()
    claimed = []
    for message_id in due:
        won = db.session.execute(
            update(SmsMessage)
            .where(
                SmsMessage.id == message_id,
                SmsMessage.status.in_(("queued", "sending")),
                SmsMessage.next_attempt_at <= now,
            )
            .values(status="sending", next_attempt_at=now + LEASE)
        )
        if won.rowcount:
            claimed.append(message_id)
    db.session.commit()
    return claimed


def _finish(message: SmsMessage, status: str, *, error: str = "") -> None:
    message.status = status
    message.next_attempt_at = None
    message.error = error[:500]
    # A code has no business in the table once it is sent or given up.
    message.params = {
        name: ("" if name in message.secret_params else value) for name, value in message.params.items()
    }


def deliver_due(now: datetime, *, limit: int = 100) -> Counter:
    """Send the texts due at `now`. Returns counts: sms_sent, sms_retry, sms_failed."""
    config = current_app.config
    counts = Counter()
    claimed = _claim(now, limit)
    if not claimed:
        return counts
    provider = providers.from_config(config)
    for message_id in claimed:
        message = db.session.get(SmsMessage, message_id)
        if message is None:
            continue
        if message.expires_at is not None and message.expires_at <= now:
            _finish(message, "failed", error=providers.EXPIRED)
            counts["sms_failed"] += 1
            db.session.commit()
            continue
        message.attempts += 1
        message.provider = provider.name
        try:
            message.provider_id = provider.send(providers.outgoing(message, config))[:100]
        except providers.SendError as exc:
            if exc.retry and message.attempts < config["SMS_MAX_ATTEMPTS"]:
                message.status = "queued"
                message.error = str(exc)[:500]
                message.next_attempt_at = now + backoff(message.attempts)
                counts["sms_retry"] += 1
            else:
                _finish(message, "failed", error=str(exc))
                counts["sms_failed"] += 1
            # The number is partly masked; never the text (it may hold a code).
            current_app.logger.warning(
                "SMS %s to %s not sent: %s", message.id, masked(message.to_number), exc
            )
        else:
            _finish(message, "sent")
            message.sent_at = now
            counts["sms_sent"] += 1
        db.session.commit()
    return counts
