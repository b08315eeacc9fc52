"""Materialising: every active enrollment whose step is due becomes a message row, and
the enrollment moves on to its next step (or waits for its send window or its
sequence's hourly cap, or is skipped by the step's condition).

A step becomes a message by an INSERT that does nothing on the unique (enrollment, step,
round) key, together with an UPDATE of the enrollment guarded by its position, so two
workers advancing the same enrollment cannot both win (nurture.delivery states the
rules).
"""

import logging
from collections import Counter
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.schema import upsert_insert
from gated.models import Lead
from nurture import email, scheduling
from nurture.models import Enrollment, Message, Sequence

log = logging.getLogger(__name__)
# Core tables for the hot UPDATEs: the ORM's bulk path would synchronise the session.
ENROLLMENTS = Enrollment.__table__
MESSAGES = Message.__table__
SEQUENCES = Sequence.__table__
_DUE_COLUMNS = tuple(
    ENROLLMENTS.c[name]
    for name in (
        "id",
        "lead_id",
        "sequence_id",
        "position",
        "round",
        "next_send_at",
        "last_sent_at",
        "enrolled_at",
    )
)

# An enrollment just read, unchanged since (a worker that raced us has moved it on).
_AS_READ = and_(
    ENROLLMENTS.c.id == bindparam("b_id"),
    ENROLLMENTS.c.position == bindparam("b_was"),
    ENROLLMENTS.c.round == bindparam("b_round"),
    ENROLLMENTS.c.status == "active",
)
CANNOT_SCHEDULE = "could not schedule"  # fits exit_reason (40)
_CANNOT_SCHEDULE = (
    update(ENROLLMENTS)
    .where(_AS_READ)
    .values(status="exited", exit_reason=CANNOT_SCHEDULE, next_send_at=None, ended_at=bindparam("b_ended"))
)
_ADVANCE = (
    update(ENROLLMENTS)
    .where(_AS_READ)
    .values(
        position=bindparam("b_position"),
        status=bindparam("b_status"),
        next_send_at=bindparam("b_next"),
        last_sent_at=bindparam("b_last"),
        ended_at=bindparam("b_ended"),
    )
)


