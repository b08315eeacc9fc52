"""Receivers: other packages' signals (a form submitted, a stage changed, a download,
leads merged or erased, a mail opened, clicked or unsubscribed) become events, stored
in the transaction of the thing itself (a download's in its own, after it committed).
"""

from flask import has_request_context, request
from sqlalchemy import case, select, update

from core.extensions import db
from core.privacy import tracking_refused
from core.timeutil import utcnow
from insights.events import record, stitch, stitch_this_browser
from insights.models import VALUE_KINDS, Event


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
            stitch_this_browser(lead_id)
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
        stitch_this_browser(lead_id)

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
    from insights.scoring.engine import rescore_lead

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


def connect(app) -> None:
    """Subscribe the receivers to gated's and nurture's signals for this app."""
    from gated import signals as gated_signals
    from nurture import signals as nurture_signals

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
