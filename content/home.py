"""The editor's section of the staff home: what waits for review, the reader's own drafts,
articles past their review date and the reader's recent work, each linking to the
editor's list filtered to it."""

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from content.models import Article
from core.extensions import db
from core.home import Figure, Row, panel
from core.timeutil import utcnow

RECENT = 5


def editor_panel(user) -> Markup:
    now = utcnow()
    review, drafts, due = db.session.execute(
        select(
            func.count().filter(Article.status == "in_review"),
            func.count().filter(Article.status == "draft", Article.owner_id == user.id),
            func.count().filter(Article.review_by.is_not(None), Article.review_by <= now),
        )
    ).one()
    index = "content_admin.index"
    figures = [
        Figure(_("Waiting for review"), review, url_for(index, status="in_review")),
        Figure(_("My drafts"), drafts, url_for(index, status="draft", owner=user.id)),
        Figure(_("Due for review"), due, url_for(index, stale=1), alert=True),
    ]
    recent = db.session.scalars(
        select(Article)
        .where(Article.owner_id == user.id)
        .order_by(Article.updated_at.desc(), Article.id.desc())
        .limit(RECENT)
    ).all()
    rows = [Row(article.title, url_for("content_admin.edit", article_id=article.id)) for article in recent]
    return panel(
        "content",
        _("Content"),
        figures=figures,
        rows=rows,
        more_url=url_for(index, owner=user.id) if rows else "",
    )
