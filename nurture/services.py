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
from core.ids import MAX_ID, parse_id
from core.schema import upsert_insert
from gated.models import Lead
from nurture import personalise, scheduling, signals
from nurture.models import (
    DAYS,
    PRIORITY,
    SEQUENCE_STATUSES,
    Enrollment,
    Message,
    Sequence,
    Step,
    Suppression,
    email_hash,
    normalise_email,
)

CONDITIONS = ("downloaded", "clicked_previous", "opened_previous")
# A lead handed to sales (SQL) or won is no longer nurtured: it leaves, and never joins.
EXIT_STAGES = ("sql", "customer")
TEST_TEMPLATE = "nurture/test"
SUBJECT_MAX = 300  # Step.subject


class SequenceError(ValueError):
    """A sequence that cannot be saved; `errors` lists every problem, worded for a user."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class UnknownMessage(LookupError):
    """A token that names a message we no longer have (erased, or never existed)."""


# -- sequences ---------------------------------------------------------------------


def parse_sequence_yaml(text: str) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise SequenceError([f"not valid YAML{where}: {getattr(exc, 'problem', exc)}"]) from exc
    if not isinstance(data, dict):
        raise SequenceError(["the file must be a mapping with slug, name, trigger and steps"])
    return data


def clean_sequence(data: dict) -> dict:
    """Check a sequence as YAML or the admin form gives it; the normalised fields.

    Every field is checked for its type too (YAML turns `2024` into a number, `yes` into
    a boolean, `{...}` into a mapping), so that nothing the database, the worker or the
    mail layout cannot take is saved. Every step is rendered for a sample lead here, so a
    typo in a variable is found now.
    """
    errors = []
    slug = _text(data, "slug", errors, limit=120).strip()
    if not slug or not all(ch.isalnum() or ch in "-_" for ch in slug):
        errors.append("slug: use letters, digits, - and _ (at most 120)")
    name = _text(data, "name", errors, limit=200).strip() or slug
    status = data.get("status")
    if status is not None and status not in SEQUENCE_STATUSES:
        errors.append(f"status: one of {', '.join(SEQUENCE_STATUSES)}")
    trigger_kind, trigger_value = _clean_trigger(data.get("trigger", "manual"), errors)
    days, start, end, timezone = _clean_window(data.get("send_window"), errors)
    cap = data.get("hourly_cap")
    if cap in ("", None):
        cap = None
    elif not str(cap).isdecimal() or not 1 <= int(cap) <= MAX_ID:  # an INTEGER column
        errors.append("hourly_cap: a whole number of mails per hour, or nothing")
    else:
        cap = int(cap)
    steps = _clean_steps(data.get("steps"), errors)
    raw_locale = data.get("locale") or current_app.config["DEFAULT_LOCALE"]
    locale = mail_locale(raw_locale)
    if locale is None:
        errors.append(f"locale: {_unknown_locale(raw_locale)}")
    if errors:
        raise SequenceError(errors)
    return {
        "slug": slug,
        "name": name,
        "status": status,
        "trigger_kind": trigger_kind,
        "trigger_value": trigger_value,
        "window_days": days,
        "window_start": start,
        "window_end": end,
        "timezone": timezone,
        "hourly_cap": cap,
        "locale": locale,
        "steps": steps,
    }


def _kind_of(value) -> str:
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _text(data: dict, key: str, errors: list[str], *, limit: int | None, label: str = "") -> str:
    """A text field (absent: ""), at most `limit` characters and without NUL (which
    PostgreSQL refuses); a problem goes to `errors` and "" is returned."""
    value = data.get(key)
    label = label or key
    if value is None:
        return ""
    if not isinstance(value, str):
        quote = "" if isinstance(value, list | dict) else " (in YAML, put it in quotes)"
        errors.append(f"{label}: text, not {_kind_of(value)}{quote}")
        return ""
    if "\x00" in value:
        errors.append(f"{label}: contains a NUL character")
        return ""
    if limit is not None and len(value) > limit:
        errors.append(f"{label}: at most {limit} characters")
        return ""
    return value


def mail_locale(value) -> str | None:
    """The language of mails as a sequence stores it ("zh-CN", "en") when `value` names
    one of the site's LOCALES (with - or _, in any case); else None. Mails are rendered
    in it (flask_babel.force_locale), which fails for a language the site does not have."""
    if not isinstance(value, str):
        return None
    known = {code.replace("_", "-").lower(): code.replace("_", "-") for code in current_app.config["LOCALES"]}
    return known.get(value.replace("_", "-").lower())


def _unknown_locale(value) -> str:
    known = ", ".join(code.replace("_", "-") for code in current_app.config["LOCALES"])
    return f"{value!r} is not a language of the site; use one of {known}"


def _clean_trigger(trigger, errors) -> tuple[str, str]:
    usage = "trigger: {asset: SLUG}, {form: NAME} or manual"
    if trigger in (None, "", "manual"):
        return "manual", ""
    if isinstance(trigger, dict) and len(trigger) == 1:
        kind = next(iter(trigger))
        if kind in ("asset", "form"):
            problems = []
            value = _text(trigger, kind, problems, limit=120, label=f"trigger {kind}").strip()
            if value:
                return kind, value
            errors.extend(problems or [usage])
            return "manual", ""
    errors.append(usage)
    return "manual", ""


def _clean_window(window, errors) -> tuple[list[str], str, str, str]:
    """(days, start, end, time zone) of a send window; the whole day, every day, in the
    site's time zone for what is not given."""
    problems = []
    if window is None:
        window = {}
    elif not isinstance(window, dict):
        problems.append("send_window: a mapping of days, start, end and timezone")
        window = {}
    days = window.get("days") or list(DAYS)
    if not isinstance(days, list) or not all(isinstance(day, str) for day in days):
        problems.append(f"send_window: days is a list of some of {', '.join(DAYS)}")
        days = list(DAYS)
    days = [day.lower()[:3] for day in days]
    start = _clock(window, "start", "00:00", problems)
    end = _clock(window, "end", "24:00", problems)
    timezone = _text(window, "timezone", problems, limit=64, label="send_window: timezone")
    timezone = timezone or current_app.config["BABEL_DEFAULT_TIMEZONE"]
    if not problems:
        try:
            scheduling.check_window(days, start, end, timezone)
        except scheduling.ScheduleError as exc:
            problems.append(f"send_window: {exc}")
    errors.extend(problems)
    return days, start, end, timezone


