"""What the nurture package does: sequences (from the admin or YAML), enrollments and
exits, suppression, queuing transactional mail, tracking and mail events.

Each public function owns its transaction (commits) unless its docstring says it only
adds to the session, which is the case for the receivers of gated's "inside the
transaction" signals.
"""

from datetime import datetime

import yaml
from flask import current_app
from sqlalchemy import func, select, update

from core.extensions import db
from core.ids import parse_id
from core.schema import upsert_insert
from gated.listing import view_condition
from gated.models import Lead
from nurture import caps, scheduling, signals
from nurture.email import queued_message_id
from nurture.models import (
    DAYS,
    PRIORITY,
    SEQUENCE_STATUSES,
    Enrollment,
    Message,
    Sequence,
    Step,
    Suppression,
    Topic,
    email_hash,
    normalise_email,
)
from nurture.validation import SequenceError, clean_sequence, mail_locale, parse_sequence_yaml, step_problems

# A lead handed to sales (SQL) or won is no longer nurtured: it leaves, and never joins.
EXIT_STAGES = ("sql", "customer")
TEST_TEMPLATE = "nurture/test"


class UnknownMessage(LookupError):
    """A token that names a message we no longer have (erased, or never existed)."""


# -- sequences ---------------------------------------------------------------------


def save_sequence(data: dict, *, now: datetime, default_status: str = "draft") -> tuple[Sequence, str]:
    """Create or update a sequence and its steps by slug. Returns (sequence, "created" |
    "updated" | "unchanged"). Raises SequenceError and stores nothing on bad input."""
    fields = clean_sequence(data)
    steps = fields.pop("steps")
    status = fields.pop("status")
    sequence = db.session.scalar(select(Sequence).where(Sequence.slug == fields["slug"]))
    outcome = "updated"
    if sequence is None:
        sequence = Sequence(slug=fields["slug"], created_at=now, status=status or default_status)
        db.session.add(sequence)
        outcome = "created"
    elif status:
        sequence.status = status
    before = export_dict(sequence) if outcome == "updated" else None
    for key, value in fields.items():
        setattr(sequence, key, value)
    existing = {step.position: step for step in sequence.steps}
    for position, values in enumerate(steps):
        step = existing.pop(position, None)
        if step is None:
            step = Step(position=position)
            sequence.steps.append(step)
        for key, value in values.items():
            setattr(step, key, value)
    for step in existing.values():
        sequence.steps.remove(step)
    if before is not None and before == export_dict(sequence):
        db.session.rollback()
        return db.session.scalar(select(Sequence).where(Sequence.slug == fields["slug"])), "unchanged"
    sequence.updated_at = now
    db.session.commit()
    return sequence, outcome


def import_sequence(text: str, *, now: datetime) -> tuple[Sequence, str]:
    """Upsert a sequence from the YAML of DESIGN.md. A new one starts active (an
    operator importing a file means it); an existing one keeps its status unless the
    file names one."""
    return save_sequence(parse_sequence_yaml(text), now=now, default_status="active")


def export_dict(sequence: Sequence) -> dict:
    trigger = (
        "manual" if sequence.trigger_kind == "manual" else {sequence.trigger_kind: sequence.trigger_value}
    )
    data = {
        "slug": sequence.slug,
        "name": sequence.name,
        "locale": sequence.locale,
        "status": sequence.status,
        "trigger": trigger,
        "send_window": {
            "days": list(sequence.window_days or DAYS),
            "start": sequence.window_start,
            "end": sequence.window_end,
            "timezone": sequence.timezone,
        },
    }
    if sequence.topic_id is not None:  # by id: `topic` may not follow a change not yet flushed
        data["topic"] = db.session.get(Topic, sequence.topic_id).slug
    if sequence.hourly_cap:
        data["hourly_cap"] = sequence.hourly_cap
    data["steps"] = []
    for step in sorted(sequence.steps, key=lambda s: s.position):
        item = {"delay": scheduling.format_delay(step.delay_minutes)}
        if step.delay_from != "previous":
            item["from"] = step.delay_from
        item.update(subject=step.subject, body=step.body)
        if step.condition:
            item["condition"] = step.condition
        data["steps"].append(item)
    return data


