"""Revisions: what changed between two saves, and bringing an old one back.

Every save writes a Revision (see services.save_article); a revision is compared as the
Markdown file it would export to, so the diff shows front matter and body alike.
"""

import difflib
from datetime import datetime

from content.documents import DATE_FIELDS, front_matter, to_markdown
from content.models import Article, Revision
from content.revision_notes import restore_note
from content.services import EDITABLE, save_article
from core.extensions import db


def restore_revision(revision: Revision, *, user, now: datetime) -> Article:
    """Bring back a revision's title, body and fields as a new revision (status stays)."""
    article = db.session.get(Article, revision.article_id)
    fields = {
        name: revision.fields[name]
        for name in EDITABLE
        if name in revision.fields and name not in ("status", "slug")
    }
    for name in DATE_FIELDS:
        if fields.get(name):
            fields[name] = datetime.fromisoformat(fields[name])
    return save_article(
        fields,
        revision.body_md,
        article=article,
        user=user,
        now=now,
        note=restore_note(revision),
    )


def revision_text(revision: Revision, timezone: str) -> str:
    """A revision as its Markdown file, which is what the diff compares."""
    values = dict(revision.fields)
    for name in DATE_FIELDS:
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    return to_markdown(front_matter(values, timezone), revision.body_md)


def revision_diff(older: Revision | None, newer: Revision, timezone: str) -> list[tuple[str, str]]:
    """A unified diff from `older` (None: empty) to `newer`, as (kind, line) pairs where
    kind is "add", "del", "hunk" or "same"."""
    before = revision_text(older, timezone).splitlines() if older else []
    after = revision_text(newer, timezone).splitlines()
    lines = []
    for line in difflib.unified_diff(before, after, lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        lines.append((kind, line))
    return lines
