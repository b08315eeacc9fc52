"""Scoring's sections of the staff home: for sales, the MQLs waiting for their decision
with the time left on the response promise (SCORING_RESPONSE_HOURS); for marketers, MQLs
and conversions (leads that became customers) this week against the last four."""

from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from core.extensions import db
from core.home import Figure, Row, panel
from core.timeutil import utcnow
from core.trends import weekly_counts
from insights.models import Event
from insights.scoring.models import Handoff

SHOWN = 8


def handoffs_panel(user) -> Markup:
    from gated.models import Lead

    now = utcnow()
    promise = timedelta(hours=current_app.config["SCORING_RESPONSE_HOURS"])
    query = (
        select(Handoff, Lead)
        .join(Lead, Lead.id == Handoff.lead_id)
        .where(Handoff.outcome == "pending")
        .order_by(Handoff.created_at)
    )
    if not current_user.has_role("marketer"):
        query = query.where(Handoff.owner_id == user.id)
    waiting = db.session.execute(query).all()
    rows = [
        Row(
            lead.name or lead.email,
            url_for("gated_admin.lead", lead_id=lead.id),
            _time_left(handoff.created_at + promise - now),
            urgent=handoff.created_at + promise - now < timedelta(hours=4),
        )
        for handoff, lead in waiting[:SHOWN]
    ]
    figures = [Figure(_("MQLs waiting for my decision"), len(waiting), url_for("scoring_admin.handoffs"))]
    return panel("handoffs", _("Hand-offs"), figures=figures, rows=rows, empty=_("No lead waits for you."))


def _time_left(left: timedelta) -> str:
    if left <= timedelta(0):
        return _("overdue by %(hours)d h", hours=-left // timedelta(hours=1))
    hours = left // timedelta(hours=1)
    return _("%(hours)d h left", hours=hours) if hours else _("under an hour left")


def trends_panel(_user) -> Markup:
    now = utcnow()
    mqls = weekly_counts(Handoff.created_at, now=now)
    customers = weekly_counts(
        Event.occurred_at, Event.kind == "stage_change", Event.value.like("%>customer"), now=now
    )
    figures = [
        Figure(_("MQLs this week"), mqls[-1], url_for("scoring_admin.handoffs"), mqls),
        Figure(
            _("Conversions this week"),
            customers[-1],
            url_for("gated_admin.leads", stage="customer"),
            customers,
        ),
    ]
    return panel("pipeline", _("Pipeline"), figures=figures)
