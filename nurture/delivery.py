"""The queue: due enrollment steps become message rows, due messages are claimed with a
lease, checked against suppression, rendered, and delivered over one SMTP connection.

SMTP cannot deliver exactly once: a worker that dies after the server accepted a mail
and before the outcome's commit sends that mail again. What the database keeps, not the
worker's memory, is at most one repeat of the mail in flight when a worker dies, with
the same Message-ID:
- a step becomes a message by an INSERT that does nothing on the unique (enrollment,
  step, round) key, together with an UPDATE of the enrollment guarded by its position,
  so two workers advancing the same enrollment cannot both win;
- a claim is an UPDATE guarded by the row's state, behind FOR UPDATE SKIP LOCKED on
  PostgreSQL (SQLite has one writer at a time), marking the rows with this claim's token;
- each message is marked sent in its own commit the moment the server accepts it, and
  the next mail is accepted by the server only once that commit is done: the commit
  runs while the next mail's envelope and content travel, and the final "." that makes
  the server accept it is sent after the commit (a connection dropped before the "."
  delivers nothing). So a crash can repeat at most the one mail in flight, and a
  crashed worker's claimed rows come back when their lease runs out;
- the outcome's commit starts the moment the server's reply is read: the next mail is
  rendered while this one's content travels, before its ".", so nothing runs between
  the server's acceptance and the commit;
- the Message-ID is fixed when the row is queued and every attempt sends it, so that
  one repeat carries the same Message-ID and receiving systems can drop it;
- leases are on the real clock, never on a pass's `now` (which `--now` may set ahead
  and a long pass leaves behind), and a worker stops sending a batch before its lease
  runs out, so a lease taken back is never one still being worked on.

The outcomes are committed by nurture.recorder; one mail's SMTP exchange, with its last
check before the ".", is nurture.wire.
"""

import contextlib
import logging
import smtplib
import socket
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from jinja2 import TemplateError
from sqlalchemy import and_, bindparam, case, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from core.extensions import db, mail
from core.schema import upsert_insert
from core.timeutil import utcnow
from gated.models import Lead
from nurture import compose, email, inbound, personalise, scheduling, topics, wire
from nurture.models import Enrollment, Message, Sequence, Step, Suppression, Topic, email_hash
from nurture.recorder import Recorder
from nurture.services import TEST_TEMPLATE

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)
# A batch stops sending once this share of its lease is gone; the rest is given back.
LEASE_SAFETY = 0.25
# How often a claim picks again after other workers took every row it picked; each lost
# race means another worker has a batch, so a few are enough for many workers.
CLAIM_RACES = 10
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


def _skip_locked(query):
    if db.engine.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


# -- materialise --------------------------------------------------------------------


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


# -- claim --------------------------------------------------------------------------


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


def add_renderer(app, kind: str, render_kind) -> None:
    """Let a later package (campaigns) say what its kind of message says:
    `render_kind(message)` gets the claimed message (with its lead) and returns an
    email.Rendered; everything else (claim, suppression, headers, exactly once) stays
    the worker's."""
    app.extensions.setdefault("nurture_renderers", {})[kind] = render_kind


def render(message: Message) -> email.Rendered:
    """What a claimed message says. Raises PersonalisationError/TemplateError."""
    renderer = current_app.extensions.get("nurture_renderers", {}).get(message.kind)
    if renderer is not None:
        return renderer(message)
    if message.kind == "nurture":
        enrollment = message.enrollment
        return compose.compose_step(
            message.step,
            message.lead,
            message_id=message.id,
            asset_id=enrollment.asset_id if enrollment else None,
            locale=message.sequence.locale,
        )
    if message.template == TEST_TEMPLATE:
        context = personalise.sample_context(current_app.config)
        context["unsubscribe_url"] = compose.unsubscribe_url(message.id)
        subject, text, html = personalise.render_step(
            message.context["subject"], message.context["body"], context
        )
        return compose.wrap(
            email.Rendered("[TEST] " + subject, text, compose.inline_styles(html)),
            message_id=message.id,
            locale=message.context.get("locale", "zh-CN"),
            transactional=False,
            pixel=False,
        )
    if message.kind == "staff":
        return compose.compose_staff(
            message.template, message.context, locale=message.context.get("locale", "zh-CN")
        )
    return compose.compose_transactional(
        message.template,
        message.lead,
        message.context,
        message_id=message.id,
        locale=message.context.get("locale", "zh-CN"),
    )


