"""The insights page's trends: new leads, MQLs and conversions (leads that became
customers) per day, or per week over a long period, where each day starts at local
midnight in the zone given (the insights page gives the site's, as its tables count), not at
midnight UTC. Counted from
the rows themselves (leads, hand-offs, stage changes), one query per series."""

from dataclasses import dataclass
from datetime import date, timedelta

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from core.trends import counts_between, local_midnights
from insights.models import Event
from insights.scoring.models import Handoff

DAILY_UP_TO = 62  # days: a longer period is drawn by week (Monday to Sunday)


@dataclass
class Trend:
    grain: str  # "day" or "week"
    starts: list[date]  # the local day (or the Monday) each point counts
    series: list[tuple[str, list[int]]]  # (label, one count per point)

    @property
    def labels(self) -> list[str]:
        """Each point in the reader's words: 12月7日 (a day), 12月7日当周 (a week)."""
        days = [format_skeleton("MMMd", day, locale=get_locale()) for day in self.starts]
        return [_("week of %(day)s", day=day) for day in days] if self.grain == "week" else days


def trends(since: date, until: date, *, channel: str = "", tz: str | None = None) -> Trend:
    from gated.models import Lead

    weekly = (until - since).days + 1 > DAILY_UP_TO
    first = since - timedelta(days=since.weekday()) if weekly else since
    bounds = local_midnights(first, until, step_days=7 if weekly else 1, tz=tz)
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
    starts = [first + timedelta(days=(7 if weekly else 1) * n) for n in range(len(bounds) - 1)]
    return Trend(
        "week" if weekly else "day",
        starts,
        [(_("New leads"), leads), (_("MQLs"), mqls), (_("Conversions"), customers)],
    )
