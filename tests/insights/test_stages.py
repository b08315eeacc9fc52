"""The dashboard's figures add up. Leads, stages and hand-offs are built through the real
pipeline (gated's capture_lead and downloads, the scoring engine with the demo rules,
sales' decisions, gated's stage change, an anonymisation) and by `flask demo load`; then
every table is checked against the others for each period and channel, before and
after the rollup and prune: channel MQLs sum to the funnel's MQLs, channel leads to the
funnel's new leads, hand-offs made to the MQL step, hand-offs accepted to the SQL step,
and the weekly digest says what the dashboard says."""

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from core.extensions import db
from core.localtime import day_of, site_zone
from core.timeutil import utcnow
from gated.capture import RequestMeta, capture_lead
from gated.downloads import record_download
from gated.models import CHANNELS
from gated.privacy import anonymise_lead
from gated.stages import change_stage
from insights import dashboards, digest, rollups
from insights.models import DailyCount, Event
from insights.scoring import demo as scoring_demo
from insights.scoring.handoff import decide
from insights.scoring.models import Handoff
from tests.factories import UserFactory, make_whitepaper

T0 = datetime(2026, 11, 2, 9, 0)  # a Monday
WEEK1 = dashboards.Filters(date(2026, 11, 2), date(2026, 11, 8))
WEEK2 = dashboards.Filters(date(2026, 11, 9), date(2026, 11, 15))
WEEK3 = dashboards.Filters(date(2026, 11, 16), date(2026, 11, 22))
ALL = dashboards.Filters(WEEK1.since, WEEK3.until)
FIGURES = ("leads", "mql", "sql", "customer")
# What a form brings (utm fields, referrer) from each channel, as gated attributes it.
TOUCHES = {
    "paid_search": ({"utm_source": "baidu", "utm_medium": "cpc"}, ""),
    "organic_search": ({}, "https://www.baidu.com/s?wd=saas"),
    "social": ({"utm_source": "wechat", "utm_medium": "social"}, ""),
    "email": ({"utm_source": "newsletter", "utm_medium": "email"}, ""),
    "direct": ({}, ""),
}


def reconciled(filters: dashboards.Filters) -> dict:
    """The funnel's totals for the period, once every other table agrees with them."""
    tables = dashboards.dashboard(filters)
    funnel = {key: sum(row[key] for row in tables["funnel"].rows) for key in FIGURES}
    channels, sales = tables["channels"].rows, tables["handoffs"].rows
    where = f"{filters}"
    assert sum(row["leads"] for row in channels) == funnel["leads"], where
    assert sum(row["mqls"] for row in channels) == funnel["mql"], where
    assert sum(row["handed"] for row in sales) == funnel["mql"], where
    assert sum(row["accepted"] for row in sales) == funnel["sql"], where
    return funnel


def reconciled_everywhere(since: date, until: date) -> None:
    """Every day, every week (Monday to Sunday) and every channel of since..until."""
    day = since
    while day <= until:
        reconciled(dashboards.Filters(day, day))
        reconciled(dashboards.Filters(day, min(day + timedelta(days=6), until)))
        day += timedelta(days=1)
    whole = reconciled(dashboards.Filters(since, until))
    by_channel = [reconciled(dashboards.Filters(since, until, channel)) for channel in CHANNELS]
    for key in FIGURES:
        assert sum(figures[key] for figures in by_channel) == whole[key], key


def capture(email, channel, at, *, form="whitepaper", asset=None, **fields):
    utm, referrer = TOUCHES[channel]
    data = {"email": email, "name": "王芳", "company": "星河软件", **fields, **utm}
    meta = RequestMeta(referrer=referrer, landing_page="/library/saas-renewal" if asset else "/demo-request")
    return capture_lead(form, data, asset=asset, request_meta=meta, now=at)


def handoff_of(lead_id) -> Handoff:
    return db.session.scalars(
        select(Handoff).where(Handoff.lead_id == lead_id).order_by(Handoff.id.desc())
    ).first()


def three_weeks_through_the_pipeline():
    """Five leads over three weeks, each step through the service that makes it:

    week 1: the boss (paid search, decision maker, director) downloads the white paper and
    requests a demo two days later: an MQL, handed off. Zhao (social, CEO) requests a demo:
    an MQL at once; sales reject him the next day. Li (organic search) and Wang (direct,
    free mail, on Sunday night) only download.
    week 2: Chen (email, director) requests a demo on Monday morning: an MQL, then
    anonymised. Zhao requests a demo again: his second MQL and hand-off. Sales accept the
    boss: an SQL.
    week 3: the boss becomes a customer.
    """
    scoring_demo.load(lambda *_: None)
    sales = [UserFactory(role="sales"), UserFactory(role="sales")]
    _article, asset = make_whitepaper()
    boss = capture(
        "boss@acme.cn", "paid_search", T0, asset=asset, role="decision_maker", job_title="市场总监"
    )
    record_download(boss.lead, asset, ip=None, now=T0 + timedelta(minutes=1))
    li = capture("li@beta.cn", "organic_search", T0 + timedelta(days=1), asset=asset, job_title="工程师")
    record_download(li.lead, asset, ip=None, now=T0 + timedelta(days=1, minutes=2))
    capture("boss@acme.cn", "direct", T0 + timedelta(days=2), form="demo")
    zhao = capture(
        "zhao@gamma.cn", "social", T0 + timedelta(days=3), form="demo", role="decision_maker", job_title="CEO"
    )
    zhao_first = handoff_of(zhao.lead_id)
    decide(
        zhao_first.id, "rejected", "还没有预算", user=owner_of(zhao_first, sales), now=T0 + timedelta(days=4)
    )
    # 15:59 UTC on Sunday: 23:59 in Shanghai, the site's zone, so still week 1.
    capture("wang@qq.com", "direct", T0 + timedelta(days=6, hours=6, minutes=59), asset=asset)

    chen = capture(
        "chen@delta.cn", "email", T0 + timedelta(days=7), form="demo", role="decision_maker", job_title="总监"
    )
    anonymise_lead(chen.lead_id, now=T0 + timedelta(days=7, hours=1))
    capture("zhao@gamma.cn", "direct", T0 + timedelta(days=8), form="demo")
    boss_handoff = handoff_of(boss.lead_id)
    decide(boss_handoff.id, "accepted", "", user=owner_of(boss_handoff, sales), now=T0 + timedelta(days=9))
    change_stage(boss.lead_id, "customer", now=T0 + timedelta(days=16))