# A paused sequence's due mail is given back for this long at a time (resuming the
# sequence makes it due at once: release_held).
HOLD = timedelta(minutes=30)
HELD = "held: the sequence is paused"
HELD_UNTIL = datetime(9000, 1, 1)  # until release_held: no clock reaches it


def _why_not(message, now: datetime) -> dict | None:
    """The outcome to record instead of sending, when a nurture message must not go
    out (now): skipped for good, or held while its sequence is paused."""
    if message.kind != "nurture":
        return None
    if message.step is None or message.lead is None or message.sequence is None:
        return {"status": "skipped", "error": "the step or the lead was deleted"}
    enrollment = message.enrollment
    if enrollment is not None and enrollment.status == "exited":
        return {"status": "skipped", "error": f"left the sequence: {enrollment.exit_reason}"}
    if enrollment is not None and message.round is not None and message.round != enrollment.round:
        # Queued (held, or waiting to retry) before the lead left and was enrolled again:
        # the new round sends its own copy of the step.
        return {"status": "skipped", "error": "from an earlier enrollment in the sequence"}
    if message.sequence.status == "archived":
        return {"status": "skipped", "error": "the sequence was archived"}
    if message.sequence.status != "active":
        return {
            "status": "queued",
            "next_attempt_at": now + HOLD,
            "attempts": message.attempts - 1,
            "claimed_by": "",
            "error": HELD,
        }
    return None


def hold_queued(sequence_id: int) -> int:
    """Hold a paused sequence's queued mail until it is resumed, in one UPDATE (not
    committed); how many. Workers then never claim it: a large paused sequence costs
    nothing per pass. (A mail claimed before the pause reached the worker is held by
    the worker itself, for HOLD at a time.)"""
    return db.session.execute(
        update(MESSAGES)
        .where(MESSAGES.c.sequence_id == sequence_id, MESSAGES.c.status == "queued")
        .values(next_attempt_at=HELD_UNTIL, error=HELD)
    ).rowcount


def release_held(sequence_id: int, now: datetime) -> int:
    """Make a resumed sequence's held mail due at once (not committed); how many."""
    return db.session.execute(
        update(MESSAGES)
        .where(
            MESSAGES.c.sequence_id == sequence_id,
            MESSAGES.c.status == "queued",
            MESSAGES.c.error == HELD,
        )
        .values(next_attempt_at=now, error="")
    ).rowcount


def _retry(recorder: Recorder, message, now: datetime, error: str) -> str:
    """Transient trouble: try again later with exponential backoff, or give up."""
    if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        recorder.record(message, status="failed", error=f"gave up after {message.attempts} attempts: {error}")
        return "failed"
    backoff = min(
        timedelta(seconds=current_app.config["MAIL_RETRY_SECONDS"] * 2 ** (message.attempts - 1)), MAX_BACKOFF
    )
    recorder.record(message, status="queued", next_attempt_at=now + backoff, error=error)
    return "retry"


def _release(recorder: Recorder, messages: list) -> None:
    """Give back claimed messages we did not try (stopping): due again at once."""
    for message in messages:
        recorder.record(message, status="queued", attempts=message.attempts - 1, claimed_by="")


def deliver(
    messages: list, now: datetime, *, pacer=None, stop=None, counts: Counter | None = None
) -> Counter:
    """Send the claimed messages over one SMTP connection; each outcome is committed
    on its own as soon as it is known, by the batch's Recorder. `pacer.wait()` runs
    before each send (the provider's rate limit); the outcomes are counted into
    `counts` as they happen, so a caller still knows what went when this raises."""
    hashes = {email_hash(m.to_address) for m in messages}
    suppressed = set(
        db.session.scalars(select(Suppression.email_hash).where(Suppression.email_hash.in_(hashes)))
    )
    # Whose recipient has left the mail's topic (or never chose an opt-in-only one): the
    # choices as they are now, for the whole batch in one query.
    unwanted = topics.unwanted([m.id for m in messages])
    db.session.commit()
    config = current_app.config
    recorder = Recorder(
        db.engine,
        synchronous_commit=config["NURTURE_SYNCHRONOUS_COMMIT"],
        reconnect_seconds=config["NURTURE_LEASE_SECONDS"],
    )
    try:
        return _deliver(recorder, messages, now, suppressed, unwanted, pacer=pacer, stop=stop, counts=counts)
    finally:
        recorder.close()


