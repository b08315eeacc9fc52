"""How many searches visitors made, and how many of them found nothing, per local day
(per week over a long period), from the search log: the search report's chart."""

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from content.search.models import SearchQuery
from core.extensions import db
from core.trends import Trend, local_day, midnight, points


def search_volume(since: date, until: date, *, tz: str) -> Trend:
    """Searches and searches with no result on each day since..until (inclusive) of
    `tz`, or each week (from its Monday) past core.trends.DAILY_UP_TO days: one query
    grouped by the local day (or week) in the database."""
    period = points(since, until, tz=tz)
    bucket = local_day(SearchQuery.created_at, period.starts[0], until, tz=tz, step_days=period.step_days)
    counted = db.session.execute(
        select(bucket, func.count(), func.sum(case((SearchQuery.results == 0, 1), else_=0)))
        .where(
            SearchQuery.created_at >= midnight(since, tz=tz),
            SearchQuery.created_at < midnight(until + timedelta(days=1), tz=tz),
        )
        .group_by(bucket)
    ).all()
    figures = {
        date.fromisoformat(str(start)): (int(total), int(empty or 0)) for start, total, empty in counted
    }
    rows = [figures.get(start, (0, 0)) for start in period.starts]
    return Trend(
        period.grain,
        period.starts,
        [(_("Searches"), [row[0] for row in rows]), (_("Found nothing"), [row[1] for row in rows])],
    )
