"""The figures of the insights dashboards, each a table of plain rows (the page shows
them with a chart, the CSV export writes them as they are).

Every event figure goes through rollups.tally (aggregates for rolled-up days, raw events
after), so figures stay the same when old raw events are pruned; new leads, the stages
leads reach and sales outcomes are counted as insights.stages defines them, once for
every table, chart and the digest, so they add up to one another; searches come from the
search log, sequence figures from nurture; landing conversion (insights.conversion) sets
page views beside gated's submissions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from content.public import titles_by_path
from core.extensions import db
from core.i18n import word_list
from core.spreadsheet import csv_text
from core.timeutil import parse_date
from insights import conversion, stages
from insights.rollups import ASSISTED, tally
from insights.stages import FUNNEL_STAGES

DEFAULT_DAYS = 56
MAX_DAYS = 731
VISIT_KINDS = ("page_view", "search")


@dataclass
class Filters:
    """The period (inclusive days of the site's zone) and an optional channel."""

    since: date
    until: date
    channel: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str], *, today: date) -> Filters:
        from gated.models import CHANNELS

        until = parse_date(args.get("until")) or today
        since = parse_date(args.get("since")) or until - timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            since, until = until, since
        since = max(since, until - timedelta(days=MAX_DAYS))
        channel = args.get("channel", "")
        return cls(since, until, channel if channel in CHANNELS else "")

    def as_args(self) -> dict:
        args = {"since": self.since.isoformat(), "until": self.until.isoformat()}
        if self.channel:
            args["channel"] = self.channel
        return args

    def before(self) -> Filters:
        """The period of the same length just before this one."""
        days = (self.until - self.since).days + 1
        return Filters(self.since - timedelta(days=days), self.since - timedelta(days=1), self.channel)

    @property
    def period(self) -> tuple[date, date]:
        return self.since, self.until

    @property
    def where(self) -> dict:
        return {"channel": self.channel} if self.channel else {}


@dataclass
class Table:
    """A dashboard table: its name (for the CSV), columns (key, label) and rows."""

    name: str
    title: str
    columns: list[tuple[str, object]]
    rows: list[dict] = field(default_factory=list)


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def funnel(filters: Filters) -> Table:
    """Visits → form views → submissions → new leads → MQL → SQL → customer, per week
    (Monday); leads and stages as insights.stages defines them."""
    weeks: dict[date, dict] = {}
    day = _week(filters.since)
    while day <= filters.until:
        weeks[day] = dict.fromkeys(("visits", "form_views", "submissions", "leads", *FUNNEL_STAGES), 0)
        weeks[day]["week"] = day
        day += timedelta(days=7)
    counted = tally(
        filters.since,
        filters.until,
        kinds=(*VISIT_KINDS, "form_view", "form_submit"),
        by=("day", "kind", "value", "visit_seq"),
        where=filters.where,
    )
    for (day, kind, value, seq), count in counted.items():
        row = weeks[_week(day)]
        if kind in VISIT_KINDS:
            row["visits"] += count if seq == 1 else 0
        elif kind == "form_view":
            row["form_views"] += count
        elif value != "import":
            row["submissions"] += count
    for (day,), count in stages.new_leads(*filters.period, channel=filters.channel, by=("day",)).items():
        weeks[_week(day)]["leads"] += count
    reached = stages.stages_reached(*filters.period, channel=filters.channel, by=("day", "stage"))
    for (day, stage), count in reached.items():
        weeks[_week(day)][stage] += count
    return Table(
        "funnel",
        _l("Funnel by week"),
        [
            ("week", _l("Week of")),
            ("visits", _l("Visits")),
            ("form_views", _l("Form views")),
            ("submissions", _l("Submissions")),
            ("leads", _l("New leads")),
            ("mql", _l("MQL")),
            ("sql", _l("SQL")),
            ("customer", _l("Customers")),
        ],
        list(weeks.values()),
    )


