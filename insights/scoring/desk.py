"""The hand-off desk: the MQLs waiting for a sales decision, oldest promise first, each
with what sales need to decide (score and reasons, the last five things the prospect did,
what they wrote), and the escalation of a missed promise to the team's lead.

Every list is read with a fixed number of statements, whatever its length."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from content.public import titles_by_path
from core.extensions import db
from gated.identity import lead_name
from gated.models import Lead
from insights.models import Event
from insights.scoring.engine import PASSIVE_KINDS, write_changes
from insights.scoring.models import Handoff, ScoreChange
from insights.scoring.promise import WorkingTime

ESCALATED_TEMPLATE = "insights/email/escalated"
QUEUE_LIMIT = 100
RETURNED_DAYS = 30


@dataclass
class Waiting:
    """A hand-off on the desk: `left` is the working time to its promise (negative: missed)."""

    handoff: Handoff
    lead: Lead
    due: datetime
    left: timedelta
    reasons: list[dict] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    message: str = ""
    # The title of each article among the events' pages (sales read titles, not paths).
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def missed(self) -> bool:
        return self.left <= timedelta(0)

    @property
    def hours_minutes(self) -> tuple[int, int]:
        """The working time left (or overdue) as whole hours and minutes."""
        minutes = int(abs(self.left) // timedelta(minutes=1))
        return divmod(minutes, 60)


def promise_hours() -> float:
    return float(current_app.config["SCORING_RESPONSE_HOURS"])


# The days of working hours the desk's script is given: a page is not left open longer.
CLOCK_DAYS = 8


@dataclass(frozen=True)
class Clock:
    """The promise clock as the desk's script needs it to tick without a reload: the
    server's time the page was made at, and the working hours (naive UTC) of the coming
    days, the only time in which a promise counts down."""

    now: datetime
    windows: list[tuple[datetime, datetime]]

    @property
    def running(self) -> bool:
        return any(opens <= self.now < closes for opens, closes in self.windows)

    @property
    def served(self) -> str:
        """`now` in ISO 8601 UTC, to the millisecond."""
        return self.now.isoformat(timespec="milliseconds") + "Z"

    @property
    def intervals(self) -> str:
        """The working hours as ISO 8601 UTC intervals, space-separated (start/end)."""
        return " ".join(f"{_utc(opens)}/{_utc(closes)}" for opens, closes in self.windows)


def _utc(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def clock(*, now: datetime) -> Clock:
    """The desk's promise clock at `now`, in the site's working hours (promise.py)."""
    return Clock(now, WorkingTime.from_config(current_app.config).windows(now, CLOCK_DAYS))


def sees_the_team(user) -> bool:
    """Whether `user` is given everyone's hand-offs (marketers and admins), not only their own."""
    return user.has_role("marketer")


def pending(user, *, now: datetime, limit: int = QUEUE_LIMIT) -> list[Waiting]:
    """The hand-offs waiting for `user`'s decision (marketers and admins: everyone's),
    oldest promise first: a promise is a fixed time after its hand-off, so the oldest
    hand-off's ends first."""
    from gated.timeline import latest_messages

    query = (
        select(Handoff, Lead)
        .join(Lead, Lead.id == Handoff.lead_id)
        .where(Handoff.outcome == "pending")
        .order_by(Handoff.created_at, Handoff.id)
        .limit(limit)
    )
    if not sees_the_team(user):
        query = query.where(Handoff.owner_id == user.id)
    rows = db.session.execute(query).all()
    clock, hours = WorkingTime.from_config(current_app.config), promise_hours()
    items = []
    for handoff, lead in rows:
        due = clock.add(handoff.created_at, hours)
        items.append(Waiting(handoff, lead, due, clock.between(now, due)))
    lead_ids = [item.lead.id for item in items]
    reasons, events, messages = _reasons(lead_ids), _last_events(lead_ids), latest_messages(lead_ids)
    titles = titles_by_path(event.path for found in events.values() for event in found)
    for item in items:
        item.reasons = reasons.get(item.lead.id, [])
        item.events = events.get(item.lead.id, [])
        item.message = messages.get(item.lead.id, "")
        item.titles = titles
    return items


def _reasons(lead_ids: list[int], per_lead: int = 5) -> dict[int, list[dict]]:
    """Each lead's score by reason, largest first: one statement for every lead."""
    if not lead_ids:
        return {}
    write_changes()
    rows = db.session.execute(
        select(ScoreChange.lead_id, ScoreChange.reason, func.sum(ScoreChange.points), func.count())
        .where(ScoreChange.lead_id.in_(lead_ids))
        .group_by(ScoreChange.lead_id, ScoreChange.reason)
        .order_by(ScoreChange.lead_id, func.sum(ScoreChange.points).desc(), ScoreChange.reason)
    ).all()
    out: dict[int, list[dict]] = {}
    for lead_id, reason, points, times in rows:
        found = out.setdefault(lead_id, [])
        if len(found) < per_lead:
            found.append({"reason": reason, "points": int(points), "times": times})
    return out


