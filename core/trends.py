"""Counts over time for the trends (the staff home's sparklines, the insights charts):
how many rows fall between consecutive instants, in one query, so a day or a week can
start at the reader's local midnight (DST included) on SQLite and PostgreSQL alike."""

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from sqlalchemy import case, func, literal, select

from core.extensions import db
from core.localtime import zone

WEEKS = 4  # the home's trends: the last four weeks, this week last


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


def local_day(column, first: date, last: date, *, tz: str | None = None):
    """A SQL expression for the local day (an ISO date) on which `column`, a naive UTC
    time between the start of `first` and the end of `last`, falls in `tz`: one CASE
    over the days' midnights, so rows are grouped by local day in the database, in one
    statement, on SQLite and PostgreSQL alike and across a DST change (a fixed offset
    would be wrong for half the year in New York)."""
    bounds = local_midnights(first, last, tz=tz)
    days = [first + timedelta(days=n) for n in range(len(bounds) - 1)]
    return case(
        *((column < end, literal(day.isoformat())) for day, end in zip(days, bounds[1:], strict=True)),
        else_=literal(None),
    )
