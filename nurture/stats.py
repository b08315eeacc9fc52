"""Figures for the marketer admin: per-step results, who stands where in a sequence,
the queue and its ETA, the worker warning. Read-only queries, one per table shown."""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, select

from core.extensions import db
from core.localtime import local_time
from core.timeutil import utcnow
from gated.models import Lead
from nurture.models import Enrollment, Message, Sequence, WorkerHeartbeat
from nurture.worker import registration_lease

STEP_FIGURES = (
    "queued",
    "sent",
    "opened",
    "clicked",
    "unsubscribed",
    "bounced",
    "failed",
    "skipped",
    "suppressed",
    "qualified",
)


def _count_if(condition):
    return func.sum(case((condition, 1), else_=0))


def step_figures(sequence: Sequence) -> list[dict]:
    """One row per step: queued, sent, opened, clicked, unsubscribed, bounced, failed,
    skipped, suppressed, qualified (became an MQL after it), with open and click rates
    over sent: one query for the mails' figures of every step, one for the leads waiting."""
    rows = db.session.execute(
        select(
            Message.step_id,
            _count_if(Message.status.in_(("queued", "sending"))),
            _count_if(Message.status == "sent"),
            _count_if(Message.opened_at.is_not(None)),
            _count_if(Message.clicked_at.is_not(None)),
            _count_if(Message.unsubscribed_at.is_not(None)),
            _count_if(Message.bounced_at.is_not(None)),
            _count_if(Message.status == "failed"),
            _count_if(Message.status == "skipped"),
            _count_if(Message.status == "suppressed"),
            # Leads that became MQLs (or went past) after getting the step.
            _count_if(Enrollment.qualified_at >= Message.sent_at),
        )
        .outerjoin(Enrollment, Enrollment.id == Message.enrollment_id)
        .where(Message.sequence_id == sequence.id, Message.kind == "nurture")
        .group_by(Message.step_id)
    ).all()
    by_step = {row[0]: dict(zip(STEP_FIGURES, (int(v or 0) for v in row[1:]), strict=True)) for row in rows}
    waiting = dict(
        db.session.execute(
            select(Enrollment.position, func.count())
            .where(Enrollment.sequence_id == sequence.id, Enrollment.status == "active")
            .group_by(Enrollment.position)
        ).all()
    )
    figures = []
    for step in sequence.steps:
        row = by_step.get(step.id, dict.fromkeys(STEP_FIGURES, 0))
        row["step"] = step
        row["waiting"] = waiting.get(step.position, 0)
        sent = row["sent"]
        row["open_rate"] = row["opened"] / sent if sent else None
        row["click_rate"] = row["clicked"] / sent if sent else None
        figures.append(row)
    return figures


def step_funnel(figures: list[dict]) -> tuple[list[str], list[tuple[str, list[int]]]]:
    """Each step's sent → opened → clicked → became MQL (from step_figures) as (labels,
    series) for the shared bar chart (templates/_chart.html)."""
    labels = [_("Step %(n)d", n=row["step"].position + 1) for row in figures]
    names = (("sent", _("Sent")), ("opened", _("Opened")), ("clicked", _("Clicked")))
    names += (("qualified", _("Became MQL after it")),)
    return labels, [(name, [row[key] for row in figures]) for key, name in names]


def enrollment_counts(sequence_id: int) -> dict:
    rows = db.session.execute(
        select(Enrollment.status, func.count())
        .where(Enrollment.sequence_id == sequence_id)
        .group_by(Enrollment.status)
    ).all()
    return {status: count for status, count in rows}


