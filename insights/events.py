"""The event store: recording events (one at a time inside the caller's transaction, or
buffered page views in batches), stitching a visitor's anonymous events to the lead,
and the lead's events for the lead page. Every other part of insights reads what
`record` writes; insights.receivers turns other packages' signals into events.
"""

from datetime import datetime

from flask import current_app, has_request_context
from flask_babel import gettext as _
from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from content.public import titles_by_path
from core.extensions import db
from core.privacy import tracking_refused
from core.timeutil import utcnow
from gated.labels import label
from insights.labels import insights_label, page_name
from insights.models import EVENT_KINDS, Event
from insights.signals import event_recorded

# How many of a lead's own events the lead page shows (the newest).
TIMELINE_LIMIT = 200
TIMELINE_KINDS = ("page_view", "search", "form_view", "stage_change")


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
    visit_seq: int = 0,
    landing: str = "",
) -> Event:
    """Add one event to the session (the caller commits) and tell the receivers.

    Runs inside the caller's transaction, so the event and what receivers add (score
    changes) are stored together with the thing that caused them, or not at all."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    # One INSERT … RETURNING instead of a unit-of-work flush: the event comes back as an
    # ORM object, which the receivers get.
    event = db.session.scalars(
        insert(Event).returning(Event),
        [
            {
                "kind": kind,
                "lead_id": lead_id,
                "visitor_id": visitor_id,
                "path": path[:500],
                "ref_id": ref_id,
                "value": value[:500],
                "channel": channel[:20],
                "data": data,
                "occurred_at": at or utcnow(),
                "visit_seq": visit_seq,
                "landing": landing[:500],
            }
        ],
    ).one()
    event_recorded.send(current_app._get_current_object(), event=event)
    return event


def _add_batch(rows: list[dict]) -> None:
    events = [Event(**({"data": None, "ref_id": None} | row)) for row in rows]
    db.session.add_all(events)
    db.session.flush()
    app = current_app._get_current_object()
    for event in events:
        event_recorded.send(app, event=event)


def store_batch(rows: list[dict]) -> int:
    """Store buffered page views in one transaction (each still sends event_recorded
    inside it). A view whose lead was erased meanwhile is stored without the lead."""
    if not rows:
        return 0
    try:
        _add_batch(rows)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        known = set(db.session.scalars(select_lead_ids({row["lead_id"] for row in rows} - {None})))
        for row in rows:
            if row["lead_id"] not in known:
                row["lead_id"] = None
        _add_batch(rows)
        db.session.commit()
    return len(rows)


def select_lead_ids(ids: set[int]):
    from gated.models import Lead

    return select(Lead.id).where(Lead.id.in_(ids or {0}))


def stitch(visitor_id: str, lead_id: int) -> int:
    """Inside the caller's transaction: the visitor's earlier anonymous events become
    the lead's (waiting page views too). Returns how many stored rows changed."""
    from insights.tracking import buffer

    buffer().assign_lead(visitor_id, lead_id)
    result = db.session.execute(
        update(Event)
        .where(Event.visitor_id == visitor_id, Event.lead_id.is_(None))
        .values(lead_id=lead_id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def stitch_this_browser(lead_id: int) -> None:
    """The requesting browser's anonymous history joins the lead (a tracked visitor only)."""
    from insights import tracking

    visitor = tracking.visitor_id() if has_request_context() and not tracking_refused() else None
    if visitor:
        stitch(visitor, lead_id)


# -- the lead page ---------------------------------------------------------------------

TEXTS = {
    "page_view": lambda e, title: (
        _("Viewed “%(title)s”", title=title) if title else _("Viewed %(path)s", path=e.path)
    ),
    "search": lambda e, title: _("Searched for “%(q)s”", q=e.value),
    "form_view": lambda e, title: (
        _("Opened the form on “%(title)s”", title=title)
        if title
        else _("Opened the form on %(path)s", path=e.path)
    ),
    "stage_change": lambda e, title: _(
        "Stage: %(change)s", change=" → ".join(label("stage", stage) for stage in e.value.split(">"))
    ),
}


def _named(path: str | None, titles: dict) -> str:
    """A page's name in words ("" when it has none but its path)."""
    name = page_name(path, titles)
    return "" if name == (path or "") else name


def timeline(lead_id: int) -> list[dict]:
    """The lead's visits, searches, forms opened and stage changes (mails, submissions
    and downloads are shown by nurture and gated), before and after the form."""
    rows = db.session.scalars(
        select(Event)
        .where(Event.lead_id == lead_id, Event.kind.in_(TIMELINE_KINDS))
        .order_by(Event.occurred_at.desc())
        .limit(TIMELINE_LIMIT)
    ).all()
    titles = titles_by_path(event.path for event in rows if event.path)
    return [
        {
            "at": event.occurred_at,
            "kind": event.kind,
            "label": insights_label("event", event.kind),
            "text": TEXTS[event.kind](event, _named(event.path, titles)),
            "url": event.path if event.kind == "page_view" else None,
        }
        for event in rows
    ]