class _SuppressedMeanwhile(Exception):
    """The mail at the server was suppressed after the batch was claimed; it was
    abandoned before its final ".", so the server dropped it."""


class _LeaseRunningOut(Exception):
    """The batch's lease is nearly gone: the mail at the server was abandoned before its
    final ".", and the rest of the batch goes back to the queue."""


def _open():
    """A Flask-Mail connection whose socket sends small writes at once (the final "."
    goes on its own after the previous outcome's commit, and Nagle's algorithm would
    hold it for the server's delayed ACK) and gives up on a silent server within a
    share of the lease (Flask-Mail sets no timeout: a hung server would hold the
    batch past its lease, and another worker would send it again)."""
    connection = mail.connect().__enter__()
    if connection.host is not None and connection.host.sock is not None:
        connection.host.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.host.sock.settimeout(current_app.config["NURTURE_LEASE_SECONDS"] * LEASE_SAFETY / 2)
    return connection


def _close(connection) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        connection.__exit__(None, None, None)


def list_id(config, topic, domain: str) -> str:
    """The List-Id (RFC 2919) of a mail: one list per topic, so a person's mail program
    can file or filter each; mail without a topic keeps the site's own."""
    base = config["MAIL_LIST_ID"] or "nurture." + domain
    if topic is None:
        return f"{config['SITE_NAME']} <{base}>"
    return f"{config['SITE_NAME']} {topic.name} <{topic.slug}.{base}>"


