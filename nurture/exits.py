"""Ending enrollments: a lead leaves one sequence or all of them (removed by a marketer,
handed to sales, suppressed), and an archived sequence ends all of its own."""

from datetime import datetime

from sqlalchemy import update

from core.extensions import db
from nurture.models import Enrollment

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
