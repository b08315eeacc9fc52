"""Content results: for each article over a period, what it brought (views, search
entrances, time on page, exit and bounce rates, helpful votes, leads and MQLs it first
touched, conversions it assisted, and the figures other packages add, such as the
assistant's deflections), summed per author (the article's owner) and per team.

Set-based: each figure is one grouped statement over the period, whatever the number of
articles, joined to the articles by their page's path here. Page figures (views, search
entrances, exits, time on page, bounces, assisted conversions) go through rollups.tally,
so they stay the same after old raw events are pruned (insights.visits tells how the
visit figures are counted).

- A lead's first touch is its first landing page (Lead.first_landing_page): the leads
  created in the period, and the leads that moved to MQL in it, count for that article.
  The second joins the lead to its raw stage changes, kept INSIGHTS_RETENTION_DAYS.
- Rates are recomputed from the sums for an author or a team, never averaged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.extensions import db
from core.hooks import article_figures
from core.ids import parse_id
from core.localtime import site_zone
from core.trends import Trend, local_day, points
from insights import visits
from insights.dashboards import Filters, Table
from insights.rollups import ASSISTED, _as_date, tally
from insights.stages import bounds, moved_to

GROUPINGS = ("article", "author", "team")
# Counts that add up across articles; the rates below are made from them.
SUMS = (
    "views",
    "entrances",
    "tracked",
    "exits",
    "search_exits",
    "landed",
    "bounced",
    "seconds",
    "pings",
    "helpful",
    "unhelpful",
    "leads",
    "mqls",
    "assisted",
)


# The figures read per page from the aggregates (rollups.tally), and their kinds there.
PAGE_FIGURES = {
    "views": "page_view",
    "assisted": ASSISTED,
    "tracked": visits.TRACKED,
    "entrances": visits.ENTRANCE,
    "exits": visits.EXIT,
    "search_exits": visits.SEARCH_EXIT,
    "seconds": visits.SECONDS,
    "pings": visits.PINGS,
}


@dataclass
class ResultFilters:
    """The period (the dashboards' Filters), a team, a kind, the grouping and the sort."""

    period: Filters
    team_id: int | None = None
    kind: str = ""
    by: str = "article"
    sort: str = "views"

    @classmethod
    def from_args(cls, args: Mapping[str, str], *, today: date, team_ids) -> ResultFilters:
        """`team_ids`: the teams the reader may see (None: all); another team is ignored."""
        from content.models import KINDS

        period = Filters.from_args({"since": args.get("since"), "until": args.get("until")}, today=today)
        team_id = parse_id(args.get("team", ""))
        if team_ids is not None and team_id not in team_ids:
            team_id = None
        kind = args.get("kind", "")
        by = args.get("by", "")
        return cls(
            period,
            team_id,
            kind if kind in KINDS else "",
            by if by in GROUPINGS else "article",
            args.get("sort", "") or "views",
        )

    def as_args(self) -> dict:
        args = self.period.as_args()
        if self.team_id is not None:
            args["team"] = self.team_id
        if self.kind:
            args["kind"] = self.kind
        if self.by != "article":
            args["by"] = self.by
        if self.sort != "views":
            args["sort"] = self.sort
        return args


@dataclass
class Report:
    """The period's rows per article, author and team, and the columns to show."""

    articles: list[dict]
    authors: list[dict]
    teams: list[dict]
    extra: list[tuple[str, object]] = field(default_factory=list)

    def rows(self, by: str) -> list[dict]:
        return {"article": self.articles, "author": self.authors, "team": self.teams}[by]


def _path(url: str) -> str:
    return urlsplit(url or "").path


def _articles(team_ids, kind: str) -> list[dict]:
    """The articles in view (of `team_ids`, None: all; of `kind`), one statement."""
    from accounts.models import User
    from content.models import KIND_PREFIX, Article
    from content.teams import Team

    query = (
        select(
            Article.id,
            Article.kind,
            Article.slug,
            Article.title,
            Article.status,
            Article.owner_id,
            Article.team_id,
            func.coalesce(func.nullif(User.name, ""), User.email),
            Team.name,
        )
        .outerjoin(User, User.id == Article.owner_id)
        .outerjoin(Team, Team.id == Article.team_id)
        .where(Article.status.in_(("published", "archived")))
    )
    if team_ids is not None:
        query = query.where(Article.team_id.in_(list(team_ids)))
    if kind:
        query = query.where(Article.kind == kind)
    return [
        {
            "id": id_,
            "kind": kind_,
            "path": f"/{KIND_PREFIX.get(kind_, kind_)}/{slug}",
            "title": title,
            "status": status,
            "owner_id": owner_id,
            "owner": owner or "",
            "team_id": team_id,
            "team": team or "",
        }
        for id_, kind_, slug, title, status, owner_id, team_id, owner, team in db.session.execute(query)
    ]


def _first_touch(since: date, until: date) -> tuple[dict[str, int], dict[str, int]]:
    """({path: leads created}, {path: leads that became MQL}) in the period, by the
    path of the lead's first landing page."""
    from gated.models import Lead
    from insights.models import Event

    start, end = bounds(since, until)
    leads: dict[str, int] = defaultdict(int)
    for landing, count in db.session.execute(
        select(Lead.first_landing_page, func.count())
        .where(Lead.created_at >= start, Lead.created_at < end)
        .group_by(Lead.first_landing_page)
    ):
        leads[_path(landing)] += count
    mqls: dict[str, int] = defaultdict(int)
    for landing, count in db.session.execute(
        select(Lead.first_landing_page, func.count(Event.lead_id.distinct()))
        .join(Lead, Lead.id == Event.lead_id)
        .where(moved_to("mql"), Event.occurred_at >= start, Event.occurred_at < end)
        .group_by(Lead.first_landing_page)
    ):
        mqls[_path(landing)] += count
    return leads, mqls


def _votes(since: date, until: date) -> dict[tuple[int, bool], int]:
    from content.models import Feedback

    start, end = bounds(since, until)
    rows = db.session.execute(
        select(Feedback.article_id, Feedback.helpful, func.count())
        .where(Feedback.created_at >= start, Feedback.created_at < end)
        .group_by(Feedback.article_id, Feedback.helpful)
    )
    return {(article_id, bool(helpful)): count for article_id, helpful, count in rows}


def _extra(since: date, until: date) -> tuple[list[tuple[str, object]], dict[str, dict[int, int]]]:
    """The columns other packages add (core.hooks.add_article_figure) and their counts."""
    start, end = bounds(since, until)
    columns, counts = [], {}
    for name, label, build in article_figures(current_app):
        columns.append((name, label))
        counts[name] = {int(key): int(value) for key, value in db.session.execute(build(start, end)) if key}
    return columns, counts


def rates(row: dict) -> dict:
    """Add the rates made from a row's sums (None where there is nothing to divide)."""
    row["time_on_page"] = row["seconds"] / row["pings"] if row["pings"] else None
    row["exit_rate"] = row["exits"] / row["tracked"] if row["tracked"] else None
    row["search_exit_rate"] = row["search_exits"] / row["entrances"] if row["entrances"] else None
    row["bounce_rate"] = row["bounced"] / row["landed"] if row["landed"] else None
    return row


def report(filters: ResultFilters, *, team_ids=None) -> Report:
    """Every article's figures for the period (of `team_ids` when the reader may see only
    those; narrowed by the filters), and their sums per author and per team."""
    since, until = filters.period.period
    if filters.team_id is not None:
        team_ids = {filters.team_id}
    articles = _articles(team_ids, filters.kind)
    pages = tally(
        since, until, grain="page", kinds=("page_view", ASSISTED, *visits.DERIVED), by=("kind", "path")
    )
    landings = tally(since, until, grain="landing", kinds=("page_view",), by=("landing", "visit_seq"))
    landed = {path: count for (path, seq), count in landings.items() if seq == 1}
    onward = {path: count for (path, seq), count in landings.items() if seq == 2}
    votes = _votes(since, until)
    leads, mqls = _first_touch(since, until)
    extra, extra_counts = _extra(since, until)
    for article in articles:
        path = article["path"]
        article.update({figure: pages.get((kind, path), 0) for figure, kind in PAGE_FIGURES.items()})
        article.update(
            landed=landed.get(path, 0),
            bounced=max(landed.get(path, 0) - onward.get(path, 0), 0),
            helpful=votes.get((article["id"], True), 0),
            unhelpful=votes.get((article["id"], False), 0),
            leads=leads.get(path, 0),
            mqls=mqls.get(path, 0),
        )
        for name, _label in extra:
            article[name] = extra_counts[name].get(article["id"], 0)
        rates(article)
    names = [name for name, _label in extra]
    return Report(
        articles,
        _summed(articles, "owner_id", "owner", names),
        _summed(articles, "team_id", "team", names),
        extra,
    )


def _summed(articles: list[dict], key: str, name: str, extra: list[str]) -> list[dict]:
    groups: dict = {}
    for article in articles:
        group = groups.setdefault(
            article[key],
            {"id": article[key], "name": article[name], "articles": 0, **dict.fromkeys((*SUMS, *extra), 0)},
        )
        group["articles"] += 1
        for figure in (*SUMS, *extra):
            group[figure] += article[figure]
    return [rates(group) for group in groups.values()]


def sorted_rows(rows: list[dict], sort: str, columns: list[str]) -> tuple[list[dict], str]:
    """`rows` by `sort` ("views": highest or Z first; "views.asc": lowest or A first),
    rows without the figure (None) last either way; an unknown sort is "views". Returns
    the rows and the sort used."""
    key, _dot, direction = sort.partition(".")
    if key not in columns:
        key, direction = "views", ""
    ascending = direction == "asc"
    ordered = sorted(rows, key=lambda row: str(row.get("title") or row.get("name") or "").casefold())
    filled = [row for row in ordered if row.get(key) is not None]
    filled.sort(
        key=lambda row: row[key].casefold() if isinstance(row[key], str) else row[key], reverse=not ascending
    )
    return filled + [row for row in ordered if row.get(key) is None], f"{key}.asc" if ascending else key


FIGURES = [
    ("views", _l("Views")),
    ("entrances", _l("Search entrances")),
    ("time_on_page", _l("Time on page")),
    ("exit_rate", _l("Exit rate")),
    ("bounce_rate", _l("Bounce rate")),
    ("helpful", _l("Helpful votes")),
    ("unhelpful", _l("Not helpful votes")),
    ("leads", _l("Leads (first touch)")),
    ("mqls", _l("MQLs (first touch)")),
    ("assisted", _l("Assisted conversions")),
]


def columns(by: str, extra: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """The table's columns for a grouping: what names a row, then the figures."""
    heads = {
        "article": [
            ("title", _l("Content")),
            ("kind", _l("Kind")),
            ("owner", _l("Owner")),
            ("team", _l("Team")),
        ],
        "author": [("name", _l("Owner")), ("articles", _l("Articles"))],
        "team": [("name", _l("Team")), ("articles", _l("Articles"))],
    }[by]
    return heads + FIGURES + extra


def table(result: Report, filters: ResultFilters) -> tuple[Table, str]:
    """The grouping's rows as a dashboards.Table (for the page and the CSV), sorted."""
    cols = columns(filters.by, result.extra)
    rows, sort = sorted_rows(result.rows(filters.by), filters.sort, [key for key, _label in cols])
    return Table(f"results-{filters.by}", _l("Content results"), cols, rows), sort


def team_trend(team_id: int, since: date, until: date) -> Trend:
    """A team's views and first-touch leads per day (per week past DAILY_UP_TO days)."""
    from gated.models import Lead

    paths = {article["path"] for article in _articles({team_id}, "")}
    views = tally(since, until, grain="page", kinds=("page_view",), by=("day",), where={"path": tuple(paths)})
    start, end = bounds(since, until)
    day = local_day(Lead.created_at, since, until, tz=site_zone())
    leads: dict[date, int] = defaultdict(int)
    for value, landing, count in db.session.execute(
        select(day, Lead.first_landing_page, func.count())
        .where(Lead.created_at >= start, Lead.created_at < end)
        .group_by(day, Lead.first_landing_page)
    ):
        if value is not None and _path(landing) in paths:
            leads[_as_date(value)] += count
    period = points(since, until, tz=site_zone())
    weekly, starts = period.grain == "week", period.starts

    def series(counts) -> list[int]:
        totals = defaultdict(int)
        for when, count in counts.items():
            when = when[0] if isinstance(when, tuple) else when
            totals[when - timedelta(days=when.weekday()) if weekly else when] += count
        return [totals.get(point, 0) for point in starts]

    return Trend(
        period.grain,
        starts,
        [(str(_l("Views")), series(views)), (str(_l("Leads (first touch)")), series(leads))],
    )
