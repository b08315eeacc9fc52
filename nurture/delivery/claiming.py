"""Claiming: due messages, and those of a crashed worker whose lease ran out, are taken
by one worker with a lease on the real clock, and read back as plain objects with what
rendering them needs.

A claim is an UPDATE guarded by the row's state, behind FOR UPDATE SKIP LOCKED on
PostgreSQL (SQLite has one writer at a time), marking the rows with this claim's token
(nurture.delivery states the rules).
"""

import time
import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import and_, bindparam, case, func, select, update

from core.extensions import db
from core.timeutil import utcnow
from gated.models import Lead
from nurture.models import Enrollment, Message, Sequence, Step, Topic

# A batch stops sending once this share of its lease is gone; the rest is given back.
LEASE_SAFETY = 0.25
# How often a claim picks again after other workers took every row it picked; each lost
# race means another worker has a batch, so a few are enough for many workers.
CLAIM_RACES = 10
ENROLLMENTS = Enrollment.__table__
MESSAGES = Message.__table__


def _skip_locked(query):
    if db.engine.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def _lease_expired(clock: datetime):
    return and_(Message.status == "sending", Message.lease_until < clock)


def _due(now: datetime):
    return and_(Message.status == "queued", Message.next_attempt_at <= now)


def _still_claimable(now: datetime, clock: datetime):
    """The claim's recheck of the rows it selected: due, or leased to a worker whose
    lease ran out. A CASE, which no index can answer, so both databases look the batch
    up by id: with an OR of the two, SQLite (which has no statistics) read every due
    row through ix_messages_claim instead (75-100 ms at 100,000 due)."""
    return case(
        (MESSAGES.c.status == "queued", MESSAGES.c.next_attempt_at <= now),
        (MESSAGES.c.status == "sending", MESSAGES.c.lease_until < clock),
        else_=False,
    )


def _lease_clock() -> datetime:
    """The time leases are on: PostgreSQL's clock (UTC), which every host's workers
    share, so a host whose clock runs ahead cannot take rows early; SQLite is on this
    host."""
    if db.engine.dialect.name == "postgresql":
        return db.session.scalar(select(func.timezone("UTC", func.statement_timestamp())))
    return utcnow()


def claim(now: datetime, *, limit: int, worker: str, lease_seconds: int) -> list[SimpleNamespace]:
    """Claim up to `limit` messages due at `now` with a lease of `lease_seconds` on the
    real clock; commits. A crashed worker's rows whose lease ran out come first, then
    queued ones; the batch is sent transactional first. Each job carries `lease_ends`
    (time.monotonic()): past it, the batch must stop sending."""
    if limit <= 0:
        return []
    # The lease's own clock, read before anything else: `now` is when mail counts as
    # due (`tick --now` may set it ahead, a long pass leaves it behind), while a lease
    # must run out only when the real time has passed, or a second worker would take
    # rows the first is still sending.
    lease_ends = time.monotonic() + lease_seconds * (1 - LEASE_SAFETY)
    clock = _lease_clock()
    for _race in range(CLAIM_RACES):
        ids = _claimable(now, clock, limit)
        if not ids:
            db.session.commit()
            return []
        token = f"{worker}:{uuid.uuid4().hex[:12]}"[:120]
        db.session.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id.in_(ids), _still_claimable(now, clock))
            .values(
                status="sending",
                claimed_by=token,
                lease_until=clock + timedelta(seconds=lease_seconds),
                attempts=MESSAGES.c.attempts + 1,
            )
        )
        db.session.commit()
        rows = db.session.connection().execute(_CLAIMED, {"ids": ids, "token": token}).mappings().all()
        db.session.commit()
        if rows:
            return [_job(row, lease_ends) for row in rows]
        # Every row picked was claimed by another worker between the select and the
        # update (SQLite, which has no SKIP LOCKED: workers started together all pick the
        # same first rows). Pick again: an empty batch tells the tick nothing is due, and
        # it would stop while mail waits.
    return []