def channels(filters: Filters) -> Table:
    """New leads and MQLs per first channel, with each one's share."""
    from gated.models import CHANNELS

    leads = {
        key[0]: count for key, count in stages.new_leads(*filters.period, channel=filters.channel).items()
    }
    mqls = {
        channel: count
        for (channel, stage), count in stages.stages_reached(
            *filters.period, channel=filters.channel, by=("channel", "stage")
        ).items()
        if stage == "mql"
    }
    total_leads, total_mqls = sum(leads.values()), sum(mqls.values())
    names = [c for c in CHANNELS if c in leads or c in mqls] + sorted(
        (set(leads) | set(mqls)) - set(CHANNELS)
    )
    rows = [
        {
            "channel": name,
            "leads": leads.get(name, 0),
            "lead_share": _share(leads.get(name, 0), total_leads),
            "mqls": mqls.get(name, 0),
            "mql_share": _share(mqls.get(name, 0), total_mqls),
        }
        for name in names
    ]
    rows.sort(key=lambda row: (-row["leads"], -row["mqls"]))
    return Table(
        "channels",
        _l("Leads and MQLs by channel"),
        [
            ("channel", _l("Channel")),
            ("leads", _l("Leads")),
            ("lead_share", _l("Share of leads")),
            ("mqls", _l("MQLs")),
            ("mql_share", _l("Share of MQLs")),
        ],
        rows,
    )


def top_content(filters: Filters, *, limit: int = 20) -> Table:
    """Articles by leads generated on their page, then by assisted conversions (the
    period's submissions, on another page, of leads who had read this one)."""
    counted = tally(
        filters.since,
        filters.until,
        grain="page",
        kinds=("page_view", "form_submit", ASSISTED),
        by=("kind", "path"),
        where=filters.where,
    )
    columns = {"page_view": "views", "form_submit": "leads", ASSISTED: "assisted"}
    titles = titles_by_path(path for _kind, path in counted)
    rows: dict[str, dict] = {}
    for (kind, path), count in counted.items():
        if path in titles:
            row = rows.setdefault(
                path, {"path": path, "title": titles[path], "views": 0, "leads": 0, "assisted": 0}
            )
            row[columns[kind]] += count
    ranked = sorted(rows.values(), key=lambda r: (-r["leads"], -r["assisted"], -r["views"], r["path"]))
    return Table(
        "content",
        _l("Top content"),
        [
            ("title", _l("Content")),
            ("path", _l("Page")),
            ("views", _l("Views")),
            ("leads", _l("Leads generated")),
            ("assisted", _l("Assisted conversions")),
        ],
        ranked[:limit],
    )


def landing_pages(filters: Filters, *, limit: int = 20) -> Table:
    """Pages visits land on: visits, bounce rate (visits that saw no second page) and
    form conversion (submissions in visits that landed there, per visit)."""
    counted = tally(
        filters.since,
        filters.until,
        grain="landing",
        kinds=(*VISIT_KINDS, "form_submit"),
        by=("kind", "landing", "visit_seq"),
        where=filters.where,
    )
    visits: dict[str, int] = defaultdict(int)
    onward: dict[str, int] = defaultdict(int)
    submissions: dict[str, int] = defaultdict(int)
    for (kind, landing, seq), count in counted.items():
        if kind == "form_submit":
            submissions[landing] += count
        elif seq == 1:
            visits[landing] += count  # a visit's first page is its landing page
        else:
            onward[landing] += count
    titles = titles_by_path(visits)
    rows = [
        {
            "path": path,
            "title": titles.get(path, ""),
            "visits": count,
            "bounce_rate": max(count - onward.get(path, 0), 0) / count,
            "submissions": submissions.get(path, 0),
            "conversion_rate": submissions.get(path, 0) / count,
        }
        for path, count in visits.items()
    ]
    rows.sort(key=lambda r: (-r["visits"], r["path"]))
    return Table(
        "landing",
        _l("Landing pages"),
        [
            ("path", _l("Page")),
            ("title", _l("Content")),
            ("visits", _l("Visits")),
            ("bounce_rate", _l("Bounce rate")),
            ("submissions", _l("Submissions")),
            ("conversion_rate", _l("Form conversion")),
        ],
        rows[:limit],
    )


def landing_conversion(filters: Filters) -> Table:
    """Per form page: views, the leads its form brought and their share (insights.conversion)."""
    rows = conversion.landing_conversion(*filters.period, channel=filters.channel)
    return Table("conversion", _l("Form pages: views and leads"), conversion.COLUMNS, rows)


