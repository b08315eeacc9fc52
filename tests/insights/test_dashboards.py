"""The dashboard figures on a known data set, and the same figures after the raw events
are rolled up into daily aggregates and pruned."""

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from core.extensions import db
from gated.models import Lead
from insights import dashboards, rollups
from insights.events import record
from insights.models import DailyCount, Event
from tests.insights.conftest import MONDAY, article_to_visit, known_data_set, visit

NOW = datetime(2026, 11, 20, 12, 0)


def figures(filters):
    return {name: table.rows for name, table in dashboards.dashboard(filters).items()}


PERIOD = dashboards.Filters(date(2026, 11, 2), date(2026, 11, 15))


def test_the_funnel_by_week(app):
    known_data_set()
    rows = dashboards.funnel(PERIOD).rows
    assert [
        (r["week"], r["visits"], r["form_views"], r["submissions"], r["mql"], r["sql"]) for r in rows
    ] == [
        (date(2026, 11, 2), 3, 1, 1, 1, 0),
        (date(2026, 11, 9), 2, 1, 1, 1, 1),
    ]


def test_channels_with_their_share(app):
    known_data_set()
    rows = {r["channel"]: r for r in dashboards.channels(PERIOD).rows}
    assert rows["paid_search"]["leads"] == 1 and rows["paid_search"]["lead_share"] == 0.5
    assert rows["organic_search"]["mqls"] == 1 and rows["organic_search"]["mql_share"] == 0.5
    only_paid = dashboards.Filters(PERIOD.since, PERIOD.until, "paid_search")
    assert [r["channel"] for r in dashboards.channels(only_paid).rows] == ["paid_search"]


def test_top_content_with_leads_and_assisted_conversions(app):
    known_data_set()
    rows = {r["path"]: r for r in dashboards.top_content(PERIOD).rows}
    assert rows["/library/saas-renewal"]["leads"] == 2
    assert rows["/library/saas-renewal"]["views"] == 3
    # Lead a read the help article before converting on the white paper page.
    assert rows["/help/renewal"]["assisted"] == 1 and rows["/help/renewal"]["leads"] == 0
    assert rows["/help/renewal"]["title"] == "续费指南"


def test_assisted_conversions_count_each_conversion_a_page_helped(app):
    """Like leads generated (submissions), assists count conversions: a lead who reads the
    help article and then submits two forms on other pages assisted two conversions; a
    view after the conversion, or of the converting page itself, assists nothing."""
    article_to_visit("renewal", title="续费指南")
    article_to_visit("saas-renewal", kind="whitepaper", title="白皮书")
    article_to_visit("churn", kind="whitepaper", title="流失")
    lead = Lead(email="c@example.cn", first_channel="email", created_at=MONDAY)
    db.session.add(lead)
    db.session.flush()
    visit("v9", ["/help/renewal", "/library/saas-renewal"], at=MONDAY, lead_id=lead.id, channel="email")
    for path, minutes in (("/library/saas-renewal", 5), ("/library/churn", 60 * 24)):
        record(
            "form_submit",
            lead_id=lead.id,
            path=path,
            value="whitepaper",
            channel="email",
            at=MONDAY + timedelta(minutes=minutes),
        )
    visit("v9", ["/library/churn"], at=MONDAY + timedelta(days=2), lead_id=lead.id, channel="email")
    db.session.commit()
    before = dashboards.top_content(PERIOD).rows
    assisted = {r["path"]: r["assisted"] for r in before}
    assert assisted == {"/help/renewal": 2, "/library/saas-renewal": 1, "/library/churn": 0}
    email_only = dashboards.Filters(PERIOD.since, PERIOD.until, "email")
    assert dashboards.top_content(email_only).rows == before
    assert all(
        r["assisted"] == 0
        for r in dashboards.top_content(dashboards.Filters(PERIOD.since, PERIOD.until, "social")).rows
    )
    rollups.rollup(now=NOW)
    assert dashboards.top_content(PERIOD).rows == before
    assert dashboards.top_content(email_only).rows == before


