"""The lead page's story: the timeline (gated's own events, registered like any other
package's), the submissions with the values each brought, and what the prospect wrote
(which the hand-off to sales shows too); plus the receiver that keeps white papers' files
in step with their front matter."""

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.timeutil import utcnow
from gated.assets import sync_article_asset
from gated.labels import label
from gated.models import PERSON_FIELDS, Consent, Download, Submission

# The forms whose submissions carry the prospect's own words (the demo request's message).
MESSAGE_FORMS = ("demo",)


@dataclass(frozen=True)
class Value:
    """One field of a submission: `proposed` when the lead did not take it (a public form
    may only add what the lead lacks: gated.leads.merge_profile)."""

    name: str
    value: str
    proposed: bool


def submissions(lead_id: int, *, limit: int = 50) -> list[tuple[Submission, list[Value], str]]:
    """The lead's latest submissions, newest first, each with the profile values it
    brought and its message."""
    rows = db.session.scalars(
        select(Submission)
        .where(Submission.lead_id == lead_id)
        .options(selectinload(Submission.asset), selectinload(Submission.article))
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(limit)
    )
    out = []
    for submission in rows:
        fields, proposed = submission.fields or {}, set(submission.proposed_fields or ())
        values = [
            Value(name, str(fields[name]), name in proposed) for name in PERSON_FIELDS if fields.get(name)
        ]
        out.append((submission, values, str(fields.get("message") or "")))
    return out


def latest_messages(lead_ids) -> dict[int, str]:
    """What each lead last wrote in a demo request (leads that wrote nothing are left
    out): one query for a whole list of leads."""
    ids = list(lead_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Submission.lead_id, Submission.fields)
        .where(Submission.lead_id.in_(ids), Submission.form.in_(MESSAGE_FORMS))
        .order_by(Submission.created_at.desc(), Submission.id.desc())
    )
    messages = {}
    for lead_id, fields in rows:
        message = str((fields or {}).get("message") or "")
        if message and lead_id not in messages:
            messages[lead_id] = message
    return messages


def events(lead_id: int) -> list[dict]:
    """Submissions, consents and downloads of a lead as timeline events."""
    out = []
    for submission in db.session.scalars(select(Submission).where(Submission.lead_id == lead_id)):
        asset = f" · {submission.asset.title}" if submission.asset else ""
        out.append(
            {
                "at": submission.created_at,
                "kind": "submission",
                "label": label("event", "submission"),
                "text": f"{label('form', submission.form)}{asset} · {label('channel', submission.channel)}",
                "url": None,
            }
        )
    for consent in db.session.scalars(select(Consent).where(Consent.lead_id == lead_id)):
        text = (
            _("Marketing consent given (version %(v)s)", v=consent.version)
            if consent.granted
            else _("Marketing consent not given (version %(v)s)", v=consent.version)
        )
        out.append(
            {
                "at": consent.created_at,
                "kind": "consent",
                "label": label("event", "consent"),
                "text": text,
                "url": None,
            }
        )
    for download in db.session.scalars(select(Download).where(Download.lead_id == lead_id)):
        title = download.asset.title if download.asset else _("a removed file")
        out.append(
            {
                "at": download.created_at,
                "kind": "download",
                "label": label("event", "download"),
                "text": _("Downloaded %(title)s", title=title),
                "url": None,
            }
        )
    return out


def sync_article(article_id: int) -> None:
    """On article_changed: copy in a white paper's file. A bad file never breaks the
    editor's save (it has committed already): it is logged."""
    from content.models import Article

    try:
        sync_article_asset(db.session.get(Article, article_id), now=utcnow())
    except (OSError, ValueError):
        db.session.rollback()
        current_app.logger.exception("Could not store the file of article %s", article_id)
