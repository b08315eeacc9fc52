"""Daily aggregates: the rollup of raw events into insight_daily, the pruning of raw
events past INSIGHTS_RETENTION_DAYS, and `tally`, which every dashboard figure goes
through so that a figure is the same before and after a rollup and a prune.

A day is rolled up once it is over (UTC). Dashboards read the aggregates for rolled-up
days and the raw events for the days after the last one (today, usually), so they read a
few rows per day and path instead of every event.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import and_, case, delete, func, literal, select

from core.extensions import db
from insights.models import VALUE_KINDS, DailyCount, Event, RolledUpDay

GROUPS = ("kind", "path", "landing", "channel", "value", "visit_seq")
# Where the landing page is kept in the aggregates: second pages of a visit (the visit
# did not bounce) and form submissions (conversion per landing page). Elsewhere it is
# dropped, or there would be a row per path and landing pair.
LANDING_KINDS = ("page_view", "search", "form_submit")


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _start(day: date) -> datetime:
    return datetime.combine(day, time())


def _raw_columns():
    """The raw event's columns as the aggregates keep them."""
    return {
        "kind": Event.kind,
        "path": Event.path,
        "landing": case(
            (
                and_(
                    Event.kind.in_(LANDING_KINDS),
                    (Event.kind == "form_submit") | (Event.visit_seq == 2),
                ),
                Event.landing,
            ),
            else_=literal(""),
        ),
        "channel": Event.channel,
        "value": case((Event.kind.in_(VALUE_KINDS), Event.value), else_=literal("")),
        "visit_seq": Event.visit_seq,
    }


def rolled_until() -> date | None:
    """The first day not rolled up yet (the day after the last rolled-up one), or None."""
    last = db.session.scalar(select(func.max(RolledUpDay.day)))
    return _as_date(last) + timedelta(days=1) if last is not None else None


def rollup(*, now: datetime) -> int:
    """Aggregate every finished day not rolled up yet. Returns the days rolled up."""
    first = rolled_until()
    if first is None:
        oldest = db.session.scalar(select(func.min(Event.occurred_at)))
        if oldest is None:
            return 0
        first = oldest.date()
    columns = _raw_columns()
    done = 0
    day = first
    while day < now.date():
        start, end = _start(day), _start(day + timedelta(days=1))
        rows = db.session.execute(
            select(*columns.values(), func.count())
            .where(Event.occurred_at >= start, Event.occurred_at < end)
            .group_by(*columns.values())
        ).all()
        db.session.add_all(
            DailyCount(day=day, count=row[-1], **dict(zip(GROUPS, row[:-1], strict=True))) for row in rows
        )
        db.session.add(RolledUpDay(day=day, events=sum(row[-1] for row in rows), rolled_up_at=now))
        db.session.commit()
        done += 1
        day += timedelta(days=1)
    return done


def prune(*, now: datetime) -> int:
    """Delete raw events older than INSIGHTS_RETENTION_DAYS whose day is rolled up."""
    days = int(current_app.config["INSIGHTS_RETENTION_DAYS"])
    cutoff = _start(now.date() - timedelta(days=days))
    until = rolled_until()
    if until is None:
        return 0
    cutoff = min(cutoff, _start(until))
    result = db.session.execute(delete(Event).where(Event.occurred_at < cutoff))
    db.session.commit()
    return result.rowcount or 0


def tally(
    since: date,
    until: date,
    *,
    kinds: Iterable[str],
    by: Iterable[str] = ("kind",),
    where: dict | None = None,
) -> dict[tuple, int]:
    """How many events of `kinds` happened on the days since..until (inclusive),
    grouped by the columns `by` (any of GROUPS, and "day"), with `where` {column: value or
    tuple of values}; from the aggregates where the days are rolled up, else raw."""
    by, kinds, where = tuple(by), tuple(kinds), where or {}
    end = until + timedelta(days=1)
    boundary = rolled_until() or since
    boundary = min(max(boundary, since), end)
    totals: dict[tuple, int] = defaultdict(int)
    if boundary > since:
        columns = {name: getattr(DailyCount, name) for name in GROUPS} | {"day": DailyCount.day}
        stmt = select(*(columns[name] for name in by), func.sum(DailyCount.count)).where(
            DailyCount.day >= since, DailyCount.day < boundary, DailyCount.kind.in_(kinds)
        )
        for row in db.session.execute(_filtered(stmt, columns, where).group_by(*(columns[n] for n in by))):
            totals[_key(row[:-1], by)] += int(row[-1] or 0)
    if boundary < end:
        columns = _raw_columns() | {"day": func.date(Event.occurred_at)}
        stmt = select(*(columns[name] for name in by), func.count()).where(
            Event.occurred_at >= _start(boundary), Event.occurred_at < _start(end), Event.kind.in_(kinds)
        )
        for row in db.session.execute(_filtered(stmt, columns, where).group_by(*(columns[n] for n in by))):
            totals[_key(row[:-1], by)] += int(row[-1] or 0)
    return dict(totals)


def _filtered(stmt, columns, where):
    for name, wanted in where.items():
        column = columns[name]
        stmt = stmt.where(column.in_(wanted) if isinstance(wanted, tuple | list) else column == wanted)
    return stmt


def _key(values, by) -> tuple:
    return tuple(_as_date(v) if name == "day" else v for name, v in zip(by, values, strict=True))
