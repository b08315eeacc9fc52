"""A person's rights over their data (GDPR / PIPL): access (export as JSON), erasure,
anonymisation, and the retention purge of raw submission details.

Erasure tells the other packages first (lead_erased, inside the transaction) so nurture
deletes its rows and keeps a suppression hash; then every gated row of the person goes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from core.extensions import db
from core.timeutil import utcnow
from gated import signals, webhooks
from gated.identity import normalise_phone
from gated.models import (
    BlockedSubmission,
    Consent,
    Download,
    HeldSubmission,
    Lead,
    LeadMerge,
    PhoneCode,
    Submission,
    WebhookDelivery,
)
from gated.validation import normalise_email


def _iso(value):
    return value.isoformat() + "Z" if isinstance(value, datetime) else value


def _row(obj, skip=()) -> dict:
    return {c.key: _iso(getattr(obj, c.key)) for c in obj.__table__.columns if c.key not in skip}


def _identity(typed: str) -> tuple[str, str] | None:
    """("email" or "phone", the normalised value) of an address or a number as typed."""
    try:
        return "email", normalise_email(typed)
    except ValueError:
        pass
    try:
        number = normalise_phone(typed, region=current_app.config["PHONE_REGION"], mobile_only=False)
    except ValueError:
        return None
    return ("phone", number) if number else None


def find_lead(email: str) -> Lead | None:
    """The lead of an address or a mobile number as typed (normalised first); None if
    unknown or invalid."""
    found = _identity(email)
    if found is None:
        return None
    column = getattr(Lead, found[0])
    return db.session.scalar(select(Lead).where(column == found[1], column != ""))


def export_person(lead_id: int) -> dict:
    """Everything gated holds about one person, for an access request."""
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        return {}
    by_lead = lambda model: db.session.scalars(  # noqa: E731
        select(model).where(model.lead_id == lead_id).order_by(model.id)
    ).all()
    return {
        "lead": _row(lead),
        "tags": lead.tags,
        "submissions": [_row(s) for s in by_lead(Submission)],
        "consents": [_row(c) for c in by_lead(Consent)],
        "downloads": [_row(d) for d in by_lead(Download)],
        "held_submissions": [
            _row(h)
            for h in db.session.scalars(
                select(HeldSubmission)
                .where(HeldSubmission.email.in_([value for value in (lead.email, lead.phone) if value]))
                .order_by(HeldSubmission.id)
            )
        ],
    }


def _erase(lead: Lead) -> None:
    signals.lead_erased.send(
        current_app._get_current_object(), lead_id=lead.id, email=lead.email, phone=lead.phone
    )
    for model in (Consent, Download, Submission, WebhookDelivery):
        db.session.execute(delete(model).where(model.lead_id == lead.id))
    for value in (lead.email, lead.phone):
        if value:
            _erase_held(value)
    if lead.phone:
        db.session.execute(delete(PhoneCode).where(PhoneCode.phone == lead.phone))
    webhooks.enqueue_erased(lead.id, now=utcnow())
    _forget_merges(lead.id)
    db.session.delete(lead)


def _forget_merges(lead_id: int) -> None:
    """The merge logs of the person: their snapshots hold the merged lead's whole row."""
    db.session.execute(
        delete(LeadMerge).where((LeadMerge.lead_id == lead_id) | (LeadMerge.merged_id == lead_id))
    )


def _erase_held(email: str) -> int:
    """Submissions of the person held as automated (kept whole until released)."""
    return db.session.execute(delete(HeldSubmission).where(HeldSubmission.email == email)).rowcount


def erase_lead(email: str) -> bool:
    """Erase a person everywhere (other packages through lead_erased), held submissions
    included. False if nothing of them was found."""
    lead = find_lead(email)
    try:
        if lead is None:
            found = _identity(email)
            if found is None:
                return False
            held = _erase_held(found[1])
            db.session.commit()
            return held > 0
        _erase(lead)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return True


def erase_leads(lead_ids: Iterable[int]) -> int:
    """Bulk erase (e.g. a filtered list in the admin), in one transaction."""
    count = 0
    try:
        for lead in db.session.scalars(select(Lead).where(Lead.id.in_(list(lead_ids)))).all():
            _erase(lead)
            count += 1
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return count


def anonymise_lead(lead_id: int, *, now: datetime) -> Lead | None:
    """Keep the counts (submissions, downloads, channel, stage) and drop the person: the
    identity fields, raw form contents, addresses and consent proofs' IP go. Nurture is
    told through lead_erased, as for an erase."""
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        return None
    try:
        signals.lead_erased.send(
            current_app._get_current_object(), lead_id=lead.id, email=lead.email, phone=lead.phone
        )
        if lead.phone:
            db.session.execute(delete(PhoneCode).where(PhoneCode.phone == lead.phone))
        _forget_merges(lead.id)
        lead.email = f"anonymised-{lead.id}@anonymised.invalid"
        for name in ("name", "company", "job_title", "phone", "first_referrer", "last_referrer"):
            setattr(lead, name, "")
        lead.marketing_consent = False
        lead.updated_at = now
        db.session.execute(
            update(Submission)
            .where(Submission.lead_id == lead.id)
            .values(fields={}, ip=None, user_agent=None, referrer="")
        )
        db.session.execute(update(Consent).where(Consent.lead_id == lead.id).values(ip=None, user_agent=None))
        db.session.execute(update(Download).where(Download.lead_id == lead.id).values(ip=None))
        # Delivered rows too: their payloads hold the person.
        db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.lead_id == lead.id))
        webhooks.enqueue_erased(lead.id, now=now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return lead


def purge_submission_details(*, now: datetime) -> dict:
    """Drop IP and user agent of submissions and downloads older than
    SUBMISSION_RETENTION_DAYS, and spam counts older than that too; held submissions go
    whole after HELD_SUBMISSION_DAYS."""
    cutoff = now - timedelta(days=current_app.config["SUBMISSION_RETENTION_DAYS"])
    submissions = db.session.execute(
        update(Submission)
        .where(
            Submission.created_at < cutoff,
            (Submission.ip.is_not(None)) | (Submission.user_agent.is_not(None)),
        )
        .values(ip=None, user_agent=None)
    ).rowcount
    downloads = db.session.execute(
        update(Download).where(Download.created_at < cutoff, Download.ip.is_not(None)).values(ip=None)
    ).rowcount
    blocked = db.session.execute(
        delete(BlockedSubmission).where(BlockedSubmission.created_at < cutoff)
    ).rowcount
    held_cutoff = now - timedelta(days=current_app.config["HELD_SUBMISSION_DAYS"])
    held = db.session.execute(delete(HeldSubmission).where(HeldSubmission.created_at < held_cutoff)).rowcount
    db.session.commit()
    return {"submissions": submissions, "downloads": downloads, "blocked": blocked, "held": held}