def owner_of(handoff, sales):
    """The sales user the hand-off went to (round robin between the two)."""
    return next(user for user in sales if user.id == handoff.owner_id)


def sales_totals(filters: dashboards.Filters) -> tuple[int, int, int, int]:
    rows = dashboards.handoffs(filters).rows
    return tuple(sum(row[key] for row in rows) for key in ("handed", "accepted", "rejected", "pending"))


def test_the_tables_add_up_for_leads_built_through_the_pipeline(app, monkeypatch):
    three_weeks_through_the_pipeline()
    assert reconciled(WEEK1) == {"leads": 4, "mql": 2, "sql": 0, "customer": 0}
    assert reconciled(WEEK2) == {"leads": 1, "mql": 2, "sql": 1, "customer": 0}
    assert reconciled(WEEK3) == {"leads": 0, "mql": 0, "sql": 0, "customer": 1}
    # Made, decided, and still waiting at the period's end: the boss's hand-off of week 1
    # was accepted in week 2; Zhao's second and Chen's wait.
    assert sales_totals(WEEK1) == (2, 0, 1, 1)
    assert sales_totals(WEEK2) == (2, 1, 0, 2)
    assert sales_totals(WEEK3) == (0, 0, 0, 2)
    channels = {row["channel"]: (row["leads"], row["mqls"]) for row in dashboards.channels(ALL).rows}
    # Zhao came back direct: his MQLs stay with his first channel, as his lead does.
    assert channels == {
        "paid_search": (1, 1),
        "organic_search": (1, 0),
        "social": (1, 2),
        "email": (1, 1),
        "direct": (1, 0),
    }
    reconciled_everywhere(ALL.since, ALL.until)

    before = {str(f): dashboards.dashboard(f) for f in (WEEK1, WEEK2, WEEK3, ALL)}
    monkeypatch.setitem(app.config, "INSIGHTS_RETENTION_DAYS", 1)
    end = T0 + timedelta(days=21)
    rollups.rollup(now=end)
    assert rollups.prune(now=end) > 0
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0
    for f in (WEEK1, WEEK2, WEEK3, ALL):
        after = dashboards.dashboard(f)
        for name in ("funnel", "channels", "handoffs"):
            assert after[name].rows == before[str(f)][name].rows, (f, name)
    reconciled_everywhere(ALL.since, ALL.until)


def test_the_digest_says_what_the_dashboard_says(app):
    three_weeks_through_the_pipeline()
    for week in (WEEK2, WEEK3):
        said = digest.figures(now=datetime.combine(week.until + timedelta(days=1), datetime.min.time()))
        shown, before = reconciled(week), reconciled(week.before())
        assert said["leads"] == {
            "now": shown["leads"],
            "before": before["leads"],
            "delta": shown["leads"] - before["leads"],
        }
        assert (said["mqls"]["now"], said["mqls"]["before"]) == (shown["mql"], before["mql"])
        assert sum(row["now"] for row in said["channels"]) == shown["leads"]


def test_the_demo_is_replayed_through_the_services_and_adds_up(app, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    today = day_of(utcnow(), site_zone())
    # No stage change without its lead, and each hand-off is its lead's move to MQL, at once.
    stages = select(func.count()).where(Event.kind == "stage_change")
    assert db.session.scalar(stages.where(Event.lead_id.is_(None))) == 0
    handoffs = db.session.scalars(select(Handoff)).all()
    assert handoffs
    for handoff in handoffs:
        moved = stages.where(
            Event.lead_id == handoff.lead_id,
            Event.value.like("%>mql"),
            Event.occurred_at == handoff.created_at,
        )
        assert db.session.scalar(moved) == 1, handoff.id
    # The aggregates count the events and nothing else.
    raw = (
        select(func.count())
        .select_from(Event)
        .where(Event.occurred_at < rollups._start(today))  # the site's midnight
    )
    aggregated = select(func.sum(DailyCount.count)).where(DailyCount.grain == "total")
    assert db.session.scalar(aggregated) == db.session.scalar(raw)

    shown = reconciled(dashboards.Filters(today - timedelta(days=dashboards.DEFAULT_DAYS - 1), today))
    assert shown["leads"] > 20 and shown["mql"] > 0 and shown["sql"] > 0 and shown["customer"] > 0
    # Forms were filled in visits: the white papers' pages brought the leads.
    assert (
        sum(
            row["leads"]
            for row in dashboards.top_content(dashboards.Filters(today - timedelta(days=50), today)).rows
        )
        > 20
    )
    reconciled_everywhere(today - timedelta(days=43), today)
