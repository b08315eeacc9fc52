"""Saving a journey from the editor as ONE change: its settings and every step (added,
duplicated, moved, edited, deleted), a revision in the history, and the leads already
on their way moved safely.

Steps keep their identity (the editor posts each step's id), so a moved or edited step
keeps its figures and its sent mails. What happens to leads on their way (see
docs/NURTURE.md, "Editing a running sequence"):

- A lead waiting for a step keeps waiting for that step, wherever it moved; the steps
  after it in the new order follow. A lead is never sent a step twice: one it already
  got is passed over (the unique key on enrollment, step and round).
- A lead waiting for a deleted step waits instead for the step that followed it (the
  next step kept from the old order), or, when none did, for what follows the last
  kept step before it (a step added at the end); with nothing left it completes.
- Steps added before a lead's place are not sent to it; those after it are.
- When the step a lead waits for is another one now, or its delay changed, its send
  time is worked out again from the same start (its last mail, or its enrollment).
- A mail already queued goes out with the step's new text; a sent mail is not touched.
  Leads that completed the sequence stay completed.
"""

from datetime import datetime

from sqlalchemy import func, select, update

from core.extensions import db
from nurture import scheduling
from nurture.models import Enrollment, Sequence, SequenceRevision, Step
from nurture.sequences import export_dict
from nurture.validation import clean_sequence

STEP_FIELDS = ("delay_minutes", "delay_from", "subject", "body", "condition")


def save_journey(
    sequence: Sequence | None, data: dict, step_ids: list, *, now: datetime, user_id: int | None
) -> tuple[Sequence, str]:
    """Create or update a sequence from the editor; (sequence, "created" | "updated" |
    "unchanged"). `step_ids[i]` is the id of the saved step the i-th step of `data` is
    (None for a new one, or a duplicate). Raises validation.SequenceError, storing nothing."""
    fields = clean_sequence(data)
    steps = fields.pop("steps")
    fields.pop("status")
    created = sequence is None
    if created:
        sequence = Sequence(slug=fields["slug"], created_at=now, status="draft")
        db.session.add(sequence)
        before, old_steps = None, []
    else:
        before, old_steps = export_dict(sequence), list(sequence.steps)
    # The old steps' timing, read before their rows take the new values.
    old_timing = {step.id: (step.delay_minutes, step.delay_from) for step in old_steps}
    for key, value in fields.items():
        setattr(sequence, key, value)
    new_steps = _place_steps(sequence, old_steps, steps, step_ids)
    db.session.flush()
    after = export_dict(sequence)
    if before == after:
        db.session.rollback()
        return sequence, "unchanged"
    if not created:
        _move_leads(sequence, old_steps, old_timing, new_steps, now)
    changes = _changes(before, after, old_steps, new_steps)
    number = db.session.scalar(
        select(func.coalesce(func.max(SequenceRevision.number), 0)).where(
            SequenceRevision.sequence_id == sequence.id
        )
    )
    db.session.add(
        SequenceRevision(
            sequence_id=sequence.id,
            number=number + 1,
            user_id=user_id,
            created_at=now,
            changes=changes,
            snapshot=after,
        )
    )
    sequence.updated_at = now
    db.session.commit()
    return sequence, "created" if created else "updated"


def _place_steps(sequence: Sequence, old_steps: list, steps: list, step_ids: list) -> list:
    """The steps in their new order, kept ones reused (by id), others new or deleted."""
    by_id = {step.id: step for step in old_steps}
    # Positions are unique per sequence: park the kept steps out of the way first.
    for offset, step in enumerate(old_steps):
        step.position = -1 - offset
    db.session.flush()
    new_steps, used = [], set()
    for position, values in enumerate(steps):
        wanted = step_ids[position] if position < len(step_ids) else None
        step = by_id.get(wanted) if wanted not in used else None
        if step is None:
            step = Step(position=position)
            sequence.steps.append(step)
        used.add(wanted)
        step.position = position
        for key, value in values.items():
            setattr(step, key, value)
        new_steps.append(step)
    for step in old_steps:
        if step.id not in used:
            sequence.steps.remove(step)
    sequence.steps.sort(key=lambda step: step.position)
    return new_steps


def _new_position(waited_index: int, old_ids: list, new_index: dict, total: int) -> int:
    """Where a lead that waited for the old step at `waited_index` goes on (see above)."""
    for old_id in old_ids[waited_index:]:
        if old_id in new_index:
            return new_index[old_id]
    for old_id in reversed(old_ids[:waited_index]):
        if old_id in new_index:
            return new_index[old_id] + 1
    return total


def _move_leads(
    sequence: Sequence, old_steps: list, old_timing: dict, new_steps: list, now: datetime
) -> None:
    old_ids = [step.id for step in old_steps]
    new_index = {step.id: index for index, step in enumerate(new_steps)}
    # Locked, so a worker cannot move one of these leads on while they are placed.
    waiting = db.session.execute(
        select(
            Enrollment.id,
            Enrollment.position,
            Enrollment.enrolled_at,
            Enrollment.last_sent_at,
            Enrollment.next_send_at,
        )
        .where(Enrollment.sequence_id == sequence.id, Enrollment.status == "active")
        .with_for_update()
    ).all()
    moves = []
    for enrollment_id, position, enrolled_at, last_sent_at, next_send_at in waiting:
        waited = old_ids[position] if position < len(old_ids) else None
        target = (
            len(new_steps) if waited is None else _new_position(position, old_ids, new_index, len(new_steps))
        )
        due = next_send_at
        if target >= len(new_steps):
            due = now if waited is not None else next_send_at
        else:
            step = new_steps[target]
            if step.id != waited or old_timing[waited] != (step.delay_minutes, step.delay_from):
                due = scheduling.due_at(
                    sequence, step, enrolled_at=enrolled_at, previous_at=last_sent_at or enrolled_at
                )
        if (target, due) != (position, next_send_at):
            moves.append({"id": enrollment_id, "position": target, "next_send_at": due})
    if moves:
        db.session.execute(update(Enrollment), moves)


def _values(step) -> tuple:
    return tuple(getattr(step, name) for name in STEP_FIELDS)


def _changes(before: dict | None, after: dict, old_steps: list, new_steps: list) -> list[dict]:
    """What the save changed, as codes and step numbers (nurture.revisions words them)."""
    if before is None:
        return [{"change": "created", "steps": len(new_steps)}]
    changes = []
    if {k: v for k, v in before.items() if k != "steps"} != {k: v for k, v in after.items() if k != "steps"}:
        changes.append({"change": "settings"})
    old = {step.id: (index, values) for index, (step, values) in enumerate(_old_values(old_steps, before))}
    kept = [step.id for step in new_steps if step.id in old]
    if kept != sorted(kept, key=lambda step_id: old[step_id][0]):
        changes.append({"change": "reordered"})
    for number, step in enumerate(new_steps, start=1):
        if step.id not in old:
            changes.append({"change": "added", "step": number})
        elif old[step.id][1] != _values(step):
            changes.append({"change": "edited", "step": number})
    remaining = {step.id for step in new_steps}
    for step_id, (index, _old) in old.items():
        if step_id not in remaining:
            changes.append({"change": "deleted", "step": index + 1})
    return changes


def _old_values(old_steps: list, before: dict) -> list:
    """Each old step with its values as they were (the rows now hold the new ones)."""
    pairs = []
    for step, item in zip(old_steps, before["steps"], strict=True):
        values = (
            scheduling.parse_delay(item["delay"]),
            item.get("from", "previous"),
            item["subject"],
            item["body"],
            item.get("condition"),
        )
        pairs.append((step, values))
    return pairs
