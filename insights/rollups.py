"""Daily aggregates: the rollup of raw events into insight_daily, the pruning of raw
events past INSIGHTS_RETENTION_DAYS, and `tally`, which every dashboard figure goes
through so that a figure is the same before and after a rollup and a prune.

A day is the site's local day (TIMEZONE, Asia/Shanghai by default: from 16:00 UTC the
day before), so a report's Monday is the Monday its readers live, and one day's figures
are the same for every reader. A day is rolled up once it is over. Dashboards read the aggregates for rolled-up
days and the raw events for the days after the last one (today, usually), so they read a
few rows per day and path instead of every event.

Assisted conversions (a lead's submission on one page counts for every other page the lead
viewed before it) need the person behind the events: the rollup counts them per day, page
and channel while the lead's earlier views are still there, as kind ASSISTED of the page
grains, and `tally` counts them from the raw events for the days after. Search entrances,
exits and time on page need the order of a visitor's events: the same, as the kinds
insights.visits.DERIVED of the "page" grain (by page alone, not by channel).
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, delete, func, literal, or_, select

from core.extensions import db
from core.localtime import day_of, site_zone
from core.trends import local_day, midnight
from insights import visits
from insights.models import VALUE_KINDS, DailyCount, Event, RolledUpDay

GROUPS = ("kind", "path", "landing", "channel", "value", "visit_seq")
# Not an event kind: the aggregates' count of conversions a page assisted (see raw_assists).
ASSISTED = "assisted"
# Leads whose views are read in one statement (an IN list every database takes).
LEAD_BATCH = 500


def _grains() -> dict:
    """Each grain of the aggregates (insights.models.GRAINS): the columns it keeps and
    which events it counts. "page" and "landing" leave the channel out, so the usual
    unfiltered figures read a few rows per page and day; their "_channel" twins keep it,
    for figures by channel or filtered by one."""
    page = Event.kind.in_(("page_view", "form_submit"))
    landing = or_(
        and_(Event.kind.in_(("page_view", "search")), Event.visit_seq.in_((1, 2))),
        and_(Event.kind == "form_submit", Event.landing != ""),
    )
    return {
        "total": (("kind", "value", "visit_seq"), None),
        "total_channel": (("kind", "channel", "value", "visit_seq"), None),
        "page": (("kind", "path"), page),
        "page_channel": (("kind", "path", "channel"), page),
        "landing": (("kind", "landing", "visit_seq"), landing),
        "landing_channel": (("kind", "landing", "channel", "visit_seq"), landing),
    }


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _start(day: date) -> datetime:
    """The instant (naive UTC) the site's local `day` starts."""
    return midnight(day, tz=site_zone())


def _day(at: datetime) -> date:
    """The site's local day of a stored time."""
    return day_of(at, site_zone())


def _raw_columns():
    """The raw event's columns as the aggregates keep them (a value only where a figure
    reads it: a form kind, a stage change, not every query and clicked URL)."""
    return {
        "kind": Event.kind,
        "path": Event.path,
        "landing": Event.landing,
        "channel": Event.channel,
        "value": case((Event.kind.in_(VALUE_KINDS), Event.value), else_=literal("")),
        "visit_seq": Event.visit_seq,
    }


def raw_assists(start: datetime, end: datetime) -> dict[tuple[date, str, str], int]:
    """Conversions in [start, end) each page assisted, from the raw events, by (day,
    page, channel of the conversion): a form submission of a lead counts once for every
    other page the lead viewed before it (at the same time included).

    Two indexed reads (the submissions, then those leads' page views by lead_id) joined
    here: a self-join of the events table is left to a poor plan on SQLite."""
    conversions: dict[int, list[tuple]] = defaultdict(list)
    for lead_id, at, path, channel in db.session.execute(
        select(Event.lead_id, Event.occurred_at, Event.path, Event.channel).where(
            Event.kind == "form_submit",
            Event.occurred_at >= start,
            Event.occurred_at < end,
            Event.lead_id.is_not(None),
        )
    ):
        conversions[lead_id].append((at, path, channel))
    counts: dict[tuple[date, str, str], int] = defaultdict(int)
    lead_ids = list(conversions)
    for first in range(0, len(lead_ids), LEAD_BATCH):
        views: dict[int, list[tuple]] = defaultdict(list)
        # The kind is checked here, so the lead_id index is the one the database picks.
        for lead_id, at, path, kind in db.session.execute(
            select(Event.lead_id, Event.occurred_at, Event.path, Event.kind).where(
                Event.lead_id.in_(lead_ids[first : first + LEAD_BATCH]), Event.occurred_at < end
            )
        ):
            if kind == "page_view":
                views[lead_id].append((at, path))
        for lead_id, viewed in views.items():
            for converted_at, page, channel in conversions[lead_id]:
                for path in {path for at, path in viewed if at <= converted_at and path != page}:
                    counts[(_day(converted_at), path, channel)] += 1
    return counts


