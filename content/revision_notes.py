"""What a revision's note says, in the reader's language.

The notes the system writes are stored as codes, never as sentences: the fields a save
changed and the workflow step it took ("title, body_md, publish"), "created", "saved",
"import:<file>" and "restore:<revision id>:<its time, ISO UTC>". `note_words` turns them
into words at display time; it also reads the English sentences older rows hold
("import a.md", "restored revision #3 of 2026-11-01 09:00 UTC"), so they show translated
without rewriting them. A note it does not recognise is shown as stored.
"""

import re
from datetime import datetime

from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.fields.core import UnboundField

from content.forms import ArticleForm
from content.models import Revision
from content.workflow import ACTIONS
from core.localtime import local_time

CREATED = "created"
UNCHANGED = "saved"
IMPORTED = "import:"
RESTORED = "restore:"
NOTE_LENGTH = 200  # Revision.note
# The English sentences rows written before the codes hold.
LEGACY_IMPORT = re.compile(r"^import (?P<file>.+)$")
LEGACY_RESTORE = re.compile(r"^restored revision #(?P<id>\d+) of (?P<at>\d{4}-\d\d-\d\d \d\d:\d\d) UTC$")
# A change's field is named as the editor's form labels it (Article attributes that are
# not the form's own names: the body, the gated file, the sequence).
OTHER_FIELDS = {
    "body_md": ArticleForm.body,
    "asset_source": ArticleForm.gated_file,
    "sequence_slug": ArticleForm.sequence,
}
STATUS = _l("Status")  # the importer may set it


def import_note(file_name: str) -> str:
    """The note of a revision an import wrote."""
    return f"{IMPORTED}{file_name}"[:NOTE_LENGTH]


def restore_note(revision: Revision) -> str:
    """The note of a revision that brings `revision` back."""
    return f"{RESTORED}{revision.id}:{revision.created_at:%Y-%m-%dT%H:%M}"


def _field_label(name: str):
    if name == "status":
        return STATUS
    field = OTHER_FIELDS.get(name) or getattr(ArticleForm, name, None)
    if not isinstance(field, UnboundField) or not field.args:  # a form method, or no field
        return None
    return field.args[0]


def _restored(revision_id: str, at: str) -> str:
    return _(
        "Restored revision #%(id)s of %(time)s", id=revision_id, time=local_time(datetime.fromisoformat(at))
    )


def _changes(note: str) -> str | None:
    """A list of change codes in words, or None when `note` is not one."""
    fields, steps = [], []
    for code in (part.strip() for part in note.split(",")):
        if code == CREATED:
            steps.insert(0, _("Created the article"))
        elif code == UNCHANGED:
            steps.append(_("Saved with no changes"))
        elif code in ACTIONS:
            steps.append(str(ACTIONS[code].label))
        elif (label := _field_label(code)) is not None:
            fields.append(str(label))
        else:
            return None
    if fields:
        steps.insert(0, _("Changed %(fields)s", fields=format_list(fields, locale=get_locale())))
    return " · ".join(steps)


def note_words(note: str) -> str:
    """A revision's note as the reader reads it."""
    if not note:
        return ""
    if note.startswith(IMPORTED):
        return _("Imported from %(file)s", file=note.removeprefix(IMPORTED))
    if note.startswith(RESTORED):
        revision_id, _sep, at = note.removeprefix(RESTORED).partition(":")
        try:
            return _restored(revision_id, at)
        except ValueError:
            return note
    if found := LEGACY_RESTORE.match(note):
        return _restored(found["id"], found["at"])
    if found := LEGACY_IMPORT.match(note):
        return _("Imported from %(file)s", file=found["file"])
    words = _changes(note)
    return note if words is None else words
