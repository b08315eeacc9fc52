"""The mail queue: a transactional, staff or test mail added as a queued message row
(the worker renders and delivers it), and a paused sequence's queued mail held (never
claimed) until the sequence is resumed; the worker holds, for HOLD at a time, a mail
it claimed before the pause reached it (nurture.delivery.rendering.why_not)."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update

from core.extensions import db
from nurture import caps
from nurture.email import queued_message_id
from nurture.models import PRIORITY, Message, normalise_email
from nurture.validation import SequenceError, mail_locale, step_problems

MESSAGES = Message.__table__
TEST_TEMPLATE = "nurture/test"
# A paused sequence's due mail is given back for this long at a time (resuming the
# sequence makes it due at once: release_held).
HOLD = timedelta(minutes=30)
HELD = "held: the sequence is paused"
HELD_UNTIL = datetime(9000, 1, 1)  # until release_held: no clock reaches it


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


def add_mail(
    *,
    to: str,
    template: str,
    context: dict,
    now: datetime,
    lead_id: int | None = None,
    kind="transactional",
    capped: bool = True,
) -> Message:
    """Add (not commit) a queued mail; the worker renders and delivers it. `kind`
    "staff" for a mail to our own people: its template folder holds a reason.txt too,
    the footer's line on why they get it.

    A transactional mail to an address that has had its share (nurture/caps.py) is
    added as skipped, with the reason, and never sent; staff mail is never held back,
    nor is a mail with `capped` False (a marketer's test of a step, to their own address)."""
    address = normalise_email(to)
    refused = caps.refusal(address, now=now) if kind == "transactional" and capped else None
    message = Message(
        kind=kind,
        priority=PRIORITY[kind],
        lead_id=lead_id,
        to_address=address,
        template=template,
        context=context or {},
        status="skipped" if refused else "queued",
        error=refused or "",
        message_id=queued_message_id(current_app.config["MAIL_DEFAULT_SENDER"]),
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(message)
    return message


class StepProblems(SequenceError):
    """A step that would not render: `problems` as PersonalisationError (each with its
    field), `errors` as the command line words them."""

    def __init__(self, problems: list):
        super().__init__([str(problem) for problem in problems])
        self.problems = problems


def queue_test(subject: str, body: str, *, to: str, locale: str, now: datetime) -> Message:
    """A test of a step, rendered for the sample lead and sent to a staff address.
    Raises StepProblems (and queues nothing) for a step that would not render."""
    problems = step_problems(subject, body, locale)
    if problems:
        raise StepProblems(problems)
    message = add_mail(
        to=to,
        template=TEST_TEMPLATE,
        context={"subject": subject, "body": body, "locale": mail_locale(locale)},
        now=now,
        capped=False,
    )
    db.session.commit()
    return message
