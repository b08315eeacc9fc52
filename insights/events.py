"""Recording events. Every other part of insights reads what `record` writes."""

from datetime import datetime

from flask import current_app

from core.extensions import db
from core.timeutil import utcnow
from insights.models import EVENT_KINDS, Event
from insights.signals import event_recorded


def record(
    kind: str,
    *,
    lead_id: int | None = None,
    visitor_id: str | None = None,
    path: str = "",
    ref_id: int | None = None,
    value: str = "",
    channel: str = "",
    data: dict | None = None,
    at: datetime | None = None,
) -> Event:
    """Add one event to the session (the caller commits) and tell the receivers.

    Runs inside the caller's transaction, so the event and what receivers add (score
    changes) are stored together with the thing that caused them, or not at all."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    event = Event(
        kind=kind,
        lead_id=lead_id,
        visitor_id=visitor_id,
        path=path[:500],
        ref_id=ref_id,
        value=value[:500],
        channel=channel[:20],
        data=data,
        occurred_at=at or utcnow(),
    )
    db.session.add(event)
    db.session.flush()
    event_recorded.send(current_app._get_current_object(), event=event)
    return event


def init_app(app) -> None:
    """Connect the receivers that turn other packages' signals into events."""