def _last_events(lead_ids: list[int], per_lead: int = 5) -> dict[int, list[Event]]:
    """Each lead's last `per_lead` events of its own doing: one statement (a window)."""
    if not lead_ids:
        return {}
    ranked = (
        select(
            Event.id,
            func.row_number()
            .over(partition_by=Event.lead_id, order_by=(Event.occurred_at.desc(), Event.id.desc()))
            .label("place"),
        )
        .where(Event.lead_id.in_(lead_ids), Event.kind.not_in(PASSIVE_KINDS))
        .subquery()
    )
    events = db.session.scalars(
        select(Event)
        .join(ranked, ranked.c.id == Event.id)
        .where(ranked.c.place <= per_lead)
        .order_by(Event.lead_id, Event.occurred_at.desc(), Event.id.desc())
    ).all()
    out: dict[int, list[Event]] = {}
    for event in events:
        out.setdefault(event.lead_id, []).append(event)
    return out


def returned(*, now: datetime, days: int = RETURNED_DAYS, limit: int = 50):
    """Hand-offs sales returned in the last `days`, newest first, with their leads."""
    return db.session.execute(
        select(Handoff, Lead)
        .join(Lead, Lead.id == Handoff.lead_id)
        .where(Handoff.outcome == "rejected", Handoff.decided_at >= now - timedelta(days=days))
        .order_by(Handoff.decided_at.desc(), Handoff.id.desc())
        .limit(limit)
    ).all()


def missed(limit: int = 50):
    """Hand-offs still waiting whose missed promise was escalated, oldest first."""
    return db.session.execute(
        select(Handoff, Lead)
        .join(Lead, Lead.id == Handoff.lead_id)
        .where(Handoff.outcome == "pending", Handoff.escalated_at.is_not(None))
        .order_by(Handoff.created_at, Handoff.id)
        .limit(limit)
    ).all()


def escalation_recipients() -> list[str]:
    """SCORING_ESCALATION_EMAIL (comma-separated), else every active admin."""
    from accounts.models import User

    named = [a.strip() for a in current_app.config["SCORING_ESCALATION_EMAIL"].split(",") if a.strip()]
    if named:
        return named
    return list(
        db.session.scalars(
            select(User.email).where(User.role == "admin", User.active.is_(True)).order_by(User.id)
        )
    )


def escalate(*, now: datetime, stop=None) -> dict:
    """Mail the team's lead every hand-off whose promise ended unanswered, each exactly
    once: the UPDATE that stamps escalated_at claims the rows, so two workers (or a
    worker and `flask insights escalate`) never both mail one. The worker's background job."""
    from accounts.models import User
    from core.localtime import local_time
    from core.timeutil import utcnow
    from core.urls import absolute_url
    from nurture.mailqueue import add_mail

    hours = promise_hours()
    # A promise is never shorter than its hours on the wall clock: older hand-offs only.
    candidates = db.session.execute(
        select(Handoff.id, Handoff.created_at).where(
            Handoff.outcome == "pending",
            Handoff.escalated_at.is_(None),
            Handoff.created_at <= now - timedelta(hours=hours),
        )
    ).all()
    clock = WorkingTime.from_config(current_app.config)
    due = [handoff_id for handoff_id, made in candidates if clock.add(made, hours) <= now]
    if not due:
        return {}
    claimed = list(
        db.session.scalars(
            update(Handoff)
            .where(Handoff.id.in_(due), Handoff.escalated_at.is_(None), Handoff.outcome == "pending")
            .values(escalated_at=now)
            .returning(Handoff.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not claimed:
        db.session.commit()
        return {}
    zone, locale = current_app.config["TIMEZONE"], current_app.config["DEFAULT_LOCALE"]
    rows = db.session.execute(
        select(Handoff.created_at, Lead, User.email, User.name)
        .join(Lead, Lead.id == Handoff.lead_id)
        .outerjoin(User, User.id == Handoff.owner_id)
        .where(Handoff.id.in_(claimed))
        .order_by(Handoff.created_at)
    ).all()
    leads = [
        {
            "name": lead_name(lead),
            "company": lead.company,
            "owner": owner_name or owner_email or "",
            "handed_at": local_time(made, tz=zone, locale=locale),
            "due_at": local_time(clock.add(made, hours), tz=zone, locale=locale),
            "url": absolute_url(f"/admin/leads/{lead.id}"),
        }
        for made, lead, owner_email, owner_name in rows
    ]
    context = {
        "leads": leads,
        "hours": hours,
        "desk_url": absolute_url("/admin/scoring/handoffs"),
        "locale": locale.replace("_", "-"),
    }
    for address in escalation_recipients():
        # Sent now, even for a `--now` ahead of the clock.
        add_mail(
            to=address, template=ESCALATED_TEMPLATE, context=context, now=min(now, utcnow()), kind="staff"
        )
    db.session.commit()
    return {"escalated": len(claimed)}


def escalation_job(now: datetime, stop=None) -> dict:
    """The worker's background job: `escalate` at the worker's time."""
    return escalate(now=now)
