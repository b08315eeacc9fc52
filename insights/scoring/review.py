"""The weekly review sales and marketing hold: every lead handed over in a week (weeks
start on Monday at midnight in the site's time zone), its outcome, the time to the first
decision, and won/lost by channel and by content (the asset of the lead's first download).

Won: the lead is a customer now. Lost: sales returned it, or it is marked lost."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from core.extensions import db
from core.localtime import local_today
from core.trends import local_midnights
from gated.models import Asset, Lead, Submission
from insights.scoring.models import Handoff


@dataclass
class Reviewed:
    handoff: Handoff
    lead: Lead
    owner: str
    content: str

    @property
    def result(self) -> str:
        """won, lost, accepted (still open) or pending."""
        if self.lead.stage == "customer":
            return "won"
        if self.handoff.outcome == "rejected" or self.lead.stage == "lost":
            return "lost"
        return self.handoff.outcome

    @property
    def decision_time(self) -> timedelta | None:
        if self.handoff.decided_at is None:
            return None
        return self.handoff.decided_at - self.handoff.created_at


@dataclass
class Tally:
    """Counts of one channel or one piece of content."""

    name: str
    counts: Counter = field(default_factory=Counter)


@dataclass
class Review:
    monday: date
    start: datetime
    end: datetime
    rows: list[Reviewed]
    by_channel: list[Tally]
    by_content: list[Tally]
    totals: Counter

    @property
    def median_decision(self) -> timedelta | None:
        times = sorted(row.decision_time for row in self.rows if row.decision_time is not None)
        return times[len(times) // 2] if times else None


def week_of(text: str | None) -> date:
    """The Monday of the week `text` (an ISO date) falls in; this week's for none. A date
    that does not parse raises ValueError."""
    day = date.fromisoformat(text) if text else local_today(current_app.config["TIMEZONE"])
    return day - timedelta(days=day.weekday())


def _tallies(rows: list[Reviewed], key) -> list[Tally]:
    tallies: dict[str, Tally] = {}
    for row in rows:
        tally = tallies.setdefault(key(row), Tally(key(row)))
        tally.counts["handed"] += 1
        tally.counts[row.result] += 1
    return sorted(tallies.values(), key=lambda t: (-t.counts["handed"], t.name))


def review(monday: date) -> Review:
    """The week starting on `monday`: three statements, whatever the number of leads."""
    from accounts.models import User

    start, end = local_midnights(monday, monday, step_days=7, tz=current_app.config["TIMEZONE"])
    first_download = (
        select(Submission.lead_id, func.min(Submission.id).label("submission_id"))
        .where(Submission.asset_id.is_not(None))
        .group_by(Submission.lead_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Handoff, Lead, User.name, User.email, Asset.title)
        .join(Lead, Lead.id == Handoff.lead_id)
        .outerjoin(User, User.id == Handoff.owner_id)
        .outerjoin(first_download, first_download.c.lead_id == Lead.id)
        .outerjoin(Submission, Submission.id == first_download.c.submission_id)
        .outerjoin(Asset, Asset.id == Submission.asset_id)
        .where(Handoff.created_at >= start, Handoff.created_at < end)
        .order_by(Handoff.created_at, Handoff.id)
    ).all()
    reviewed = [
        Reviewed(handoff, lead, owner_name or (owner_email or "").split("@")[0], title or "")
        for handoff, lead, owner_name, owner_email, title in rows
    ]
    totals = Counter()
    for row in reviewed:
        totals["handed"] += 1
        totals[row.result] += 1
        totals["decided"] += row.handoff.decided_at is not None
    return Review(
        monday,
        start,
        end,
        reviewed,
        _tallies(reviewed, lambda row: row.lead.first_channel),
        _tallies(reviewed, lambda row: row.content),
        totals,
    )


def csv_rows(week: Review, *, tz: str) -> tuple[list[str], list[list]]:
    """The review as CSV header and rows: codes, ISO times with the offset (exports keep
    codes; see insights/labels.py)."""
    from core.localtime import iso_local

    header = [
        "handed_off_at",
        "lead_id",
        "email",
        "name",
        "company",
        "channel",
        "content",
        "owner",
        "outcome",
        "result",
        "reason",
        "note",
        "decided_at",
        "hours_to_decision",
    ]
    rows = [
        [
            iso_local(row.handoff.created_at, tz=tz),
            row.lead.id,
            row.lead.email,
            row.lead.name,
            row.lead.company,
            row.lead.first_channel,
            row.content,
            row.owner,
            row.handoff.outcome,
            row.result,
            row.handoff.reason,
            row.handoff.note,
            iso_local(row.handoff.decided_at, tz=tz),
            round(row.decision_time / timedelta(hours=1), 2) if row.decision_time is not None else None,
        ]
        for row in week.rows
    ]
    return header, rows
