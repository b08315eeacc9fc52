"""Scoring's sections of the staff home: for sales, the MQLs waiting for their decision
(for an admin, the team's) with the working time left on the response promise
(promise.py); for marketers, missed promises and the leads sales returned with their
reasons, and MQLs and conversions (leads that became customers) this week against the
last four."""

from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup

from core.home import Figure, Row, panel
from core.localtime import local_time
from core.timeutil import utcnow
from core.trends import weekly_counts
from gated.identity import lead_name
from insights.models import Event
from insights.scoring import desk
from insights.scoring.models import Handoff

SHOWN = 8


def handoffs_panel(user) -> Markup:
    waiting = desk.pending(user, now=utcnow())
    rows = [
        Row(
            lead_name(item.lead),
            url_for("scoring_admin.handoffs", _anchor=f"handoff-{item.handoff.id}"),
            _time_left(item),
            urgent=item.left < timedelta(hours=1),
        )
        for item in waiting[:SHOWN]
    ]
    # A salesperson is given their own hand-offs; an admin (who sees this panel as every
    # role's) the whole team's queue, and is told so.
    if desk.sees_the_team(user):
        label, empty = _("MQLs waiting for the team"), _("No lead waits for the team.")
    else:
        label, empty = _("MQLs waiting for my decision"), _("No lead waits for you.")
    figures = [Figure(label, len(waiting), url_for("scoring_admin.handoffs"))]
    return panel("handoffs", _("Hand-offs"), figures=figures, rows=rows, empty=empty)


def _time_left(item: desk.Waiting) -> str:
    hours, minutes = item.hours_minutes
    if item.missed:
        return _("Promise missed by %(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    return _("%(hours)d h %(minutes)d min left", hours=hours, minutes=minutes)


def returned_panel(_user) -> Markup:
    """The marketer's follow-up: MQLs whose response promise was missed (escalated), and
    the leads sales returned lately, each with the reason."""
    now = utcnow()
    missed = desk.missed()
    returned = desk.returned(now=now)
    rows = [
        Row(
            lead_name(lead),
            url_for("gated_admin.lead", lead_id=lead.id),
            _("Promise missed, handed off %(at)s", at=local_time(handoff.created_at)),
            urgent=True,
        )
        for handoff, lead in missed[:SHOWN]
    ] + [
        Row(
            lead_name(lead),
            url_for("gated_admin.lead", lead_id=lead.id),
            _(
                "Returned: %(reason)s",
                reason=handoff.reason + (f"（{handoff.note}）" if handoff.note else ""),
            ),
        )
        for handoff, lead in returned[:SHOWN]
    ]
    figures = [
        Figure(_("Missed response promises"), len(missed), url_for("scoring_admin.handoffs"), alert=True),
        Figure(_("Returned by sales (30 days)"), len(returned), url_for("scoring_admin.review")),
    ]
    return panel(
        "returned",
        _("Returned by sales"),
        figures=figures,
        rows=rows,
        empty=_("Sales returned no lead lately and kept every promise."),
        more_url=url_for("scoring_admin.review"),
    )


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