def export_sequence(slug: str) -> str:
    sequence = db.session.scalar(select(Sequence).where(Sequence.slug == slug))
    if sequence is None:
        raise LookupError(f"no sequence {slug!r}")
    return yaml.safe_dump(export_dict(sequence), allow_unicode=True, sort_keys=False, width=100)


def set_status(sequence_id: int, status: str, *, now: datetime) -> Sequence:
    """Activate, pause, resume (activate again) or archive. Archiving ends every
    active enrollment; pausing only holds them."""
    if status not in SEQUENCE_STATUSES:
        raise SequenceError([f"status: one of {', '.join(SEQUENCE_STATUSES)}"])
    sequence = db.get_or_404(Sequence, sequence_id)
    sequence.status = status
    sequence.updated_at = now
    if status == "archived":
        _exit_where(Enrollment.sequence_id == sequence_id, "removed", now)
    from nurture.delivery import hold_queued, release_held

    if status == "paused":
        hold_queued(sequence_id)
    if status == "active":
        release_held(sequence_id, now)  # what was held while it was paused
    db.session.commit()
    return sequence


# -- enrollments and exits ----------------------------------------------------------


def is_suppressed(email: str) -> bool:
    return (
        db.session.scalar(select(Suppression.id).where(Suppression.email_hash == email_hash(email)))
        is not None
    )


def enrollment_refusal(lead: Lead, sequence: Sequence) -> str | None:
    """Why the lead may not join the sequence: "no_steps", "inactive" (draft or archived),
    "consent" (no consent to marketing mail), "no_email" (known by mobile number only:
    sequences send mail), "stage" (with sales: SQL or customer) or "suppressed"; None
    when it may. The same rules hold for every trigger: download,
    form, import --sequence and manual (a pasted list of leads too)."""
    if not sequence.steps:
        return "no_steps"
    if sequence.status not in ("active", "paused"):
        return "inactive"
    if not lead.marketing_consent:
        return "consent"
    if not lead.email:
        return "no_email"
    if lead.stage in EXIT_STAGES:
        return "stage"
    if is_suppressed(lead.email):
        return "suppressed"
    return None


def enrollment_of(lead: Lead, sequence: Sequence) -> Enrollment | None:
    """The lead's enrollment in the sequence (there is one at most), or None."""
    return db.session.scalar(
        select(Enrollment).where(Enrollment.lead_id == lead.id, Enrollment.sequence_id == sequence.id)
    )


def add_enrollment(
    lead: Lead, sequence: Sequence, *, now: datetime, source: str, asset_id: int | None = None, reenroll=False
) -> Enrollment | None:
    """Add (not commit) the lead's enrollment. A lead is in a sequence once: an existing
    enrollment is left alone unless `reenroll`, which starts it again from step one in a
    new round (so the unique key lets the mails be sent again). None when the lead is
    already in, or refused (enrollment_refusal's reason is logged)."""
    refusal = enrollment_refusal(lead, sequence)
    if refusal is not None:
        current_app.logger.info("lead %s not enrolled in %s: %s", lead.id, sequence.slug, refusal)
        return None
    enrollment = enrollment_of(lead, sequence)
    if enrollment is not None and not reenroll:
        return None
    start = {
        "status": "active",
        "exit_reason": "",
        "position": 0,
        "enrolled_at": now,
        "ended_at": None,
        "source": source[:40],
        "asset_id": asset_id,
        "next_send_at": scheduling.due_at(sequence, sequence.steps[0], enrolled_at=now, previous_at=now),
    }
    if enrollment is None:
        # An INSERT that does nothing on the (lead, sequence) key: a double click, or a
        # download enrolling the same lead at the same moment, must not be an error.
        statement = (
            upsert_insert(db.session.get_bind(), Enrollment.__table__)
            .values(lead_id=lead.id, sequence_id=sequence.id, round=1, **start)
            .on_conflict_do_nothing(index_elements=["lead_id", "sequence_id"])
            .returning(Enrollment.__table__.c.id)
        )
        enrollment_id = db.session.scalar(statement)
        return db.session.get(Enrollment, enrollment_id) if enrollment_id is not None else None
    enrollment.round += 1
    for name, value in start.items():
        setattr(enrollment, name, value)
    return enrollment


