"""Sequences: saved from the admin or upserted from YAML, exported again, and their
life (activate, pause, resume, archive). Each public function commits."""

from datetime import datetime

import yaml
from sqlalchemy import select

from core.extensions import db
from nurture import scheduling
from nurture.exits import exit_where
from nurture.mailqueue import hold_queued, release_held
from nurture.models import DAYS, SEQUENCE_STATUSES, Enrollment, Sequence, Step, Topic
from nurture.validation import SequenceError, clean_sequence, parse_sequence_yaml


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
    """Upsert a sequence from its YAML (docs/NURTURE.md). A new one starts active (an
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
        exit_where(Enrollment.sequence_id == sequence_id, "removed", now)
    if status == "paused":
        hold_queued(sequence_id)
    if status == "active":
        release_held(sequence_id, now)  # what was held while it was paused
    db.session.commit()
    return sequence


def sequence_choices() -> list[tuple[str, str]]:
    """(slug, name) of every sequence, by name: the editor's picker for a white paper's
    follow-up sequence."""
    return [
        (row.slug, f"{row.name} ({row.slug})")
        for row in db.session.execute(select(Sequence.slug, Sequence.name).order_by(Sequence.name))
    ]