def _deliver(
    recorder: Recorder, messages: list, now: datetime, suppressed: set, unwanted: set, *, pacer, stop, counts
) -> Counter:
    counts = Counter() if counts is None else counts
    config = current_app.config
    sender = config["MAIL_DEFAULT_SENDER"]
    _name, address, domain = email.sender_parts(sender)
    mailto = config["MAIL_UNSUBSCRIBE_MAILTO"] or f"unsubscribe@{domain}"
    max_attempts = config["MAIL_MAX_ATTEMPTS"]
    lease_ends = min((message.lease_ends for message in messages), default=float("inf"))
    pending = list(messages)
    try:
        connection = _open()
    except (OSError, smtplib.SMTPException) as exc:
        for message in pending:
            counts[_retry(recorder, message, now, f"SMTP unreachable: {exc}")] += 1
        return counts

    def record_suppressed(message) -> None:
        recorder.record(message, status="suppressed", error="the address is suppressed")
        counts["suppressed"] += 1

    def next_ready():
        """The next pending message that may go, rendered and built (None: none left);
        the ones that may not are recorded on the way."""
        while pending:
            message = pending.pop(0)
            if email_hash(message.to_address) in suppressed:
                record_suppressed(message)
                continue
            if message.id in unwanted:
                recorder.record(message, status="skipped", error=f"left the topic: {message.topic.slug}")
                counts["skipped"] += 1
                continue
            refusal = _why_not(message, now)
            if refusal:
                recorder.record(message, **refusal)
                counts[refusal["status"] if refusal["status"] != "queued" else "held"] += 1
                continue
            if message.attempts > max_attempts:
                # Claimed again after its lease ran out, each time: the worker sending it
                # died or hung (it may have been delivered). Never again, and visible.
                recorder.record(
                    message,
                    status="failed",
                    error=f"gave up after {max_attempts} attempts: the worker stopped while sending it",
                )
                counts["failed"] += 1
                continue
            try:
                rendered = render(message)
                message_id = message.message_id or email.stable_message_id(
                    message.id, domain, config["SECRET_KEY"]
                )
                staff = message.kind == "staff"
                raw = email.build(
                    rendered,
                    sender=sender,
                    to=message.to_address,
                    message_id=message_id,
                    list_id=list_id(config, message.topic, domain),
                    unsubscribe_url=None if staff else compose.unsubscribe_url(message.id),
                    unsubscribe_mailto=None
                    if staff
                    else "mailto:" + inbound.unsubscribe_address(message.id, mailto),
                )
            except (personalise.PersonalisationError, TemplateError, email.AddressError) as exc:
                recorder.record(message, status="failed", error=f"could not render: {exc}")
                counts["failed"] += 1
                continue
            except Exception as exc:  # noqa: BLE001 - one mail's bug must not stop the batch
                # Not a known fault of the mail (a bad setting, a bug): it waits for a
                # retry with its reason, gives up after MAIL_MAX_ATTEMPTS, and the rest of
                # the batch goes; raised, it would stop every pass at this mail.
                log.exception("message %s could not be built", message.id)
                counts[
                    _retry(recorder, message, now, f"could not build: {exc.__class__.__name__}: {exc}")
                ] += 1
                continue
            return message, rendered, message_id, raw
        return None

    # The next mail, rendered and built while the previous one's content travelled.
    ready = None
    # An unexpected error while doing so is raised only once the mail at the server has
    # gone and its outcome is recorded: raised inside the SMTP exchange, it would abandon
    # that mail for the next one's fault.
    deferred: list[Exception] = []

    def render_next():
        nonlocal ready
        try:
            ready = next_ready()
        except Exception as exc:  # noqa: BLE001 - re-raised by the loop below
            deferred.append(exc)

    def give_back(*first) -> None:
        """Stopping, or the lease running out (another worker may take the rows back
        then): what was not tried goes back to the queue, due at once."""
        rest = [*first, *pending]
        _release(recorder, rest)
        counts["released"] += len(rest)
        pending.clear()

    try:
        while pending or ready or deferred:
            if deferred:
                raise deferred[0]
            if (stop is not None and stop.is_set()) or time.monotonic() > lease_ends:
                give_back(*([ready[0]] if ready else []))
                break
            current, ready = ready or next_ready(), None
            if current is None:
                break
            message, rendered, message_id, raw = current

            def before_dot(address=message.to_address):
                """Once the content is at the server, before the "." that makes it take
                the mail: the previous outcome committed, the address still wanted, and
                time left on the lease (the reply then comes within the socket's timeout)."""
                if recorder.suppressed(address):
                    raise _SuppressedMeanwhile
                if time.monotonic() > lease_ends:
                    raise _LeaseRunningOut

            if pacer is not None:
                pacer.wait()
            try:
                if connection.host is None:  # MAIL_SUPPRESS_SEND: Flask-Mail only records it
                    before_dot()
                    connection.send(email.PreparedMessage(raw, sender=sender, recipient=message.to_address))
                else:
                    wire.send(
                        connection.host,
                        address,
                        email.envelope_address(message.to_address),
                        raw,
                        before_dot=before_dot,
                        meanwhile=render_next,
                    )
            except _LeaseRunningOut:
                # The next mail was rendered while this one's content travelled.
                give_back(message, *([ready[0]] if ready else []))
                ready = None
                break
            except _SuppressedMeanwhile:
                suppressed.add(email_hash(message.to_address))
                record_suppressed(message)
                if connection.host is not None:
                    _close(connection)
                    connection = _open()
                continue
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()))
                counts[_refused(recorder, message, now, code, reply, bad_address=True)] += 1
                continue
            except smtplib.SMTPResponseException as exc:
                counts[
                    _refused(recorder, message, now, exc.smtp_code, exc.smtp_error, bad_address=False)
                ] += 1
                if exc.smtp_code == 421:
                    raise
                continue
            except (OSError, smtplib.SMTPException) as exc:
                counts[_retry(recorder, message, now, f"SMTP: {exc}")] += 1
                raise
            # Committed while the next mail travels; settled before its final ".".
            recorder.record_later(
                message,
                check_address=ready[0].to_address if ready else None,
                status="sent",
                sent_at=now,
                message_id=message_id,
                subject=rendered.subject[:998],
                body_text=rendered.text,
                body_html=rendered.html,
                error="",
            )
            counts["sent"] += 1
    except (OSError, smtplib.SMTPException) as exc:
        # The connection is gone: the rest waits for the next try.
        if ready:
            pending.insert(0, ready[0])
        for message in pending:
            counts[_retry(recorder, message, now, f"SMTP connection lost: {exc}")] += 1
    finally:
        _close(connection)
    return counts


def _refused(recorder: Recorder, message, now: datetime, code: int, reply, *, bad_address: bool) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    error = f"{code} {text}".strip()
    if 400 <= code < 500:
        return _retry(recorder, message, now, error)
    bounced = bad_address and code in (550, 551, 553)
    recorder.record(message, status="failed", error=error, **({"bounced_at": now} if bounced else {}))
    if bounced:
        from nurture.services import suppress

        suppress(message.to_address, "bounced", now=now, detail=error)
    return "failed"
