"""Counts over time for the trends (the staff home's sparklines, the insights and search
report charts): how many rows fall between consecutive instants, or on each local day, in
one query, so a day or a week can start at the reader's local midnight (DST included) on
SQLite and PostgreSQL alike; and a period's points (days, or weeks past DAILY_UP_TO days)
with their labels in the reader's words."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import case, func, literal, select

from core.extensions import db
from core.localtime import zone

WEEKS = 4  # the home's trends: the last four weeks, this week last
DAILY_UP_TO = 62  # days: a longer period is drawn by week (Monday to Sunday)


@dataclass
class Trend:
    """Counts over a period, per local day or per week, ready for the shared line chart."""

    grain: str  # "day" or "week"
    starts: list[date]  # the local day (or the Monday) each point counts
    series: list[tuple[str, list[int]]]  # (label, one count per point)

    @property
    def labels(self) -> list[str]:
        return [point_label(start, self.grain) for start in self.starts]


def point_label(start: date, grain: str) -> str:
    """A point of a trend in the reader's words: 12月7日 (a day), 12月7日当周 (a week)."""
    day = format_skeleton("MMMd", start, locale=get_locale())
    return _("week of %(day)s", day=day) if grain == "week" else day


@dataclass
class Points:
    """Where a period's points start: its days, or (past DAILY_UP_TO days) its weeks from
    the Monday of its first; `bounds` are the local midnights that start each point, and
    the one that ends the last."""

    grain: str
    starts: list[date]
    bounds: list[datetime]

    @property
    def step_days(self) -> int:
        return 7 if self.grain == "week" else 1


def points(since: date, until: date, *, tz: str | None = None) -> Points:
    weekly = (until - since).days + 1 > DAILY_UP_TO
    step = 7 if weekly else 1
    first = since - timedelta(days=since.weekday()) if weekly else since
    bounds = local_midnights(first, until, step_days=step, tz=tz)
    starts = [first + timedelta(days=step * n) for n in range(len(bounds) - 1)]
    return Points("week" if weekly else "day", starts, bounds)


def counts_between(column, bounds: list[datetime], *conditions) -> list[int]:
    """How many rows have `column` (a naive UTC datetime) in each [bounds[i], bounds[i+1]),
    oldest first; `conditions` narrow the rows."""
    if len(bounds) < 2:
        return []
    counts = [func.count().filter(column >= start, column < end) for start, end in pairwise(bounds)]
    row = db.session.execute(
        select(*counts).where(column >= bounds[0], column < bounds[-1], *conditions)
    ).one()
    return [int(value) for value in row]


def weekly_counts(column, *conditions, now: datetime, weeks: int = WEEKS) -> list[int]:
    """How many rows have `column` in each of the last `weeks` seven-day windows ending at
    `now`, oldest first. Rolling windows, so the figure needs no time zone: "this week" is
    the last seven days wherever the reader is."""
    bounds = [now - timedelta(days=7 * back) for back in range(weeks, -1, -1)]
    return counts_between(column, bounds, *conditions)


def local_midnights(first: date, last: date, *, step_days: int = 1, tz: str | None = None) -> list[datetime]:
    """The instants (naive UTC, as stored) at which the local days (or weeks, with
    step_days=7) from `first` to `last` start, and the one after the last ends: in
    Shanghai 16:00 UTC the day before; in New York 05:00 or 04:00 by the season."""
    place = zone(tz)
    starts, day = [], first
    while day <= last:
        starts.append(day)
        day += timedelta(days=step_days)
    starts.append(day)  # the end of the last day or week
    return [midnight(day, tz=place) for day in starts]


def midnight(day: date, *, tz=None) -> datetime:
    """The instant (naive UTC, as stored) at which `day` starts in `tz` (a name or a zone;
    else the reader's)."""
    place = tz if tz is not None and not isinstance(tz, str) else zone(tz)
    return datetime.combine(day, datetime.min.time(), tzinfo=place).astimezone(UTC).replace(tzinfo=None)


def local_day(column, first: date, last: date, *, tz: str | None = None, step_days: int = 1):
    """A SQL expression for the local day (an ISO date) on which `column`, a naive UTC
    time between the start of `first` and the end of `last`, falls in `tz`: one CASE
    over the days' midnights, so rows are grouped by local day in the database, in one
    statement, on SQLite and PostgreSQL alike and across a DST change (a fixed offset
    would be wrong for half the year in New York). With step_days=7, the day is the
    first of the week (from `first`) the time falls in."""
    bounds = local_midnights(first, last, step_days=step_days, tz=tz)
    days = [first + timedelta(days=step_days * n) for n in range(len(bounds) - 1)]
    return case(
        *((column < end, literal(day.isoformat())) for day, end in zip(days, bounds[1:], strict=True)),
        else_=literal(None),
    )
