"""Suppression: the addresses never mailed again (unsubscribed, bounced, complained,
erased, or by a marketer's hand), from the unsubscribe link, the unsubscribe mailbox and
the mail provider's events; suppressing an address ends its enrollments.

Each public function commits unless its docstring says it only adds to the session.
"""

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, update

from core.extensions import db
from core.schema import upsert_insert
from gated.models import Lead
from nurture import signals
from nurture.exits import exit_where
from nurture.models import Enrollment, Message, Suppression, email_hash, normalise_email


class UnknownMessage(LookupError):
    """A token that names a message we no longer have (erased, or never existed)."""


def is_suppressed(email: str) -> bool:
    return (
        db.session.scalar(select(Suppression.id).where(Suppression.email_hash == email_hash(email)))
        is not None
    )


def add_suppression(email: str, reason: str, *, now: datetime, detail: str = "") -> None:
    """Add (not commit) a suppression, and end the person's enrollments. An address
    already suppressed keeps its first suppression."""
    # An INSERT that does nothing on the hash's unique key, not a check then an insert:
    # the unsubscribe page, the provider's one-click POST and a bounce webhook may all
    # suppress the same new address at the same moment.
    db.session.execute(
        upsert_insert(db.session.get_bind(), Suppression.__table__)
        .values(email_hash=email_hash(email), reason=reason, detail=detail[:500], created_at=now)
        .on_conflict_do_nothing(index_elements=["email_hash"])
    )
    lead_id = db.session.scalar(select(Lead.id).where(func.lower(Lead.email) == normalise_email(email)))
    if lead_id is not None:
        exit_reason = {"unsubscribed": "unsubscribed", "bounced": "bounced", "complained": "complained"}
        exit_where(Enrollment.lead_id == lead_id, exit_reason.get(reason, "suppressed"), now)


def suppress(email: str, reason: str, *, now: datetime, detail: str = "") -> None:
    add_suppression(email, reason, now=now, detail=detail)
    db.session.commit()


def unsuppress(suppression_id: int) -> None:
    """Remove a manual or mistaken suppression (an admin decision)."""
    suppression = db.get_or_404(Suppression, suppression_id)
    db.session.delete(suppression)
    db.session.commit()


def message_for_token(message_id: int) -> Message:
    message = db.session.get(Message, message_id)
    if message is None:
        raise UnknownMessage(message_id)
    return message


def unsubscribe(message_id: int, *, now: datetime) -> str:
    """Unsubscribe the recipient of a message at once: suppression, exits, consent
    withdrawn. Returns the address. Doing it twice is harmless."""
    message = message_for_token(message_id)
    add_suppression(message.to_address, "unsubscribed", now=now, detail=f"message {message.id}")
    if message.unsubscribed_at is None:
        message.unsubscribed_at = now
    if message.lead_id is not None:
        db.session.execute(update(Lead).where(Lead.id == message.lead_id).values(marketing_consent=False))
    signals.unsubscribed.send(
        current_app._get_current_object(), message_id=message.id, email=message.to_address
    )
    db.session.commit()
    return message.to_address


def _mark_message(address: str, event: dict, now: datetime) -> None:
    """Put a bounce or complaint on the mail it answers (by Message-ID when the provider
    gives one, else the address's latest sent mail), for the per-step figures."""
    # lower(): a lead's address is kept as it came, and a nurture mail is addressed with it.
    query = select(Message).where(func.lower(Message.to_address) == address, Message.sent_at.is_not(None))
    if event.get("message_id"):
        query = query.where(Message.message_id == str(event["message_id"]))
    message = db.session.scalar(query.order_by(Message.sent_at.desc()).limit(1))
    if message is None:
        return
    if event["type"] == "unsubscribe":
        message.unsubscribed_at = message.unsubscribed_at or now
    else:
        message.bounced_at = message.bounced_at or now
    if event["type"] == "complaint":
        signals.mail_complained.send(current_app._get_current_object(), message_id=message.id)


EVENT_REASONS = {"bounce": "bounced", "complaint": "complained", "unsubscribe": "unsubscribed"}


def record_mail_events(payload, *, now: datetime) -> int:
    """Bounces and complaints from the mail provider: {"events": [{"type": "bounce" |
    "complaint" | "unsubscribe", "email": ..., "message_id": optional, "detail": ...}]}
    or one such event.
    Raises ValueError on a malformed payload (nothing stored)."""
    events = payload.get("events", [payload]) if isinstance(payload, dict) else None
    if not isinstance(events, list) or not events:
        raise ValueError("expected {'events': [{'type', 'email'}]}")
    for event in events:
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("type"), str)
            or event["type"] not in EVENT_REASONS
            or not isinstance(event.get("email"), str)
            or "@" not in event["email"]
        ):
            raise ValueError("each event needs type (bounce, complaint, unsubscribe) and email, as text")
        if any("\x00" in str(value) for value in event.values()):
            raise ValueError("an event's values cannot hold a NUL character")
    for event in events:
        address = normalise_email(str(event["email"]))
        add_suppression(address, EVENT_REASONS[event["type"]], now=now, detail=str(event.get("detail", "")))
        _mark_message(address, event, now)
        if event["type"] == "unsubscribe":
            signals.unsubscribed.send(current_app._get_current_object(), message_id=None, email=address)
    db.session.commit()
    return len(events)