def enroll(lead_ids, sequence_id: int, *, now: datetime, source: str = "manual", reenroll=False) -> int:
    """Enroll one lead or many by id (the lead admin's selection). Returns how many
    were enrolled; leads already in, suppressed, or unknown are skipped."""
    sequence = db.get_or_404(Sequence, sequence_id)
    count = 0
    for lead in db.session.scalars(select(Lead).where(Lead.id.in_(list(lead_ids)))):
        if add_enrollment(lead, sequence, now=now, source=source, reenroll=reenroll):
            count += 1
    db.session.commit()
    return count


def sequences_triggered(*, asset_id: int | None, form: str | None) -> list[Sequence]:
    """Active (or paused) sequences a submission enrolls into: those triggered by the
    asset's slug or by the form, and the one the white paper names in front matter."""
    from content.models import Article
    from gated.models import Asset

    clauses = []
    if form:
        clauses.append((Sequence.trigger_kind == "form") & (Sequence.trigger_value == form))
    if asset_id:
        asset = db.session.get(Asset, asset_id)
        if asset is not None:
            clauses.append((Sequence.trigger_kind == "asset") & (Sequence.trigger_value == asset.slug))
            if asset.article_id:
                named = db.session.scalar(select(Article.sequence_slug).where(Article.id == asset.article_id))
                if named:
                    clauses.append(Sequence.slug == named)
    if not clauses:
        return []
    condition = clauses[0]
    for clause in clauses[1:]:
        condition = condition | clause
    return list(
        db.session.scalars(select(Sequence).where(condition, Sequence.status.in_(("active", "paused"))))
    )


def _exit_where(condition, reason: str, now: datetime) -> int:
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
    count = _exit_where(condition, reason, now)
    if commit:
        db.session.commit()
    return count


def add_suppression(email: str, reason: str, *, now: datetime, detail: str = "") -> None:
    """Add (not commit) a suppression, and end the person's enrollments. An address
    already suppressed keeps its first suppression."""
    # An INSERT that does nothing on the hash's unique key, not a check then an insert:
    # the unsubscribe page, the provider's one-click POST and a bounce webhook may all
    # suppress the same new address at the same moment.
    db.session.execute(
        upsert_insert(db.session.get_bind(), Suppression.__table__)
        .values(email_hash=email_hash(email), reason=reason, detail=detail[:500], created_at=now)
        .on_conflict_do_nothing(index_elements=["email_hash"])
    )
    lead_id = db.session.scalar(select(Lead.id).where(func.lower(Lead.email) == normalise_email(email)))
    if lead_id is not None:
        exit_reason = {"unsubscribed": "unsubscribed", "bounced": "bounced", "complained": "complained"}
        _exit_where(Enrollment.lead_id == lead_id, exit_reason.get(reason, "suppressed"), now)


def suppress(email: str, reason: str, *, now: datetime, detail: str = "") -> None:
    add_suppression(email, reason, now=now, detail=detail)
    db.session.commit()


def unsuppress(suppression_id: int) -> None:
    """Remove a manual or mistaken suppression (an admin decision)."""
    suppression = db.get_or_404(Suppression, suppression_id)
    db.session.delete(suppression)
    db.session.commit()


