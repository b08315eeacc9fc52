"""The dashboards count the site's days (TIMEZONE), not UTC ones: an event at 23:30 UTC
is on the next day in Shanghai and on the same day in New York (DST or not), in the
tables read from raw events, from the rollup's aggregates and after a prune alike."""

from datetime import date, datetime

import pytest

from core.extensions import db
from gated.models import Lead
from insights import dashboards, rollups, trends
from insights.events import record
from insights.models import RolledUpDay

LATE = datetime(2026, 12, 6, 23, 30)  # Sunday 23:30 UTC: Monday 07:30 in Shanghai
MORNING = datetime(2026, 12, 7, 10, 0)  # Monday 10:00 UTC, the same day everywhere here


def events_around_midnight():
    lead = Lead(email="late@acme.cn", first_channel="organic_search", created_at=LATE)
    db.session.add(lead)
    db.session.flush()
    for at in (LATE, MORNING):
        record(
            "page_view",
            visitor_id=f"v{at:%H}",
            path="/help/a",
            channel="direct",
            visit_seq=1,
            landing="/help/a",
            at=at,
        )
    record("form_submit", lead_id=lead.id, path="/help/a", value="demo", channel="organic_search", at=LATE)
    record("stage_change", lead_id=lead.id, value="engaged>mql", channel="organic_search", at=LATE)
    db.session.commit()


def figures(day: date) -> dict:
    """Visits, submissions, new leads and MQLs of one day, and its leads by channel."""
    filters = dashboards.Filters(day, day)
    funnel = dashboards.funnel(filters).rows
    channels = dashboards.channels(filters).rows
    return {
        "visits": sum(row["visits"] for row in funnel),
        "submissions": sum(row["submissions"] for row in funnel),
        "leads": sum(row["leads"] for row in funnel),
        "mql": sum(row["mql"] for row in funnel),
        "channel_leads": sum(row["leads"] for row in channels),
    }


SUNDAY, MONDAY = date(2026, 12, 6), date(2026, 12, 7)
NOTHING = {"visits": 0, "submissions": 0, "leads": 0, "mql": 0, "channel_leads": 0}
EVERYTHING_LATE = {"visits": 1, "submissions": 1, "leads": 1, "mql": 1, "channel_leads": 1}


@pytest.mark.parametrize(
    ("site", "sunday", "monday"),
    [
        ("Asia/Shanghai", NOTHING, {**EVERYTHING_LATE, "visits": 2}),
        ("America/New_York", {**EVERYTHING_LATE, "visits": 1}, {**NOTHING, "visits": 1}),
    ],
)
def test_a_day_is_the_sites_day_before_and_after_the_rollup_and_prune(app, monkeypatch, site, sunday, monday):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", site)
    events_around_midnight()
    assert (figures(SUNDAY), figures(MONDAY)) == (sunday, monday)
    # Rolled up at the end of the site's Tuesday: both days come from the aggregates.
    assert rollups.rollup(now=datetime(2026, 12, 9, 12, 0)) >= 2
    assert db.session.get(RolledUpDay, MONDAY) is not None
    assert (figures(SUNDAY), figures(MONDAY)) == (sunday, monday)
    monkeypatch.setitem(app.config, "INSIGHTS_RETENTION_DAYS", 0)
    assert rollups.prune(now=datetime(2026, 12, 9, 12, 0)) == 4
    assert (figures(SUNDAY), figures(MONDAY)) == (sunday, monday)


def test_a_day_is_not_rolled_up_before_the_site_s_midnight(app):
    events_around_midnight()
    # Every event is on Monday in Shanghai; 15:59 UTC on Monday is 23:59 there, so
    # Monday is not over yet and nothing is rolled up.
    assert rollups.rollup(now=datetime(2026, 12, 7, 15, 59)) == 0
    rollups.rollup(now=datetime(2026, 12, 7, 16, 0))
    assert rollups.rolled_until() == date(2026, 12, 8)
    assert figures(MONDAY) == {**EVERYTHING_LATE, "visits": 2}


def test_the_trend_and_the_tables_agree_on_the_day(app):
    events_around_midnight()
    with app.test_request_context():
        trend = trends.trends(SUNDAY, MONDAY, tz="Asia/Shanghai")
    assert trend.series[0][1] == [0, 1]  # new leads: Monday, as in the funnel
    assert figures(MONDAY)["leads"] == 1


def test_recount_rolls_up_kept_days_again_by_the_sites_days(app, monkeypatch, runner):
    # Rolled up while the site counted UTC days (as before this rule), then counted again.
    events_around_midnight()
    record(
        "page_view",
        visitor_id="early",
        path="/help/a",
        visit_seq=1,
        landing="/help/a",
        at=datetime(2026, 12, 5, 10),
    )
    db.session.commit()
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "UTC")
    assert rollups.rollup(now=datetime(2026, 12, 9, 12, 0)) == 4  # 5 to 8 December
    assert figures(SUNDAY)["leads"] == 1
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    result = runner.invoke(
        args=["insights", "rollup", "--recount", "--no-prune", "--now", "2026-12-09T12:00:00"]
    )
    assert result.exit_code == 0, result.output
    # The oldest event's day (the 5th) keeps its aggregates (a prune may have cut it); the
    # 6th to the 8th are counted again by Shanghai's days.
    assert "rolled-up days to count again: 3" in result.output
    assert (figures(SUNDAY), figures(MONDAY)) == (NOTHING, {**EVERYTHING_LATE, "visits": 2})