def zero_result_searches(filters: Filters, *, limit: int = 20) -> Table:
    """What visitors searched for and did not find (from the search log)."""
    from content.search.analytics import zero_result_searches as empty_searches

    stats = empty_searches(*stages.bounds(*filters.period), limit=limit)
    return Table(
        "searches",
        _l("Searches with no results"),
        [("query", _l("Search")), ("searches", _l("Searches"))],
        [{"query": stat.example, "searches": stat.searches} for stat in stats],
    )


def sequence_steps() -> Table:
    """Every step of every sequence that is not archived: sent, opened, clicked,
    unsubscribed, with rates (all time, from nurture)."""
    from nurture.models import Sequence
    from nurture.personalise import sample_subject
    from nurture.stats import step_figures

    rows = []
    for sequence in db.session.scalars(
        select(Sequence).where(Sequence.status != "archived").order_by(Sequence.name)
    ):
        for figures in step_figures(sequence):
            rows.append(
                {
                    "sequence": sequence.name,
                    "step": figures["step"].position + 1,
                    "subject": sample_subject(figures["step"].subject, current_app.config),
                    "sent": figures["sent"],
                    "opened": figures["opened"],
                    "clicked": figures["clicked"],
                    "unsubscribed": figures["unsubscribed"],
                    "open_rate": figures["open_rate"],
                    "click_rate": figures["click_rate"],
                }
            )
    return Table(
        "sequences",
        _l("Sequences, step by step"),
        [
            ("sequence", _l("Sequence")),
            ("step", _l("Step")),
            ("subject", _l("Subject")),
            ("sent", _l("Sent")),
            ("opened", _l("Opened")),
            ("clicked", _l("Clicked")),
            ("unsubscribed", _l("Unsubscribed")),
            ("open_rate", _l("Open rate")),
            ("click_rate", _l("Click rate")),
        ],
        rows,
    )


def reasons_text(reasons: list[dict]) -> str:
    """Sales' reasons ({reason, count}) as one cell, joined as the reader's language joins
    a list (、 and 和 in Chinese, commas in English), a repeated one with its count."""
    return word_list(
        reason["reason"] if reason["count"] == 1 else f"{reason['reason']} ×{reason['count']}"
        for reason in reasons
    )


def handoffs(filters: Filters) -> Table:
    """Per sales owner, the period's hand-offs, its decisions (accepted, rejected with
    sales' reasons), the hand-offs awaiting a decision at its end and the share of its
    decisions that accepted (see insights.stages)."""
    rows = stages.sales_outcomes(*filters.period, channel=filters.channel)
    for row in rows:
        row["acceptance_rate"] = _share(row["accepted"], row["accepted"] + row["rejected"])
        row["reasons"] = reasons_text(row["reasons"])
    return Table(
        "handoffs",
        _l("Sales outcomes"),
        [
            ("owner", _l("Owner")),
            ("handed", _l("Leads handed off")),
            ("accepted", _l("Accepted")),
            ("rejected", _l("Rejected")),
            ("pending", _l("Awaiting a decision")),
            ("acceptance_rate", _l("Acceptance rate")),
            ("reasons", _l("Reasons for rejection")),
        ],
        rows,
    )


TABLES = {
    "funnel": funnel,
    "channels": channels,
    "content": top_content,
    "landing": landing_pages,
    "conversion": landing_conversion,
    "searches": zero_result_searches,
    "handoffs": handoffs,
    "sequences": lambda filters: sequence_steps(),
}


def dashboard(filters: Filters) -> dict[str, Table]:
    """Every table of the dashboard for a period."""
    return {name: build(filters) for name, build in TABLES.items()}


def _cell(value):
    """Dates as ISO, rates as fractions of four places (a Decimal stays a number for
    csv_text, which quotes out text that a spreadsheet would run as a formula)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return Decimal(f"{value:.4f}")
    return value


def to_csv(table: Table) -> str:
    return csv_text(
        [key for key, _label in table.columns],
        ([_cell(row.get(key)) for key, _label in table.columns] for row in table.rows),
    )