def enrolled_leads(sequence_id: int, *, status: str | None = None, limit: int = 200) -> list:
    """(enrollment, lead) pairs, newest first."""
    query = (
        select(Enrollment, Lead)
        .join(Lead, Lead.id == Enrollment.lead_id)
        .where(Enrollment.sequence_id == sequence_id)
        .order_by(Enrollment.enrolled_at.desc(), Enrollment.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(Enrollment.status == status)
    return db.session.execute(query).all()


def _due_messages(now: datetime) -> tuple[int, datetime | None]:
    """(how many queued messages are due at `now`, the oldest one's due time)."""
    return tuple(
        db.session.execute(
            select(func.count(), func.min(Message.next_attempt_at)).where(
                Message.status == "queued", Message.next_attempt_at <= now
            )
        ).one()
    )


def queue(now: datetime) -> dict:
    """The queue at `now`: counts by status, what is due, the send rate of the last
    hour and the ETA of what is due at that rate."""
    by_status = dict(db.session.execute(select(Message.status, func.count()).group_by(Message.status)).all())
    due, oldest = _due_messages(now)
    later = db.session.scalar(
        select(func.count()).where(Message.status == "queued", Message.next_attempt_at > now)
    )
    hour_ago = now - timedelta(hours=1)
    sent_last_hour = db.session.scalar(
        select(func.count()).where(Message.sent_at > hour_ago, Message.sent_at <= now)
    )
    rate = sent_last_hour / 3600
    limit = current_app.config["MAIL_RATE_PER_SECOND"]
    if not rate and limit:
        rate = float(limit)  # nothing sent lately: the best case the settings allow
    eta = timedelta(seconds=int(due / rate)) if due and rate else None
    return {
        "by_status": by_status,
        "due": due,
        "later": later,
        "oldest_due": oldest,
        "sent_last_hour": sent_last_hour,
        "rate_per_minute": round(rate * 60, 1),
        "eta": eta,
        "failed": db.session.scalars(
            select(Message).where(Message.status == "failed").order_by(Message.id.desc()).limit(50)
        ).all(),
        "workers": db.session.scalars(
            select(WorkerHeartbeat)
            .where(WorkerHeartbeat.last_tick_at >= utcnow() - registration_lease())
            .order_by(WorkerHeartbeat.last_tick_at.desc())
            .limit(20)
        ).all(),
    }


def due_steps(now: datetime) -> int:
    """Sequence steps due at `now` that are not messages yet: active enrollments of
    active sequences whose next send has come. Only a worker turns them into queued
    messages, so with no worker they are the mail that silently never goes."""
    return db.session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .join(Sequence, Sequence.id == Enrollment.sequence_id)
        .where(
            Enrollment.status == "active",
            Enrollment.next_send_at <= now,
            Sequence.status == "active",
        )
    )


def mail_status(now: datetime) -> dict:
    """The queue's health for the admin banner and /healthz: due mail (queued messages
    and due sequence steps), sending, failed, the oldest due message's age and the last
    heartbeat; `worker_stale` when mail is due and no worker ticked for
    NURTURE_WORKER_STALE_SECONDS (the real clock: it says whether a worker runs)."""
    due_messages, oldest = _due_messages(now)
    steps = due_steps(now)
    due = due_messages + steps
    failed = db.session.scalar(select(func.count()).where(Message.status == "failed"))
    sending = db.session.scalar(select(func.count()).where(Message.status == "sending"))
    last = db.session.scalar(select(func.max(WorkerHeartbeat.last_tick_at)))
    stale_after = timedelta(seconds=current_app.config["NURTURE_WORKER_STALE_SECONDS"])
    stale = last is None or utcnow() - last > stale_after
    return {
        "due": due,
        "due_messages": due_messages,
        "due_steps": steps,
        "sending": sending,
        "failed": failed,
        "oldest_due_seconds": int((now - oldest).total_seconds()) if oldest else 0,
        "last_heartbeat": last.isoformat() + "Z" if last else None,
        "worker_stale": bool(stale and due),
        "no_worker_seen": last is None,
    }


def health_check() -> dict:
    """/healthz's mail_queue check: not ok while due mail waits for a worker that is not running."""
    result = mail_status(utcnow())
    result["ok"] = not result["worker_stale"]
    return result


def worker_warning(now: datetime | None = None) -> str | None:
    """A sentence for the admin when mail is due and no worker has run for a while
    (a silent scheduler is the most common "my mails don't go out"); None otherwise."""
    try:
        state = mail_status(now or utcnow())
    except Exception:  # noqa: BLE001 - a banner must never break a page
        db.session.rollback()
        return None
    if not state["worker_stale"]:
        return None
    minutes = current_app.config["NURTURE_WORKER_STALE_SECONDS"] // 60
    if state["no_worker_seen"]:
        return _(
            "%(due)d mails are due but no worker has ever run. Start one with “flask nurture worker” "
            "(or run “flask nurture tick” from cron).",
            due=state["due"],
        )
    return _(
        "%(due)d mails are due and no worker has run for over %(minutes)d minutes (last: %(last)s). "
        "Check that “flask nurture worker” is running.",
        due=state["due"],
        minutes=minutes,
        last=local_time(datetime.fromisoformat(state["last_heartbeat"].removesuffix("Z"))),
    )
