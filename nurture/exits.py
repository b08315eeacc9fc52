"""Ending enrollments: a lead leaves one sequence or all of them (removed by a marketer,
handed to sales, suppressed, the sequence's topic left), and an archived sequence ends
all of its own; and the ends on the lead page's timeline."""

from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select, update

from core.extensions import db
from nurture.labels import nurture_label
from nurture.models import Enrollment, Sequence

# A lead handed to sales (SQL) or won is no longer nurtured: it leaves, and never joins.
EXIT_STAGES = ("sql", "customer")


def exit_where(condition, reason: str, now: datetime) -> int:
    """End (not commit) the active enrollments `condition` selects; how many."""
    result = db.session.execute(
        update(Enrollment)
        .where(condition, Enrollment.status == "active")
        .values(status="exited", exit_reason=reason, ended_at=now, next_send_at=None)
    )
    return result.rowcount


def exit_lead(
    lead_id: int, reason: str, *, now: datetime, sequence_id: int | None = None, commit=True
) -> int:
    """End the lead's active enrollments (all, or one sequence's: manual removal)."""
    condition = Enrollment.lead_id == lead_id
    if sequence_id is not None:
        condition = condition & (Enrollment.sequence_id == sequence_id)
    count = exit_where(condition, reason, now)
    if commit:
        db.session.commit()
    return count


def lead_timeline(lead_id: int) -> list[dict]:
    """The lead's ended enrollments for the lead page: which sequence, and why in words."""
    rows = db.session.execute(
        select(Enrollment.ended_at, Enrollment.exit_reason, Sequence.id, Sequence.name)
        .join(Sequence, Sequence.id == Enrollment.sequence_id)
        .where(Enrollment.lead_id == lead_id, Enrollment.status == "exited", Enrollment.ended_at.is_not(None))
    ).all()
    return [
        {
            "at": ended_at,
            "kind": "sequence_left",
            "label": nurture_label("event", "sequence_left"),
            "text": _("%(sequence)s (%(reason)s)", sequence=name, reason=nurture_label("exit", reason)),
            "url": url_for("nurture_admin.sequence", sequence_id=sequence_id),
        }
        for ended_at, reason, sequence_id, name in rows
    ]
