"""Recording events. Every other part of insights reads what `record` writes.

Page views come in batches from the buffer (insights.tracking); forms, downloads, stage
changes and mail events come from the other packages' signals and are stored in the
transaction of the thing itself.
"""

from datetime import datetime

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import case, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from core.extensions import db
from core.privacy import tracking_refused
from core.timeutil import utcnow
from gated.labels import label
from insights.labels import insights_label
from insights.models import EVENT_KINDS, VALUE_KINDS, Event
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
    events = [Event(data=None, ref_id=None, **row) for row in rows]
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


def _stitch_this_browser(lead_id: int) -> None:
    """The requesting browser's anonymous history joins the lead (a tracked visitor only)."""
    from insights import tracking

    visitor = tracking.visitor_id() if has_request_context() and not tracking_refused() else None
    if visitor:
        stitch(visitor, lead_id)


# -- receivers -------------------------------------------------------------------------


def on_lead_captured(lead_id, submission_id, form, proven=False, **extra) -> None:
    """A form submission (not the double opt-in confirmation of one already counted):
    the form_submit event, and the visitor's history joins the lead when the browser is
    proven to be the person's (`proven`: a new lead, the lead's own cookie, the opt-in
    confirmed). Anyone can type a known address: their page views must not become
    that lead's score."""
    from gated.models import Submission
    from insights import tracking

    path = visitor = landing = ""
    seq = 0
    if has_request_context():
        if request.endpoint == "gated.confirm":
            _stitch_this_browser(lead_id)
            return
        path = request.path
        visitor = tracking.visitor_id() if not tracking_refused() else None
        seq, _channel, landing = tracking.read_visit()
    submission = db.session.get(Submission, submission_id) if submission_id else None
    record(
        "form_submit",
        lead_id=lead_id,
        visitor_id=visitor or None,
        path=path,
        ref_id=submission_id,
        value=form,
        channel=submission.channel if submission is not None else "",
        landing=landing if seq else "",
        at=submission.created_at if submission is not None else None,
    )
    # Stitched on every proven form, even when the lead cookie already names this lead:
    # views made just before the first form can still be waiting in another worker's
    # buffer and be written anonymously after that form's stitch; a later form joins them.
    if visitor and proven:
        stitch(visitor, lead_id)


def on_stage_changed(lead_id, old, new, **extra) -> None:
    """The stage_change event, at the time of the move: gated's set_stage stamps the
    lead's updated_at with it just before it signals. A hand-off or a sales decision made
    at an event's time (a replay, an import) is then in the same period as its stage
    change, which insights.stages counts as the same step."""
    from gated.models import Lead

    lead = db.session.get(Lead, lead_id)
    record(
        "stage_change",
        lead_id=lead_id,
        value=f"{old}>{new}",
        channel=lead.first_channel if lead is not None else "",
        at=lead.updated_at if lead is not None else None,
    )


def on_download(lead_id, asset_id, download_id, proven=False, **extra) -> None:
    """Sent after the download committed: the event gets its own small transaction, at
    the download's time. A link opened from the lead's mailbox proves the browser is the
    person's: its history joins the lead then."""
    from gated.models import Download, Lead

    if proven:
        _stitch_this_browser(lead_id)

    lead = db.session.get(Lead, lead_id)
    download = db.session.get(Download, download_id) if download_id else None
    record(
        "download",
        lead_id=lead_id,
        ref_id=asset_id,
        path=request.path if has_request_context() else "",
        channel=lead.last_channel if lead is not None else "",
        at=download.created_at if download is not None else None,
    )
    db.session.commit()


def on_leads_merged(lead_ids, **extra) -> None:
    """Inside the merge's transaction: the leads' events changed hands, so each score is
    recomputed from the events it holds now."""
    from insights.scoring.services import rescore_lead

    now = utcnow()
    for lead_id in lead_ids:
        rescore_lead(lead_id, now=now)


def on_lead_erased(lead_id, **extra) -> None:
    """Unlink the person's browser and search details (an erased lead's rows then go
    with the lead; an anonymised lead keeps only the counts). A form kind and a stage
    change say nothing of the person and stay, so an anonymised lead's MQL still counts
    beside its hand-off."""
    from insights.tracking import buffer

    buffer().forget_lead(lead_id)
    db.session.execute(
        update(Event)
        .where(Event.lead_id == lead_id)
        .values(visitor_id=None, data=None, value=case((Event.kind.in_(VALUE_KINDS), Event.value), else_=""))
        .execution_options(synchronize_session=False)
    )