def _assist_rows(day: date) -> list[DailyCount]:
    """The day's assisted conversions as aggregate rows: per page and channel, and per
    page (the channel left out, as the page grain keeps it)."""
    by_channel = raw_assists(_start(day), _start(day + timedelta(days=1)))
    by_page: dict[str, int] = defaultdict(int)
    for (_day, path, _channel), count in by_channel.items():
        by_page[path] += count
    return [
        DailyCount(grain="page_channel", day=day, kind=ASSISTED, path=path, channel=channel, count=count)
        for (_day, path, channel), count in by_channel.items()
    ] + [
        DailyCount(grain="page", day=day, kind=ASSISTED, path=path, count=count)
        for path, count in by_page.items()
    ]


def _visit_rows(day: date) -> list[DailyCount]:
    """The day's search entrances, exits and time on page (insights.visits) per page."""
    return [
        DailyCount(grain="page", day=day, kind=kind, path=path, count=count)
        for (_day, path, kind), count in visits.raw_counts(day, day).items()
    ]


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
        first = _day(oldest)
    columns = _raw_columns()
    done = 0
    day = first
    while day < _day(now):
        in_day = (Event.occurred_at >= _start(day), Event.occurred_at < _start(day + timedelta(days=1)))
        total = 0
        for grain, (groups, condition) in _grains().items():
            chosen = [columns[name] for name in groups]
            stmt = select(*chosen, func.count()).where(*in_day).group_by(*chosen)
            if condition is not None:
                stmt = stmt.where(condition)
            rows = db.session.execute(stmt).all()
            db.session.add_all(
                DailyCount(grain=grain, day=day, count=row[-1], **dict(zip(groups, row[:-1], strict=True)))
                for row in rows
            )
            if grain == "total":
                total = sum(row[-1] for row in rows)
        db.session.add_all(_assist_rows(day))
        db.session.add_all(_visit_rows(day))
        db.session.add(RolledUpDay(day=day, events=total, rolled_up_at=now))
        db.session.commit()
        done += 1
        day += timedelta(days=1)
    return done


def backfill_assists() -> int:
    """Count the assisted conversions, search entrances, exits and time on page of
    rolled-up days whose raw events are still kept (days rolled up before these were
    aggregated have none). Each day's rows of them are replaced, so running it again
    changes nothing. Returns the days counted."""
    oldest = db.session.scalar(select(func.min(Event.occurred_at)))
    if oldest is None:
        return 0
    days = db.session.scalars(
        select(RolledUpDay.day).where(RolledUpDay.day >= _day(oldest)).order_by(RolledUpDay.day)
    ).all()
    for day in map(_as_date, days):
        db.session.execute(
            delete(DailyCount).where(DailyCount.day == day, DailyCount.kind.in_((ASSISTED, *visits.DERIVED)))
        )
        db.session.add_all(_assist_rows(day))
        db.session.add_all(_visit_rows(day))
        db.session.commit()
    return len(days)


