"""Enrolment: who may join a sequence, and joining it, one lead or many (a download, a
form, an import, the lead admin, a pasted list). A lead is in a sequence once; joining
again starts a new round.

Each public function commits unless its docstring says it only adds to the session.
"""

import re
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from core.extensions import db
from core.ids import parse_id
from core.schema import upsert_insert
from gated.models import Lead
from nurture import scheduling
from nurture.exits import EXIT_STAGES
from nurture.models import Enrollment, Sequence, normalise_email
from nurture.suppression import is_suppressed


def enrollment_refusal(lead: Lead, sequence: Sequence) -> str | None:
    """Why the lead may not join the sequence: "no_steps", "inactive" (draft or archived),
    "consent" (no consent to marketing mail), "no_email" (known by mobile number only:
    sequences send mail), "stage" (with sales: SQL or customer) or "suppressed"; None
    when it may. The same rules hold for every trigger: download,
    form, import --sequence and manual (a pasted list of leads too)."""
    if not sequence.steps:
        return "no_steps"
    if sequence.status not in ("active", "paused"):
        return "inactive"
    if not lead.marketing_consent:
        return "consent"
    if not lead.email:
        return "no_email"
    if lead.stage in EXIT_STAGES:
        return "stage"
    if is_suppressed(lead.email):
        return "suppressed"
    return None


def enrollment_of(lead: Lead, sequence: Sequence) -> Enrollment | None:
    """The lead's enrollment in the sequence (there is one at most), or None."""
    return db.session.scalar(
        select(Enrollment).where(Enrollment.lead_id == lead.id, Enrollment.sequence_id == sequence.id)
    )


def add_enrollment(
    lead: Lead, sequence: Sequence, *, now: datetime, source: str, asset_id: int | None = None, reenroll=False
) -> Enrollment | None:
    """Add (not commit) the lead's enrollment. A lead is in a sequence once: an existing
    enrollment is left alone unless `reenroll`, which starts it again from step one in a
    new round (so the unique key lets the mails be sent again). None when the lead is
    already in, or refused (enrollment_refusal's reason is logged)."""
    refusal = enrollment_refusal(lead, sequence)
    if refusal is not None:
        current_app.logger.info("lead %s not enrolled in %s: %s", lead.id, sequence.slug, refusal)
        return None
    enrollment = enrollment_of(lead, sequence)
    if enrollment is not None and not reenroll:
        return None
    start = {
        "status": "active",
        "exit_reason": "",
        "position": 0,
        "enrolled_at": now,
        "ended_at": None,
        "source": source[:40],
        "asset_id": asset_id,
        "next_send_at": scheduling.due_at(sequence, sequence.steps[0], enrolled_at=now, previous_at=now),
    }
    if enrollment is None:
        # An INSERT that does nothing on the (lead, sequence) key: a double click, or a
        # download enrolling the same lead at the same moment, must not be an error.
        statement = (
            upsert_insert(db.session.get_bind(), Enrollment.__table__)
            .values(lead_id=lead.id, sequence_id=sequence.id, round=1, **start)
            .on_conflict_do_nothing(index_elements=["lead_id", "sequence_id"])
            .returning(Enrollment.__table__.c.id)
        )
        enrollment_id = db.session.scalar(statement)
        return db.session.get(Enrollment, enrollment_id) if enrollment_id is not None else None
    enrollment.round += 1
    for name, value in start.items():
        setattr(enrollment, name, value)
    return enrollment


def enroll(lead_ids, sequence_id: int, *, now: datetime, source: str = "manual", reenroll=False) -> int:
    """Enroll one lead or many by id (the lead admin's selection). Returns how many
    were enrolled; leads already in, suppressed, or unknown are skipped."""
    sequence = db.get_or_404(Sequence, sequence_id)
    count = 0
    for lead in db.session.scalars(select(Lead).where(Lead.id.in_(list(lead_ids)))):
        if add_enrollment(lead, sequence, now=now, source=source, reenroll=reenroll):
            count += 1
    db.session.commit()
    return count


def sequences_triggered(*, asset_id: int | None, form: str | None) -> list[Sequence]:
    """Active (or paused) sequences a submission enrolls into: those triggered by the
    asset's slug or by the form, and the one the white paper names in front matter."""
    from content.models import Article
    from gated.models import Asset

    clauses = []
    if form:
        clauses.append((Sequence.trigger_kind == "form") & (Sequence.trigger_value == form))
    if asset_id:
        asset = db.session.get(Asset, asset_id)
        if asset is not None:
            clauses.append((Sequence.trigger_kind == "asset") & (Sequence.trigger_value == asset.slug))
            if asset.article_id:
                named = db.session.scalar(select(Article.sequence_slug).where(Article.id == asset.article_id))
                if named:
                    clauses.append(Sequence.slug == named)
    if not clauses:
        return []
    condition = clauses[0]
    for clause in clauses[1:]:
        condition = condition | clause
    return list(
        db.session.scalars(select(Sequence).where(condition, Sequence.status.in_(("active", "paused"))))
    )


def enroll_listed(text: str, sequence_id: int, *, now: datetime) -> tuple[int, list[str]]:
    """Enroll the leads a marketer pasted (emails or lead numbers). Returns (enrolled,
    entries that match no lead)."""
    entries = [entry for entry in re.split(r"[\s,;]+", text or "") if entry]
    # A number no lead can have (too big for an id) is reported as not found, like any other.
    ids = {parse_id(entry) for entry in entries if entry.isdecimal()} - {None}
    emails = {normalise_email(entry) for entry in entries if not entry.isdecimal()}
    found = (
        dict(
            db.session.execute(
                select(func.lower(Lead.email), Lead.id).where(func.lower(Lead.email).in_(emails))
            ).all()
        )
        if emails
        else {}
    )
    known_ids = set(db.session.scalars(select(Lead.id).where(Lead.id.in_(ids)))) if ids else set()
    unknown = [
        entry
        for entry in entries
        if (entry.isdecimal() and parse_id(entry) not in known_ids)
        or (not entry.isdecimal() and normalise_email(entry) not in found)
    ]
    count = enroll(known_ids | set(found.values()), sequence_id, now=now, source="manual")
    return count, unknown