def test_assists_of_days_rolled_up_without_them_are_counted_again_while_events_are_kept(app, runner):
    known_data_set()
    before = figures(PERIOD)["content"]
    rollups.rollup(now=NOW)
    # As a database rolled up by a version that did not aggregate assists would be.
    db.session.execute(db.delete(DailyCount).where(DailyCount.kind == rollups.ASSISTED))
    db.session.commit()
    assert figures(PERIOD)["content"] != before

    assert rollups.backfill_assists() == (NOW.date() - MONDAY.date()).days
    assert figures(PERIOD)["content"] == before
    rows = db.session.scalar(select(func.count()).select_from(DailyCount))
    result = runner.invoke(args=["insights", "rollup", "--assists", "--no-prune", "--now", NOW.isoformat()])
    assert result.exit_code == 0 and "counted again: 18" in result.output  # again: the same rows
    assert db.session.scalar(select(func.count()).select_from(DailyCount)) == rows
    assert figures(PERIOD)["content"] == before


def test_landing_pages_with_bounce_and_conversion(app):
    known_data_set()
    rows = {r["path"]: r for r in dashboards.landing_pages(PERIOD).rows}
    assert rows["/help/renewal"]["visits"] == 2
    assert rows["/help/renewal"]["bounce_rate"] == 0.5  # v2 saw one page
    assert rows["/help/renewal"]["conversion_rate"] == 0.5
    assert rows["/library/saas-renewal"]["bounce_rate"] == 0.5  # v3 bounced, v4 went on
    assert rows["/help/"]["bounce_rate"] == 1.0


def test_figures_are_the_same_after_rollup_and_prune(app, monkeypatch):
    monkeypatch.setitem(app.config, "INSIGHTS_RETENTION_DAYS", 3)
    known_data_set()
    before = figures(PERIOD)
    paid = dashboards.Filters(PERIOD.since, PERIOD.until, "paid_search")
    paid_before = figures(paid)
    first_week = figures(dashboards.Filters(date(2026, 11, 2), date(2026, 11, 8)))
    raw = db.session.scalar(select(func.count()).select_from(Event))

    days = rollups.rollup(now=NOW)
    assert days == (NOW.date() - MONDAY.date()).days
    assert rollups.rollup(now=NOW) == 0  # never twice
    assert db.session.scalar(select(func.sum(DailyCount.count)).where(DailyCount.grain == "total")) == raw
    pruned = rollups.prune(now=NOW)
    assert pruned == raw
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0

    after = figures(PERIOD)
    # Assisted conversions too: the rollup counted them while the leads' views were there.
    for name in ("funnel", "channels", "content", "landing"):
        assert after[name] == before[name], name
    assert {r["path"]: r["assisted"] for r in after["content"]}["/help/renewal"] == 1
    assert figures(dashboards.Filters(date(2026, 11, 2), date(2026, 11, 8))) == first_week
    paid_after = figures(paid)
    for name in ("funnel", "channels", "content", "landing"):
        assert paid_after[name] == paid_before[name], name
    assert paid_after["landing"][0]["path"] == "/help/renewal" and paid_after["landing"][0]["visits"] == 1


def test_a_period_half_rolled_up_reads_both(app):
    known_data_set()
    before = figures(PERIOD)
    rollups.rollup(now=datetime(2026, 11, 10, 9, 0))  # week 1 and Monday of week 2 rolled up
    after = figures(PERIOD)
    assert after == before


def test_filters_from_bad_input_fall_back_to_the_default_period(app):
    filters = dashboards.Filters.from_args(
        {"since": "nonsense", "until": "2026-13-40", "channel": "x"}, today=NOW.date()
    )
    assert filters.until == NOW.date() and filters.channel == ""
    assert (filters.until - filters.since).days == dashboards.DEFAULT_DAYS - 1


def test_sales_reasons_are_joined_as_the_readers_language_joins_a_list(app):
    reasons = [{"reason": "没有预算", "count": 2}, {"reason": "已有供应商，明年再谈", "count": 1}]
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale("zh_CN"):
        assert dashboards.reasons_text(reasons) == "没有预算 ×2 和已有供应商，明年再谈"
    with app.test_request_context("/"), force_locale("en"):
        assert dashboards.reasons_text(reasons) == "没有预算 ×2 and 已有供应商，明年再谈"