def _clock(window: dict, key: str, default: str, errors: list[str]) -> str:
    value = window.get(key)
    if value is None:
        return default
    # YAML 1.1 reads an unquoted 10:00 as sexagesimal 600 (09:00 stays text).
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1440:
        hours, minutes = divmod(value, 60)
        errors.append(
            f"send_window: write the {key} time in quotes, '{hours:02d}:{minutes:02d}' "
            "(YAML reads it as a number)"
        )
        return default
    return _text(window, key, errors, limit=None, label=f"send_window: {key}") or default


CONDITION_USAGE = (
    "condition is {skip_if: downloaded, asset: SLUG}, {skip_if: clicked_previous} "
    "or {skip_if: opened_previous}"
)


def _clean_condition(condition, label: str, errors: list[str]) -> dict | None:
    """A step's skip condition as the worker reads it (delivery._condition_holds): only
    the known kinds, an asset slug as text for "downloaded" (compared with a VARCHAR
    column, which PostgreSQL will not compare with a number), no other fields."""
    if not condition:
        return None
    if not isinstance(condition, dict) or condition.get("skip_if") not in CONDITIONS:
        errors.append(f"{label}: {CONDITION_USAGE}")
        return None
    kind = condition["skip_if"]
    fields = ("skip_if", "asset") if kind == "downloaded" else ("skip_if",)
    others = [str(key) for key in condition if key not in fields]
    if others:
        errors.append(f"{label}: condition {kind} takes no {', '.join(others)} ({CONDITION_USAGE})")
        return None
    if kind != "downloaded":
        return {"skip_if": kind}
    asset = _text(condition, "asset", errors, limit=120, label=f"{label}: condition asset").strip()
    if not asset:
        errors.append(f"{label}: condition downloaded needs the asset's slug ({CONDITION_USAGE})")
        return None
    return {"skip_if": kind, "asset": asset}