def materialise(now: datetime, *, limit: int) -> Counter:
    """Queue the step of every active enrollment that is due at `now` (at most `limit`
    enrollments), moving each on to its next step; commits.

    The enrollments move in one executemany UPDATE (guarded by their position) and the
    messages go in one INSERT that does nothing on the unique (enrollment, step, round)
    key: a worker that raced us, or a stale read, can never add a second copy."""
    counts = Counter()
    query = (
        select(*_DUE_COLUMNS)
        .join(SEQUENCES, SEQUENCES.c.id == ENROLLMENTS.c.sequence_id)
        .where(
            ENROLLMENTS.c.status == "active",
            ENROLLMENTS.c.next_send_at <= now,
            SEQUENCES.c.status == "active",
        )
        .order_by(ENROLLMENTS.c.next_send_at, ENROLLMENTS.c.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=ENROLLMENTS)
    # Plain rows (ORM objects for a batch of enrollments and their leads cost more than
    # the rest of materialising); the few sequences, with their steps, as objects. The
    # leads' addresses by id in a query of their own: joined in, PostgreSQL planned a
    # nested loop over every lead for each enrollment whenever its statistics were
    # behind (a mass enrollment: 430 ms a batch of 200 instead of 4).
    rows = db.session.execute(query).all()
    addresses = dict(
        db.session.execute(
            select(Lead.__table__.c.id, Lead.__table__.c.email).where(
                Lead.__table__.c.id.in_({row.lead_id for row in rows})
            )
        ).all()
    )
    sequences = {
        sequence.id: sequence
        for sequence in db.session.scalars(
            select(Sequence)
            .where(Sequence.id.in_({row.sequence_id for row in rows}))
            .options(selectinload(Sequence.steps))
        )
    }
    enrollments = [
        SimpleNamespace(
            **row._asdict(),
            lead=SimpleNamespace(email=addresses[row.lead_id]),
            sequence=sequences[row.sequence_id],
        )
        for row in rows
    ]
    caps, moves, messages, broken = {}, [], [], []
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    for enrollment in enrollments:
        try:
            outcome, move, message = _advance(enrollment, now, caps, sender)
        except SQLAlchemyError:
            raise  # the transaction is gone: nothing of this batch can be kept
        except Exception:  # noqa: BLE001 - one enrollment's bad data must not stop every pass
            # A setting that passed validation but cannot be scheduled (or a bug): left
            # due, it would be picked first and fail every pass, and no mail, not even a
            # download link, would go. It leaves the sequence, with a reason the admin
            # shows; the details are in the log.
            log.exception(
                "enrollment %s in sequence %s could not be scheduled", enrollment.id, enrollment.sequence_id
            )
            broken.append(
                {
                    "b_id": enrollment.id,
                    "b_was": enrollment.position,
                    "b_round": enrollment.round,
                    "b_ended": now,
                }
            )
            counts["error"] += 1
            continue
        counts[outcome] += 1
        moves.append(move)
        if message:
            messages.append(message)
    connection = db.session.connection()
    if broken:
        connection.execute(_CANNOT_SCHEDULE, broken)
    if moves:
        connection.execute(_ADVANCE, moves)
    if messages:
        connection.execute(
            upsert_insert(db.engine, MESSAGES).on_conflict_do_nothing(
                index_elements=["enrollment_id", "step_id", "round"]
            ),
            messages,
        )
    db.session.commit()
    return counts


def _advance(enrollment, now: datetime, caps: dict, sender: str) -> tuple[str, dict, dict | None]:
    """(outcome, the enrollment's new state, the message to queue or None)."""
    sequence = enrollment.sequence
    steps = sequence.steps
    move = {
        "b_id": enrollment.id,
        "b_was": enrollment.position,
        "b_round": enrollment.round,
        "b_position": enrollment.position,
        "b_status": "active",
        "b_next": enrollment.next_send_at,
        "b_last": enrollment.last_sent_at,
        "b_ended": None,
    }
    if enrollment.position >= len(steps):
        move.update(b_status="completed", b_next=None, b_ended=now)
        return "completed", move, None
    window = scheduling.sequence_window(sequence)
    opens = scheduling.next_in_window(now, **window)
    if opens > now:
        # Late (the worker was down, or the clock jumped): wait for the window again.
        move["b_next"] = opens
        return "waiting", move, None
    if sequence.hourly_cap:
        room_at = _cap_room_at(sequence, now, caps)
        if room_at is not None:
            move["b_next"] = scheduling.next_in_window(room_at, **window)
            return "capped", move, None
    step = steps[enrollment.position]
    skipped = _condition_holds(step, enrollment)
    next_position = enrollment.position + 1
    move.update(b_position=next_position, b_last=now)
    if next_position < len(steps):
        move["b_next"] = scheduling.due_at(
            sequence, steps[next_position], enrolled_at=enrollment.enrolled_at, previous_at=now
        )
    else:
        move.update(b_status="completed", b_next=None, b_ended=now)
    if sequence.hourly_cap and not skipped:
        caps[sequence.id][0] += 1
    message = {
        "kind": "nurture",
        "priority": 1,
        "lead_id": enrollment.lead_id,
        "to_address": enrollment.lead.email,
        "sequence_id": sequence.id,
        "topic_id": sequence.topic_id,
        "enrollment_id": enrollment.id,
        "step_id": step.id,
        "round": enrollment.round,
        "template": "",
        "context": {},
        "subject": "",
        "body_text": "",
        "body_html": "",
        "status": "skipped" if skipped else "queued",
        "error": "condition: " + step.condition["skip_if"] if skipped else "",
        "attempts": 0,
        "claimed_by": "",
        "message_id": email.queued_message_id(sender),
        "open_count": 0,
        "click_count": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    return ("skipped" if skipped else "queued"), move, message


def _cap_room_at(sequence: Sequence, now: datetime, caps: dict) -> datetime | None:
    """None when the sequence may queue another mail this hour; else when it may."""
    if sequence.id not in caps:
        hour_ago = now - timedelta(hours=1)
        recent = select(func.count(), func.min(Message.created_at)).where(
            Message.sequence_id == sequence.id,
            Message.kind == "nurture",
            Message.status != "skipped",
            Message.created_at > hour_ago,
        )
        count, oldest = db.session.execute(recent).one()
        caps[sequence.id] = [count, oldest or now]
    count, oldest = caps[sequence.id]
    if count < sequence.hourly_cap:
        return None
    return oldest + timedelta(hours=1)


def _condition_holds(step, enrollment) -> bool:
    """Whether the step's skip condition is met for this lead now."""
    condition = step.condition or {}
    kind = condition.get("skip_if")
    if kind == "downloaded":
        from gated.models import Asset, Download

        return (
            db.session.scalar(
                select(Download.id)
                .join(Asset, Asset.id == Download.asset_id)
                # A slug; as text whatever YAML made of it (2024 is a number there).
                .where(Download.lead_id == enrollment.lead_id, Asset.slug == str(condition.get("asset", "")))
                .limit(1)
            )
            is not None
        )
    if kind in ("clicked_previous", "opened_previous") and step.position > 0:
        column = Message.clicked_at if kind == "clicked_previous" else Message.opened_at
        previous = [s.id for s in enrollment.sequence.steps if s.position == step.position - 1]
        return (
            db.session.scalar(
                select(Message.id).where(
                    Message.enrollment_id == enrollment.id,
                    Message.round == enrollment.round,
                    Message.step_id.in_(previous),
                    column.is_not(None),
                )
            )
            is not None
        )
    return False
