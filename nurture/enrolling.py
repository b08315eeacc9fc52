"""Enrolling from the admin: one lead from its page (again, when a marketer means it),
every lead the lead list's filters select (counted before and after), or every lead the
sequence page's filter selects.

Both filtered sets come from gated's own list query, so what is enrolled is exactly what
the marketer saw listed, and both go through enrol_ids. nurture.enrolment (enroll,
enrollment_refusal) stays the one place that decides whether a lead may join
(suppressed, already in, handed to sales); this module only says why not, and leaves out
leads without consent to marketing mail.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from core.extensions import db
from core.ids import parse_id
from gated.listing import LeadFilters, lead_query
from gated.models import Lead
from nurture import enrolment
from nurture.models import Enrollment, Sequence

ENROLLABLE = ("active", "paused")
# enrolment.enroll reads the leads with one IN list; SQLite takes at most 32,766 variables.
CHUNK = 500


class Refused(ValueError):
    """An enrollment the lead admin cannot make; `reason` names why, for the message:
    sequence (unknown, draft, archived or empty), filter (none: never every lead at
    once), enrolled (already in; `enrollment` says how far), active (enroll again only
    once the lead has left or finished), consent, suppressed, stage, refused."""

    def __init__(self, reason: str, enrollment: Enrollment | None = None):
        super().__init__(reason)
        self.reason = reason
        self.enrollment = enrollment


@dataclass
class BulkOutcome:
    matched: int
    without_consent: int
    enrolled: int

    @property
    def skipped(self) -> int:
        """Consenting leads the service turned away: already in, suppressed, or sales'."""
        return self.matched - self.without_consent - self.enrolled


def enrollable_sequences() -> list[Sequence]:
    """Sequences a lead can join now: active or paused, with at least one step."""
    return list(
        db.session.scalars(
            select(Sequence)
            .where(Sequence.status.in_(ENROLLABLE), Sequence.steps.any())
            .order_by(Sequence.name, Sequence.id)
        )
    )


def lead_enrollments(lead_id: int) -> list[Enrollment]:
    """The lead's enrollments with their sequences, latest first."""
    return list(
        db.session.scalars(
            select(Enrollment)
            .where(Enrollment.lead_id == lead_id)
            .join(Sequence, Sequence.id == Enrollment.sequence_id)
            .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
        )
    )


def _sequence(sequence_id: int | None) -> Sequence:
    sequence_id = parse_id(sequence_id)  # past the column's range: no sequence, not a database error
    sequence = db.session.get(Sequence, sequence_id) if sequence_id is not None else None
    if sequence is None or sequence.status not in ENROLLABLE or not sequence.steps:
        raise Refused("sequence")
    return sequence


def enroll_lead(lead: Lead, sequence_id: int | None, *, now: datetime, again: bool = False) -> Enrollment:
    """Enroll one lead, or with `again` start a finished or exited enrollment over from
    step one. Raises Refused (nothing stored) with the reason."""
    sequence = _sequence(sequence_id)
    existing = enrolment.enrollment_of(lead, sequence)
    if existing is not None and not again:
        raise Refused("enrolled", existing)
    if existing is not None and existing.status == "active":
        raise Refused("active", existing)
    if not lead.marketing_consent:
        raise Refused("consent")
    refusal = enrolment.enrollment_refusal(lead, sequence)
    if refusal is not None:
        raise Refused(refusal if refusal in ("stage", "suppressed", "no_email") else "sequence")
    if not enrolment.enroll([lead.id], sequence.id, now=now, source="manual", reenroll=again):
        raise Refused("refused")
    return enrolment.enrollment_of(lead, sequence)


def _matching(filters: LeadFilters):
    if not filters.as_args():
        raise Refused("filter")
    return lead_query(filters).order_by(None)


def count_matching(filters: LeadFilters, sequence_id: int | None) -> tuple[Sequence, int, int]:
    """For the confirm step: (sequence, leads the filters select, of which consenting)."""
    sequence = _sequence(sequence_id)
    matching = _matching(filters).subquery()
    matched, consenting = db.session.execute(
        select(
            func.count(),
            func.count().filter(matching.c.marketing_consent.is_(True)),
        ).select_from(matching)
    ).one()
    return sequence, matched, consenting


def enroll_matching(filters: LeadFilters, sequence_id: int | None, *, now: datetime) -> BulkOutcome:
    """Enroll every consenting lead the lead list's filters select. Leads without
    consent to marketing mail are left out; the service skips the rest it must."""
    sequence = _sequence(sequence_id)
    rows = db.session.execute(
        _matching(filters).with_only_columns(Lead.id, Lead.marketing_consent).order_by(Lead.id)
    ).all()
    ids = [lead_id for lead_id, consent in rows if consent]
    enrolled = enrol_ids(ids, sequence.id, now=now)
    return BulkOutcome(matched=len(rows), without_consent=len(rows) - len(ids), enrolled=enrolled)


def enrol_ids(ids: list[int], sequence_id: int, *, now: datetime) -> int:
    """Enroll the leads by id, CHUNK at a time (each chunk commits); how many joined."""
    return sum(
        enrolment.enroll(ids[start : start + CHUNK], sequence_id, now=now, source="filter")
        for start in range(0, len(ids), CHUNK)
    )


def enroll_filtered(
    sequence_id: int,
    *,
    now: datetime,
    stage: str = "",
    source: str = "",
    since: datetime | None = None,
    segment: int | None = None,
) -> int:
    """The sequence page's filter: every consenting lead of a segment, a stage, a
    source containing a text, created on or after `since` (no filter: every consenting
    lead); returns how many joined."""
    db.get_or_404(Sequence, sequence_id)
    filters = LeadFilters(stage=stage, since=since.date() if since else None, segment=segment)
    query = lead_query(filters).where(Lead.marketing_consent.is_(True))
    if source:
        query = query.where(Lead.source.contains(source, autoescape=True))
    ids = list(db.session.scalars(query.with_only_columns(Lead.id).order_by(None).order_by(Lead.id)))
    return enrol_ids(ids, sequence_id, now=now)