def _clean_steps(steps, errors) -> list[dict]:
    if not isinstance(steps, list) or not steps:
        errors.append("steps: at least one step")
        return []
    sample = personalise.sample_context(current_app.config["SITE_URL"], current_app.config["SITE_NAME"])
    cleaned = []
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, dict):
            errors.append(f"step {number}: a mapping with delay, subject and body")
            continue
        try:
            delay = scheduling.parse_delay(step.get("delay", "0h"))
        except scheduling.ScheduleError as exc:
            errors.append(f"step {number}: {exc}")
            delay = 0
        delay_from = step.get("from", "previous")
        if delay_from not in ("previous", "enrollment"):
            errors.append(f"step {number}: from is previous or enrollment")
        text_problems = []
        subject = _text(step, "subject", text_problems, limit=SUBJECT_MAX, label=f"step {number} subject")
        body = _text(step, "body", text_problems, limit=None, label=f"step {number} body")
        errors.extend(text_problems)
        for problem in [] if text_problems else personalise.validate_step(subject, body, sample):
            errors.append(f"step {number} {problem.field}: {problem.message}")
        cleaned.append(
            {
                "delay_minutes": delay,
                "delay_from": delay_from,
                "subject": subject,
                "body": body,
                "condition": _clean_condition(step.get("condition"), f"step {number}", errors),
            }
        )
    return cleaned


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
    "consent" (no consent to marketing mail), "stage" (with sales: SQL or customer) or
    "suppressed"; None when it may. The same rules hold for every trigger: download,
    form, import --sequence and manual (a pasted list of leads too)."""
    if not sequence.steps:
        return "no_steps"
    if sequence.status not in ("active", "paused"):
        return "inactive"
    if not lead.marketing_consent:
        return "consent"
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
    *, to: str, template: str, context: dict, now: datetime, lead_id: int | None = None, kind="transactional"
) -> Message:
    """Add (not commit) a queued mail; the worker renders and delivers it."""
    message = Message(
        kind=kind,
        priority=PRIORITY[kind],
        lead_id=lead_id,
        to_address=normalise_email(to),
        template=template,
        context=context or {},
        status="queued",
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(message)
    return message


def step_problems(subject: str, body: str, locale) -> list[personalise.PersonalisationError]:
    """What keeps a step as typed (maybe unsaved) from rendering as a mail: its
    templates for the sample lead, the subject's length, a language the site has not."""
    config = current_app.config
    problems = personalise.validate_step(
        subject, body, personalise.sample_context(config["SITE_URL"], config["SITE_NAME"])
    )
    if len(subject) > SUBJECT_MAX:
        problems.append(personalise.PersonalisationError("subject", f"at most {SUBJECT_MAX} characters"))
    if mail_locale(locale) is None:
        problems.append(personalise.PersonalisationError("locale", _unknown_locale(locale)))
    return problems


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


def record_click(message_id: int, *, now: datetime) -> None:
    """A click is an open too (images are often blocked)."""
    db.session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(
            click_count=Message.click_count + 1,
            clicked_at=func.coalesce(Message.clicked_at, now),
            opened_at=func.coalesce(Message.opened_at, now),
        )
    )
    signals.mail_clicked.send(current_app._get_current_object(), message_id=message_id)
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
            or event.get("type") not in EVENT_REASONS
            or "@" not in str(event.get("email", ""))
        ):
            raise ValueError("each event needs type (bounce, complaint, unsubscribe) and email")
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
        events.extend({"at": at, "kind": kind, "text": text, "url": url} for kind, at, text in moments if at)
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


def leads_matching(*, stage: str = "", source: str = "", since: datetime | None = None):
    """The consenting leads a filter selects (for enrolling a list): stage, source
    containing a text, created on or after a date."""
    query = select(Lead.id).where(Lead.marketing_consent.is_(True))
    if stage:
        query = query.where(Lead.stage == stage)
    if source:
        query = query.where(Lead.source.contains(source, autoescape=True))
    if since:
        query = query.where(Lead.created_at >= since)
    return query


def enroll_filtered(sequence_id: int, *, now: datetime, stage: str = "", source: str = "", since=None) -> int:
    """Enroll every consenting lead a filter selects; returns how many joined."""
    ids = db.session.scalars(leads_matching(stage=stage, source=source, since=since)).all()
    return enroll(ids, sequence_id, now=now, source="filter")