def on_mail_event(kind: str):
    """A receiver of nurture's mail signals: the event on the mail's lead (found by the
    address when the provider reported it without a message)."""

    def receiver(sender, message_id=None, email="", **extra) -> None:
        from gated.models import Lead
        from nurture.models import Message

        lead_id = None
        if message_id is not None:
            message = db.session.get(Message, message_id)
            if message is None:
                return
            lead_id = message.lead_id
        elif email:
            lead_id = db.session.scalar(select(Lead.id).where(Lead.email == email))
        if lead_id is not None or message_id is not None:
            record(kind, lead_id=lead_id, ref_id=message_id, channel="email")

    return receiver


# -- the lead page ---------------------------------------------------------------------

TEXTS = {
    "page_view": lambda e: _("Viewed %(path)s", path=e.path),
    "search": lambda e: _("Searched for “%(q)s”", q=e.value),
    "form_view": lambda e: _("Opened the form on %(path)s", path=e.path),
    "stage_change": lambda e: _(
        "Stage: %(change)s", change=" → ".join(label("stage", stage) for stage in e.value.split(">"))
    ),
}


def timeline(lead_id: int) -> list[dict]:
    """The lead's visits, searches, forms opened and stage changes (mails, submissions
    and downloads are shown by nurture and gated), before and after the form."""
    rows = db.session.scalars(
        select(Event)
        .where(Event.lead_id == lead_id, Event.kind.in_(TIMELINE_KINDS))
        .order_by(Event.occurred_at.desc())
        .limit(TIMELINE_LIMIT)
    )
    return [
        {
            "at": event.occurred_at,
            "kind": event.kind,
            "label": insights_label("event", event.kind),
            "text": TEXTS[event.kind](event),
            "url": event.path if event.kind == "page_view" else None,
        }
        for event in rows
    ]


# Settings of the package with their defaults; each can be set as LODESTAR_<NAME>.
SETTINGS = {
    # Raw events older than this are deleted by `flask insights rollup` once their day is
    # in the daily aggregates (the dashboards read those).
    "INSIGHTS_RETENTION_DAYS": 400,
    # Page views wait in memory at most this long (0: only when a batch is full, or on
    # demand; tests flush by hand).
    "INSIGHTS_FLUSH_SECONDS": 2.0,
    "INSIGHTS_BATCH_SIZE": 500,
    "INSIGHTS_BUFFER_MAX": 20000,
    "INSIGHTS_VISITOR_COOKIE_DAYS": 365,
}


def init_app(app) -> None:
    """Settings, page-view tracking, the dashboards, `flask insights`, demo events, and
    the receivers that turn other packages' signals into events."""
    from flask_babel import lazy_gettext as _l

    from core.config import apply_defaults
    from core.hooks import add_admin_nav, add_demo_loader, add_timeline_provider
    from gated import signals as gated_signals
    from insights import admin, demo, tracking
    from insights.cli import insights_cli
    from nurture import signals as nurture_signals

    if app.testing:
        app.config.setdefault("INSIGHTS_FLUSH_SECONDS", 0.0)
    apply_defaults(app, SETTINGS)
    tracking.init_app(app)
    app.register_blueprint(admin.bp)
    app.cli.add_command(insights_cli)
    add_admin_nav(
        app, _l("Insights"), "insights_admin.dashboard", roles=admin.ROLES, order=30, group="marketing"
    )
    add_demo_loader(app, "insights", demo.load, order=60)
    add_timeline_provider(app, timeline)

    gated_signals.lead_captured.connect(_adapt(on_lead_captured), sender=app, weak=False)
    gated_signals.lead_stage_changed.connect(_adapt(on_stage_changed), sender=app, weak=False)
    gated_signals.download_recorded.connect(_adapt(on_download), sender=app, weak=False)
    gated_signals.lead_erased.connect(_adapt(on_lead_erased), sender=app, weak=False)
    gated_signals.leads_merged.connect(_adapt(on_leads_merged), sender=app, weak=False)
    nurture_signals.mail_opened.connect(on_mail_event("mail_open"), sender=app, weak=False)
    nurture_signals.mail_clicked.connect(on_mail_event("mail_click"), sender=app, weak=False)
    nurture_signals.unsubscribed.connect(on_mail_event("unsubscribe"), sender=app, weak=False)


def _adapt(receiver):
    def connected(sender, **payload):
        receiver(**payload)

    return connected