def message_for_token(message_id: int) -> Message:
    message = db.session.get(Message, message_id)
    if message is None:
        raise UnknownMessage(message_id)
    return message


def unsubscribe(message_id: int, *, now: datetime) -> str:
    """Unsubscribe the recipient of a message at once: suppression, exits, consent
    withdrawn. Returns the address. Doing it twice is harmless."""
    message = message_for_token(message_id)
    add_suppression(message.to_address, "unsubscribed", now=now, detail=f"message {message.id}")
    if message.unsubscribed_at is None:
        message.unsubscribed_at = now
    if message.lead_id is not None:
        db.session.execute(update(Lead).where(Lead.id == message.lead_id).values(marketing_consent=False))
    signals.unsubscribed.send(
        current_app._get_current_object(), message_id=message.id, email=message.to_address
    )
    db.session.commit()
    return message.to_address


# -- transactional mail -------------------------------------------------------------


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


def queue_test(subject: str, body: str, *, to: str, locale: str, now: datetime) -> Message:
    """A test of a step, rendered for the sample lead and sent to a staff address.
    Raises SequenceError (and queues nothing) for a step that would not render."""
    problems = step_problems(subject, body, locale)
    if problems:
        raise SequenceError([str(problem) for problem in problems])
    message = add_mail(
        to=to,
        template=TEST_TEMPLATE,
        context={"subject": subject, "body": body, "locale": mail_locale(locale)},
        now=now,
        capped=False,
    )
    db.session.commit()
    return message


# -- tracking and events ------------------------------------------------------------


def record_open(message_id: int, *, now: datetime) -> None:
    db.session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(open_count=Message.open_count + 1, opened_at=func.coalesce(Message.opened_at, now))
    )
    signals.mail_opened.send(current_app._get_current_object(), message_id=message_id)
    db.session.commit()


def record_click(message_id: int, *, now: datetime, url: str = "") -> None:
    """A click is an open too (images are often blocked). `url`: where the link led, for
    the receivers that count clicks per link."""
    db.session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(
            click_count=Message.click_count + 1,
            clicked_at=func.coalesce(Message.clicked_at, now),
            opened_at=func.coalesce(Message.opened_at, now),
        )
    )
    signals.mail_clicked.send(current_app._get_current_object(), message_id=message_id, url=url)
    db.session.commit()


def _mark_message(address: str, event: dict, now: datetime) -> None:
    """Put a bounce or complaint on the mail it answers (by Message-ID when the provider
    gives one, else the address's latest sent mail), for the per-step figures."""
    # lower(): a lead's address is kept as it came, and a nurture mail is addressed with it.
    query = select(Message).where(func.lower(Message.to_address) == address, Message.sent_at.is_not(None))
    if event.get("message_id"):
        query = query.where(Message.message_id == str(event["message_id"]))
    message = db.session.scalar(query.order_by(Message.sent_at.desc()).limit(1))
    if message is None:
        return
    if event["type"] == "unsubscribe":
        message.unsubscribed_at = message.unsubscribed_at or now
    else:
        message.bounced_at = message.bounced_at or now
    if event["type"] == "complaint":
        signals.mail_complained.send(current_app._get_current_object(), message_id=message.id)


EVENT_REASONS = {"bounce": "bounced", "complaint": "complained", "unsubscribe": "unsubscribed"}


def record_mail_events(payload, *, now: datetime) -> int:
    """Bounces and complaints from the mail provider: {"events": [{"type": "bounce" |
    "complaint" | "unsubscribe", "email": ..., "message_id": optional, "detail": ...}]}
    or one such event.
    Raises ValueError on a malformed payload (nothing stored)."""
    events = payload.get("events", [payload]) if isinstance(payload, dict) else None
    if not isinstance(events, list) or not events:
        raise ValueError("expected {'events': [{'type', 'email'}]}")
    for event in events:
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("type"), str)
            or event["type"] not in EVENT_REASONS
            or not isinstance(event.get("email"), str)
            or "@" not in event["email"]
        ):
            raise ValueError("each event needs type (bounce, complaint, unsubscribe) and email, as text")
        if any("\x00" in str(value) for value in event.values()):
            raise ValueError("an event's values cannot hold a NUL character")
    for event in events:
        address = normalise_email(str(event["email"]))
        add_suppression(address, EVENT_REASONS[event["type"]], now=now, detail=str(event.get("detail", "")))
        _mark_message(address, event, now)
        if event["type"] == "unsubscribe":
            signals.unsubscribed.send(current_app._get_current_object(), message_id=None, email=address)
    db.session.commit()
    return len(events)


