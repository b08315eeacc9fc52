"""The editorial calendar: planned pieces next to scheduled and published articles, by
week or by month, and the same pieces as a team's iCalendar feed.

A calendar day is a day in a named zone (the reader's for the page, the site's for the
feed): an article published at 23:30 UTC on 30 November is on 1 December in Shanghai, so
articles are fetched over the period's bounds in UTC and placed by their local day.
Weeks start on Monday; a month's grid runs from the Monday of its first week to the
Sunday of its last, so a month view shows the days on either side of its boundary.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from content import ical
from content.forms import KIND_LABELS
from content.models import Article
from content.planning import PlannedPiece, plans_between
from core.extensions import db
from core.urls import absolute_url_for

VIEWS = ("week", "month")
STATES = {
    "planned": _l("Planned"),
    "started": _l("Being written"),
    "scheduled": _l("Scheduled"),
    "published": _l("Published"),
}
# The iCal feed's window: what a calendar app keeps showing and what is coming.
FEED_PAST = timedelta(days=180)
FEED_AHEAD = timedelta(days=400)


@dataclass(frozen=True)
class Period:
    """The days a view shows: `first` to `last` (inclusive); `start` to `end` are the
    period itself (a month's first and last day), `previous`/`following` its neighbours."""

    view: str
    start: date
    end: date
    first: date
    last: date
    previous: date
    following: date

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def weeks(self) -> list[list[date]]:
        days = self.days()
        return [days[n : n + 7] for n in range(0, len(days), 7)]


def period_for(view: str, day: date) -> Period:
    """The week (Monday to Sunday) or the month around `day`."""
    if view == "week":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=6)
        return Period(view, start, end, start, end, start - timedelta(days=7), start + timedelta(days=7))
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    end = following - timedelta(days=1)
    previous = (start - timedelta(days=1)).replace(day=1)
    first = start - timedelta(days=start.weekday())
    last = end + timedelta(days=6 - end.weekday())
    return Period("month", start, end, first, last, previous, following)


@dataclass(frozen=True)
class Entry:
    """One piece on one day: `state` is planned, started (a plan with its draft),
    scheduled or published."""

    day: date
    state: str
    title: str
    kind: str
    team_id: int | None
    owner_id: int | None
    plan: PlannedPiece | None = None
    article_id: int | None = None
    changed_at: datetime | None = None


def _utc_bound(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)


def entries(first: date, last: date, *, team_ids=None, now: datetime, tz: str) -> list[Entry]:
    """Every piece from `first` to `last` (local days in `tz`) of `team_ids` (None: all),
    by day, plans first within a day."""
    found = [
        Entry(
            plan.target_date,
            "started" if plan.article_id else "planned",
            plan.title,
            plan.kind,
            plan.team_id,
            plan.owner_id,
            plan=plan,
            article_id=plan.article_id,
            changed_at=plan.updated_at,
        )
        for plan in plans_between(first, last, team_ids=team_ids)
    ]
    query = select(Article).where(
        Article.status == "published",
        Article.published_at >= _utc_bound(first, tz),
        Article.published_at < _utc_bound(last + timedelta(days=1), tz),
    )
    if team_ids is not None:
        query = query.where(Article.team_id.in_(list(team_ids)))
    zone = ZoneInfo(tz)
    for article in db.session.scalars(query.order_by(Article.published_at, Article.id)):
        local = article.published_at.replace(tzinfo=UTC).astimezone(zone).date()
        found.append(
            Entry(
                local,
                "scheduled" if article.published_at > now else "published",
                article.title,
                article.kind,
                article.team_id,
                article.owner_id,
                article_id=article.id,
                changed_at=article.updated_at,
            )
        )
    order = {"planned": 0, "started": 1, "scheduled": 2, "published": 3}
    return sorted(found, key=lambda entry: (entry.day, order[entry.state]))


def by_day(found: list[Entry]) -> dict[date, list[Entry]]:
    days: dict[date, list[Entry]] = {}
    for entry in found:
        days.setdefault(entry.day, []).append(entry)
    return days


def feed_entries(team_id: int, *, now: datetime, tz: str) -> list[Entry]:
    """A team's pieces for its iCal feed: FEED_PAST back to FEED_AHEAD on."""
    today = now.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()
    return entries(today - FEED_PAST, today + FEED_AHEAD, team_ids={team_id}, now=now, tz=tz)


def _feed_event(entry: Entry, *, host: str, people: dict, now: datetime) -> ical.Event:
    if entry.plan is not None:
        uid = f"plan-{entry.plan.id}@{host}"
        url = absolute_url_for("content_calendar.plan_edit", plan_id=entry.plan.id)
    else:
        uid = f"article-{entry.article_id}@{host}"
        url = absolute_url_for("content_admin.edit", article_id=entry.article_id)
    kind = str(KIND_LABELS.get(entry.kind, entry.kind))
    details = [kind]
    if entry.owner_id in people:
        details.append(_("Owner: %(name)s", name=people[entry.owner_id]))
    if entry.plan is not None and entry.plan.serves:
        details.append(_("Serves: %(what)s", what=entry.plan.serves))
    return ical.Event(
        uid=uid,
        day=entry.day,
        summary=_("%(state)s: %(title)s", state=STATES[entry.state], title=entry.title),
        stamp=entry.changed_at or now,
        description="\n".join(details),
        url=url,
        categories=kind,
    )


def team_feed(team, *, now: datetime, tz: str, host: str) -> str:
    """A team's iCalendar text: each piece an all-day event whose UID names the piece
    (plan-7@host, article-12@host), so a calendar app moves it rather than copying it."""
    from accounts.models import User

    people = {user.id: user.display_name for user in db.session.scalars(select(User))}
    events = [
        _feed_event(entry, host=host, people=people, now=now)
        for entry in feed_entries(team.id, now=now, tz=tz)
    ]
    return ical.calendar_text(_("Editorial calendar: %(team)s", team=team.name), events)
