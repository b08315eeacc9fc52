"""The insights page's trends: new leads, MQLs and conversions (leads that became
customers) per day, or per week over a long period, where each day starts at local
midnight in the zone given (the insights page gives the site's, as its tables count), not at
midnight UTC. Counted from
the rows themselves (leads, hand-offs, stage changes), one query per series."""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from core.trends import Trend, counts_between, points
from insights.models import Event
from insights.scoring.models import Handoff


def trends(since: date, until: date, *, channel: str = "", tz: str | None = None) -> Trend:
    from gated.models import Lead

    period = points(since, until, tz=tz)
    bounds = period.bounds
    of_channel = select(Lead.id).where(Lead.first_channel == channel)
    leads = counts_between(Lead.created_at, bounds, *([Lead.first_channel == channel] if channel else []))
    mqls = counts_between(Handoff.created_at, bounds, *([Handoff.lead_id.in_(of_channel)] if channel else []))
    customers = counts_between(
        Event.occurred_at,
        bounds,
        Event.kind == "stage_change",
        Event.value.like("%>customer"),
        *([Event.lead_id.in_(of_channel)] if channel else []),
    )
    return Trend(
        period.grain,
        period.starts,
        [(_("New leads"), leads), (_("MQLs"), mqls), (_("Conversions"), customers)],
    )
