"""The lead page's timeline (gated's own events, registered like any other package's)
and the receiver that keeps white papers' files in step with their front matter."""

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from core.extensions import db
from core.timeutil import utcnow
from gated.assets import sync_article_asset
from gated.labels import label
from gated.models import Consent, Download, Submission


def events(lead_id: int) -> list[dict]:
    """Submissions, consents and downloads of a lead as timeline events."""
    out = []
    for submission in db.session.scalars(select(Submission).where(Submission.lead_id == lead_id)):
        asset = f" · {submission.asset.title}" if submission.asset else ""
        out.append(
            {
                "at": submission.created_at,
                "kind": "submission",
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
        out.append({"at": consent.created_at, "kind": "consent", "text": text, "url": None})
    for download in db.session.scalars(select(Download).where(Download.lead_id == lead_id)):
        title = download.asset.title if download.asset else _("a removed file")
        out.append(
            {
                "at": download.created_at,
                "kind": "download",
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