def _claimable(now: datetime, clock: datetime, limit: int) -> list[int]:
    """The ids of up to `limit` claimable messages, in the order they go.

    Two selects rather than one with OR: each walks ix_messages_claim (status,
    priority, next_attempt_at) in order and stops after the batch, where the OR of both
    made PostgreSQL read and sort every due row (137 ms at 100,000 due, against 0.8 ms)."""
    # Up to a batch from each branch, then the batch by priority and, within a priority,
    # crashed workers' rows first: a batch's worth of expired nurture rows must not keep
    # a queued download link waiting for the next batch.
    candidates = []
    for order, branch in enumerate((_lease_expired(clock), _due(now))):
        query = (
            select(Message.priority, Message.next_attempt_at, Message.id)
            .where(branch)
            .order_by(Message.priority, Message.next_attempt_at, Message.id)
            .limit(limit)
        )
        candidates += [
            (priority, order, due or datetime.min, message_id)
            for priority, due, message_id in db.session.execute(_skip_locked(query))
        ]
    return [candidate[-1] for candidate in sorted(candidates)[:limit]]


# What rendering a claimed message needs, read as plain rows in one query (building ORM
# objects for a batch cost more than sending it).
_GROUPS = {
    "lead": (Lead.__table__, ("id", "email", "name", "company", "job_title", "role")),
    "step": (Step.__table__, ("id", "position", "subject", "body")),
    "sequence": (Sequence.__table__, ("id", "locale", "status")),
    "enrollment": (ENROLLMENTS, ("id", "status", "exit_reason", "asset_id", "round")),
    "topic": (Topic.__table__, ("id", "slug", "name")),
}
_MESSAGE_COLUMNS = (
    "id",
    "kind",
    "claimed_by",
    "attempts",
    "to_address",
    "template",
    "context",
    "round",
    "message_id",
)
_CLAIMED = (
    select(
        *(MESSAGES.c[name] for name in _MESSAGE_COLUMNS),
        *(
            table.c[name].label(f"{group}_{name}")
            for group, (table, names) in _GROUPS.items()
            for name in names
        ),
    )
    .select_from(
        MESSAGES.outerjoin(Lead.__table__, Lead.__table__.c.id == MESSAGES.c.lead_id)
        .outerjoin(Step.__table__, Step.__table__.c.id == MESSAGES.c.step_id)
        .outerjoin(Sequence.__table__, Sequence.__table__.c.id == MESSAGES.c.sequence_id)
        .outerjoin(ENROLLMENTS, ENROLLMENTS.c.id == MESSAGES.c.enrollment_id)
        .outerjoin(Topic.__table__, Topic.__table__.c.id == MESSAGES.c.topic_id)
    )
    # By id first (the rows this claim tried to take), then the token (those it got): a
    # filter on the token alone was a scan that PostgreSQL, its statistics behind after
    # a burst of new mail, joined in a nested loop (34 ms a batch instead of 2).
    .where(
        MESSAGES.c.id.in_(bindparam("ids", expanding=True)),
        MESSAGES.c.claimed_by == bindparam("token"),
        MESSAGES.c.status == "sending",
    )
    .order_by(MESSAGES.c.priority, MESSAGES.c.id)
)


def _job(row, lease_ends: float) -> SimpleNamespace:
    """A claimed message as a plain object (the worker commits after every mail, and
    ORM objects would reload themselves each time)."""
    job = SimpleNamespace(
        lease_ends=lease_ends,
        **{name: row[name] for name in _MESSAGE_COLUMNS},
    )
    for group, (_table, names) in _GROUPS.items():
        values = {name: row[f"{group}_{name}"] for name in names}
        setattr(job, group, SimpleNamespace(**values) if values["id"] is not None else None)
    if job.lead is not None:
        job.lead.first_name = Lead.first_name.fget(job.lead)
    return job
