"""Days as the site counts them: a visit's day and a week's bounds are in the site's time
zone (`TIMEZONE`, Asia/Shanghai by default), not UTC, so a visit at 07:30 on a Monday in
Shanghai (23:30 on Sunday UTC) is Monday's, and the leaderboard's week runs from Monday
00:00 to Sunday 24:00 where the team works. Storage stays naive UTC (core.timeutil).
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def site_day(moment: datetime) -> date:
    """The site's calendar day of a stored (naive UTC) moment."""
    return moment.replace(tzinfo=UTC).astimezone(site_zone()).date()


def day_start(day: date) -> datetime:
    """The naive UTC moment the site's `day` begins (its local midnight)."""
    return datetime.combine(day, time.min, tzinfo=site_zone()).astimezone(UTC).replace(tzinfo=None)
