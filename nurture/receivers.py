"""What nurture does when gated says something happened. Each receiver runs inside
gated's transaction: it only adds to db.session, and gated commits (or rolls back) the
submission and what is added here together."""

from flask import current_app
from sqlalchemy import delete, select, update

from core.extensions import db
from core.timeutil import utcnow
from gated.models import Lead
from nurture import enrolment, exits, mailqueue, suppression
from nurture.exits import EXIT_STAGES
from nurture.models import Enrollment, Message, Sequence

# An MQL, or a lead past it (sales can take a lead straight to SQL).
QUALIFIED_STAGES = ("mql", "sql", "customer")

# Stored in English like every message error (a server's reply, a render error); the
# admin shows these two translated (admin.message_error), as reason codes.
NO_ADDRESS = "no email address: the lead has none"
NO_LEAD = "no email address: no lead "


def on_mail_requested(sender, *, lead_id, template, context, **extra):
    """A transactional mail becomes a queued message (sent by the worker, first). One
    that cannot go (no such lead, or no address) is kept as a failed message with the
    reason, so the admin's queue and message log show it instead of a log line alone.
    Returns whether the mail was queued (not: no address, or the address's cap)."""
    lead = db.session.get(Lead, lead_id)
    now = utcnow()
    message = mailqueue.add_mail(
        to=(lead.email if lead else "") or "",
        template=template,
        context=dict(context or {}),
        lead_id=lead.id if lead else None,
        now=now,
    )
    if lead is None or not lead.email:
        current_app.logger.warning("mail %s requested for lead %s without an address", template, lead_id)
        message.status = "failed"
        message.error = NO_ADDRESS if lead else f"{NO_LEAD}{lead_id}"
    return message.status == "queued"


def on_sms_requested(
    sender, *, to_number, template, params, lead_id=None, secret=(), expires_at=None, **extra
):
    """A transactional text (a code, a link) becomes a queued SMS; whether it was queued
    (not: the number had its share of texts lately)."""
    from nurture.sms.queue import send_sms

    lead = db.session.get(Lead, lead_id) if lead_id else None
    queued = send_sms(
        lead if lead is not None and lead.phone == to_number else to_number,
        template,
        params,
        now=utcnow(),
        secret=secret,
        expires_at=expires_at,
    )
    return queued is not None


def on_lead_captured(
    sender, *, lead_id, asset_id=None, form=None, marketing_consent=False, sequence=None, **extra
):
    """Enroll the lead into the sequences its download or form triggers, and into the
    one an import names; only with consent to marketing mail."""
    if not marketing_consent:
        return
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        return
    now = utcnow()
    sequences = enrolment.sequences_triggered(asset_id=asset_id, form=form)
    if sequence:
        named = db.session.scalar(select(Sequence).where(Sequence.slug == sequence))
        if named is not None and named not in sequences:
            sequences.append(named)
    for found in sequences:
        enrolment.add_enrollment(lead, found, now=now, source=(form or "form"), asset_id=asset_id)


def on_lead_stage_changed(sender, *, lead_id, old=None, new=None, **extra):
    """A lead that qualifies is counted by the journey's figures; one handed to sales
    (SQL) or won leaves marketing sequences."""
    if new in QUALIFIED_STAGES and old not in QUALIFIED_STAGES:
        # gated's set_stage stamps updated_at with the move's time (an import's or a replay's too).
        lead = db.session.get(Lead, lead_id)
        db.session.execute(
            update(Enrollment)
            .where(Enrollment.lead_id == lead_id, Enrollment.qualified_at.is_(None))
            .values(qualified_at=(lead.updated_at if lead else None) or utcnow())
        )
    if new in EXIT_STAGES:
        exits.exit_lead(lead_id, "stage", now=utcnow(), commit=False)


def on_lead_erased(sender, *, lead_id, email, phone="", **extra):
    """Forget the person's mail, texts and enrollments; keep only the suppression hash."""
    from nurture.sms.models import SmsMessage

    db.session.execute(delete(Message).where(Message.lead_id == lead_id))
    db.session.execute(delete(Enrollment).where(Enrollment.lead_id == lead_id))
    texts = SmsMessage.lead_id == lead_id
    db.session.execute(delete(SmsMessage).where(texts | (SmsMessage.to_number == phone) if phone else texts))
    if email:
        suppression.add_suppression(email, "erased", now=utcnow())


def on_staff_mail_requested(sender, *, to, template, context, now=None, **extra):
    """A mail to staff from a package below nurture (content's weekly review reminder)."""
    mailqueue.add_mail(
        to=to, template=template, context=dict(context or {}), now=now or utcnow(), kind="staff"
    )


def connect(app):
    from core.signals import staff_mail_requested
    from gated import signals
    from nurture import form_topics

    staff_mail_requested.connect(on_staff_mail_requested, sender=app, weak=False)

    signals.mail_requested.connect(on_mail_requested, sender=app, weak=False)
    signals.sms_requested.connect(on_sms_requested, sender=app, weak=False)
    signals.lead_captured.connect(on_lead_captured, sender=app, weak=False)
    signals.lead_captured.connect(form_topics.on_lead_captured, sender=app, weak=False)
    signals.lead_stage_changed.connect(on_lead_stage_changed, sender=app, weak=False)
    signals.lead_erased.connect(on_lead_erased, sender=app, weak=False)