def lead_timeline(lead_id: int) -> list[dict]:
    """The lead's mails for the lead page: sent, opened, clicked, unsubscribed."""
    from flask_babel import gettext as _

    from nurture.labels import nurture_label

    events = []
    rows = db.session.scalars(
        select(Message).where(Message.lead_id == lead_id, Message.sent_at.is_not(None)).order_by(Message.id)
    )
    for message in rows:
        moments = (
            ("mail_sent", message.sent_at, _("Mail sent: %(s)s", s=message.subject)),
            ("mail_opened", message.opened_at, _("Mail opened: %(s)s", s=message.subject)),
            ("mail_clicked", message.clicked_at, _("Link clicked in: %(s)s", s=message.subject)),
            ("unsubscribed", message.unsubscribed_at, _("Unsubscribed")),
        )
        url = f"/admin/nurture/messages/{message.id}"
        events.extend(
            {"at": at, "kind": kind, "label": nurture_label("event", kind), "text": text, "url": url}
            for kind, at, text in moments
            if at
        )
    return events


def enroll_listed(text: str, sequence_id: int, *, now: datetime) -> tuple[int, list[str]]:
    """Enroll the leads a marketer pasted (emails or lead numbers). Returns (enrolled,
    entries that match no lead)."""
    import re

    entries = [entry for entry in re.split(r"[\s,;]+", text or "") if entry]
    # A number no lead can have (too big for an id) is reported as not found, like any other.
    ids = {parse_id(entry) for entry in entries if entry.isdecimal()} - {None}
    emails = {normalise_email(entry) for entry in entries if not entry.isdecimal()}
    found = (
        dict(
            db.session.execute(
                select(func.lower(Lead.email), Lead.id).where(func.lower(Lead.email).in_(emails))
            ).all()
        )
        if emails
        else {}
    )
    known_ids = set(db.session.scalars(select(Lead.id).where(Lead.id.in_(ids)))) if ids else set()
    unknown = [
        entry
        for entry in entries
        if (entry.isdecimal() and parse_id(entry) not in known_ids)
        or (not entry.isdecimal() and normalise_email(entry) not in found)
    ]
    count = enroll(known_ids | set(found.values()), sequence_id, now=now, source="manual")
    return count, unknown


def leads_matching(
    *, stage: str = "", source: str = "", since: datetime | None = None, segment: int | None = None
):
    """The consenting leads a filter selects (for enrolling a list): a segment (the
    lead list's saved view: campaigns' segments), stage, source containing a text,
    created on or after a date."""
    query = select(Lead.id).where(Lead.marketing_consent.is_(True))
    if segment is not None:
        query = query.where(view_condition(segment))
    if stage:
        query = query.where(Lead.stage == stage)
    if source:
        query = query.where(Lead.source.contains(source, autoescape=True))
    if since:
        query = query.where(Lead.created_at >= since)
    return query


def enroll_filtered(
    sequence_id: int,
    *,
    now: datetime,
    stage: str = "",
    source: str = "",
    since=None,
    segment: int | None = None,
) -> int:
    """Enroll every consenting lead a filter selects; returns how many joined."""
    ids = db.session.scalars(leads_matching(stage=stage, source=source, since=since, segment=segment)).all()
    return enroll(ids, sequence_id, now=now, source="filter")
