"""The editor's sections of the staff home: what waits for review, the reader's own drafts,
articles past their review date and the reader's recent work, each linking to the
editor's list filtered to it; and the reader's planned pieces due soon or overdue, each
linking to its week on the editorial calendar."""

from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select

from content.models import Article
from content.planning import PlannedPiece
from core.extensions import db
from core.home import Figure, Row, panel
from core.localtime import local_date, local_today
from core.timeutil import utcnow

RECENT = 5
# How far ahead the home looks for the reader's plans: the coming week.
PLANS_AHEAD = timedelta(days=7)
PLAN_ROWS = 8


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


def plans_panel(user) -> Markup | str:
    """The reader's planned pieces not yet started, due in the next PLANS_AHEAD days or
    overdue (a target date before today, in the reader's zone), overdue first; nothing
    when there are none."""
    today = local_today()
    plans = db.session.scalars(
        select(PlannedPiece)
        .where(
            PlannedPiece.owner_id == user.id,
            PlannedPiece.article_id.is_(None),
            PlannedPiece.target_date <= today + PLANS_AHEAD,
        )
        .order_by(PlannedPiece.target_date, PlannedPiece.id)
    ).all()
    if not plans:
        return ""
    overdue = [plan for plan in plans if plan.target_date < today]

    def week(day) -> str:
        return url_for("content_calendar.calendar", view="week", date=day.isoformat())

    rows = [
        Row(
            plan.title,
            week(plan.target_date),
            _("overdue since %(date)s", date=local_date(plan.target_date))
            if plan.target_date < today
            else _("due %(date)s", date=local_date(plan.target_date)),
            urgent=plan.target_date < today,
        )
        for plan in plans[:PLAN_ROWS]
    ]
    return panel(
        "plans",
        _("My planned pieces"),
        figures=[
            Figure(
                _("Overdue"),
                len(overdue),
                week(overdue[0].target_date) if overdue else week(today),
                alert=True,
            ),
            Figure(_("Due within 7 days"), len(plans) - len(overdue), week(today)),
        ],
        rows=rows,
        more_url=url_for("content_calendar.calendar", view="month", date=today.isoformat()),
    )
