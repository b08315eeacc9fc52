"""A sequence's revision history in words: who changed what, when (nurture.journey_save
records each change; the journey editor and the sequence page list them)."""

from flask_babel import gettext as _
from sqlalchemy import select

from core.extensions import db
from nurture.models import SequenceRevision

SHOWN = 30


def change_words(change: dict) -> str:
    """One recorded change (a code and maybe a step number) in the reader's language."""
    kind, number = change.get("change"), change.get("step", 0)
    if kind == "created":
        return _("Created with %(count)d steps", count=change.get("steps", 0))
    if kind == "settings":
        return _("Trigger, window or other settings changed")
    if kind == "reordered":
        return _("Steps reordered")
    if kind == "added":
        return _("Step %(n)d added", n=number)
    if kind == "edited":
        return _("Step %(n)d edited", n=number)
    if kind == "deleted":
        return _("Old step %(n)d deleted", n=number)
    return str(kind)


def history(sequence_id: int) -> list[dict]:
    """The latest revisions first, each with its changes in words."""
    rows = db.session.scalars(
        select(SequenceRevision)
        .where(SequenceRevision.sequence_id == sequence_id)
        .order_by(SequenceRevision.number.desc())
        .limit(SHOWN)
    ).all()
    return [
        {"revision": row, "changes": [change_words(change) for change in row.changes or []]} for row in rows
    ]
