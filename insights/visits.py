"""What the order of a visitor's pages tells: which page views came from a search click
(a search entrance), which ended their visit (an exit), and how long pages were in view.
Counted from the raw events in grouped statements, per local day and page, into the
daily aggregates by the rollup (kinds DERIVED of the "page" grain, as assisted
conversions are), so rollups.tally reads them like any other count.

A visitor's tracked events (page views, searches and search clicks, never those of a
visitor asking not to be tracked) are ordered by time with window functions:
- a page view is a search entrance when the visitor's event just before it is a click on
  a search result for that page (insights.tracking names the article a click opened);
- a page view is an exit when nothing follows it in its visit: no later event of the
  visitor, or a later one that starts a new visit (visit_seq 1). A visit ends after
  tracking.VISIT_SECONDS without a page, so events up to that long after a period are
  read to see whether a view at its end was followed (a day rolled up in the first half
  hour after its midnight may count as exits the views its visits have yet to follow);
- the time on page is the seconds of the leave pings (page_time events) and how many.

The pages people leave after a search (both at once) lift an article in the review
queue (exits_after_search, registered with content.freshness.add_queue_signal).
"""

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, Select, and_, case, cast, func, or_, select

from core.extensions import db
from core.localtime import site_zone
from core.trends import local_day, midnight
from insights.models import Event
from insights.tracking import VISIT_SECONDS

ORDERED_KINDS = ("page_view", "search", "search_click")
# The aggregates' kinds for these counts (not event kinds), per page and day.
TRACKED, ENTRANCE, EXIT, SEARCH_EXIT = "tracked_view", "search_entrance", "exit", "search_exit"
SECONDS, PINGS = "seconds_in_view", "leave_pings"
DERIVED = (TRACKED, ENTRANCE, EXIT, SEARCH_EXIT, SECONDS, PINGS)


def _ordered(start: datetime, end: datetime | None):
    """The tracked events around [start, end), each with the one before and after it;
    and the conditions: a search entrance, an exit, a page view of the period."""
    window = {"partition_by": Event.visitor_id, "order_by": (Event.occurred_at, Event.id)}
    slack = timedelta(seconds=VISIT_SECONDS)
    query = select(
        Event.kind,
        Event.path,
        Event.occurred_at,
        func.lag(Event.kind).over(**window).label("prev_kind"),
        func.lag(Event.path).over(**window).label("prev_path"),
        func.lag(Event.ref_id).over(**window).label("prev_ref"),
        func.lead(Event.visit_seq).over(**window).label("next_seq"),
    ).where(Event.visitor_id.is_not(None), Event.kind.in_(ORDERED_KINDS), Event.occurred_at >= start - slack)
    if end is not None:
        query = query.where(Event.occurred_at < end + slack)
    ordered = query.subquery()
    entrance = and_(ordered.c.prev_kind == "search_click", ordered.c.prev_path == ordered.c.path)
    exit_ = or_(ordered.c.next_seq.is_(None), ordered.c.next_seq == 1)
    in_period = [ordered.c.kind == "page_view", ordered.c.occurred_at >= start]
    if end is not None:
        in_period.append(ordered.c.occurred_at < end)
    return ordered, entrance, exit_, in_period


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def raw_counts(since: date, until: date) -> dict[tuple[date, str, str], int]:
    """{(local day, path, kind of DERIVED): count} for the days since..until (inclusive),
    from the raw events, in two statements."""
    zone = site_zone()
    start, end = midnight(since, tz=zone), midnight(until + timedelta(days=1), tz=zone)
    ordered, entrance, exit_, in_period = _ordered(start, end)
    day = local_day(ordered.c.occurred_at, since, until, tz=zone)
    counts: dict[tuple[date, str, str], int] = defaultdict(int)
    for value, path, tracked, entrances, exits, both in db.session.execute(
        select(
            day, ordered.c.path, func.count(), _count(entrance), _count(exit_), _count(and_(entrance, exit_))
        )
        .where(*in_period)
        .group_by(day, ordered.c.path)
    ):
        for kind, count in ((TRACKED, tracked), (ENTRANCE, entrances), (EXIT, exits), (SEARCH_EXIT, both)):
            if count:
                counts[(_date(value), path, kind)] += int(count)
    day = local_day(Event.occurred_at, since, until, tz=zone)
    for value, path, seconds, pings in db.session.execute(
        select(day, Event.path, func.sum(cast(Event.value, Integer)), func.count())
        .where(Event.kind == "page_time", Event.occurred_at >= start, Event.occurred_at < end)
        .group_by(day, Event.path)
    ):
        counts[(_date(value), path, SECONDS)] += int(seconds or 0)
        counts[(_date(value), path, PINGS)] += int(pings)
    return dict(counts)


def _date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def exits_after_search(since: datetime) -> Select:
    """(article_id, search entrances since `since` that were the last page of their
    visit): the review queue's signal."""
    ordered, entrance, exit_, in_period = _ordered(since, None)
    return (
        select(ordered.c.prev_ref, func.count())
        .where(*in_period, entrance, exit_, ordered.c.prev_ref.is_not(None))
        .group_by(ordered.c.prev_ref)
    )