def forget_kept_days() -> int:
    """Drop the aggregates of every rolled-up day whose raw events are all still kept (the
    days after the oldest event's day, which a prune may have cut), so the next rollup
    counts them again by the site's days: after upgrading from UTC days, or after a change
    of TIMEZONE. Earlier days keep their aggregates. Returns the days dropped."""
    oldest = db.session.scalar(select(func.min(Event.occurred_at)))
    if oldest is None:
        return 0
    first = _day(oldest) + timedelta(days=1)
    dropped = db.session.execute(delete(RolledUpDay).where(RolledUpDay.day >= first)).rowcount or 0
    db.session.execute(delete(DailyCount).where(DailyCount.day >= first))
    db.session.commit()
    return dropped


def prune(*, now: datetime) -> int:
    """Delete raw events older than INSIGHTS_RETENTION_DAYS whose day is rolled up."""
    days = int(current_app.config["INSIGHTS_RETENTION_DAYS"])
    cutoff = _start(_day(now) - timedelta(days=days))
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
    grain: str = "total",
    kinds: Iterable[str],
    by: Iterable[str] = ("kind",),
    where: dict | None = None,
) -> dict[tuple, int]:
    """How many events of `kinds` happened on the days since..until (inclusive), as the
    `grain` of the aggregates counts them, grouped by its columns `by` (and "day"), with
    `where` {column: value or tuple of values}; from the aggregates where the days are
    rolled up, else from the raw events. The page grains also count kind ASSISTED, and
    the "page" grain the kinds of insights.visits.DERIVED."""
    by, kinds, where = tuple(by), tuple(kinds), where or {}
    if "channel" in where or "channel" in by:
        grain += "_channel"
    groups, condition = _grains()[grain]
    if not set(by) | set(where) <= {*groups, "day"}:
        raise ValueError(f"the {grain} grain keeps only {groups}")
    end = until + timedelta(days=1)
    boundary = rolled_until() or since
    boundary = min(max(boundary, since), end)
    totals: dict[tuple, int] = defaultdict(int)
    if boundary > since:
        columns = {name: getattr(DailyCount, name) for name in GROUPS} | {"day": DailyCount.day}
        stmt = select(*(columns[name] for name in by), func.sum(DailyCount.count)).where(
            DailyCount.grain == grain,
            DailyCount.day >= since,
            DailyCount.day < boundary,
            DailyCount.kind.in_(kinds),
        )
        if "channel" not in groups:
            stmt = stmt.where(DailyCount.channel == "")  # the index's second column
        for row in db.session.execute(_filtered(stmt, columns, where).group_by(*(columns[n] for n in by))):
            totals[_key(row[:-1], by)] += int(row[-1] or 0)
    if boundary < end:
        columns = _raw_columns() | {"day": local_day(Event.occurred_at, boundary, until, tz=site_zone())}
        stmt = select(*(columns[name] for name in by), func.count()).where(
            Event.occurred_at >= _start(boundary), Event.occurred_at < _start(end), Event.kind.in_(kinds)
        )
        if condition is not None:
            stmt = stmt.where(condition)
        for row in db.session.execute(_filtered(stmt, columns, where).group_by(*(columns[n] for n in by))):
            totals[_key(row[:-1], by)] += int(row[-1] or 0)
        if ASSISTED in kinds and grain.startswith("page"):
            for (day, path, channel), count in raw_assists(_start(boundary), _start(end)).items():
                row = {"kind": ASSISTED, "day": day, "path": path, "channel": channel}
                if all(row[name] in _wanted(value) for name, value in where.items()):
                    totals[tuple(row[name] for name in by)] += count
        derived = set(kinds) & set(visits.DERIVED)
        if derived and grain == "page":
            for (day, path, kind), count in visits.raw_counts(boundary, until).items():
                row = {"kind": kind, "day": day, "path": path}
                if kind in derived and all(row[name] in _wanted(value) for name, value in where.items()):
                    totals[tuple(row[name] for name in by)] += count
    return dict(totals)


def _wanted(value) -> tuple:
    return tuple(value) if isinstance(value, tuple | list) else (value,)


def _filtered(stmt, columns, where):
    for name, wanted in where.items():
        column = columns[name]
        stmt = stmt.where(column.in_(wanted) if isinstance(wanted, tuple | list) else column == wanted)
    return stmt


def _key(values, by) -> tuple:
    return tuple(_as_date(v) if name == "day" else v for name, v in zip(by, values, strict=True))
