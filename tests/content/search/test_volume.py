"""The search report's volume chart: searches, and those that found nothing, per day of
the site's zone (16:00 UTC starts a day in Shanghai), per week over a long period, and
on the page as the shared chart with its table, adding up to the report's totals."""

import re
from datetime import date, datetime, timedelta

import pytest

from content.search.analytics import record_search
from content.search.services import search_articles
from content.search.volume import search_volume
from core.localtime import local_today
from core.timeutil import utcnow
from tests.factories import chart_on

EVE = datetime(2026, 12, 6, 15, 59)  # 23:59 on the 6th in Shanghai
MIDNIGHT = datetime(2026, 12, 6, 16, 0)  # 00:00 on the 7th in Shanghai
SIXTH, SEVENTH = date(2026, 12, 6), date(2026, 12, 7)


@pytest.fixture
def around_midnight(publish):
    """Searches made through the search service, as the search page makes them: two at
    23:59 on the 6th in Shanghai (one finds nothing), one at its midnight, one finding
    nothing at 23:59 on the 7th and one at midnight on the 8th."""
    publish("配置 SSO 单点登录", "用 SAML 2.0 接入 Okta。", slug="sso")
    for text, at in (
        ("单点登录", EVE),
        ("量子纠缠", EVE),
        ("单点登录", MIDNIGHT),
        ("量子纠缠", MIDNIGHT + timedelta(hours=23, minutes=59)),
        ("量子纠缠", MIDNIGHT + timedelta(days=1)),
    ):
        search_articles(text, now=at, record="page")


def figures(trend) -> list[list[int]]:
    return [values for _name, values in trend.series]


@pytest.mark.parametrize(
    ("zone", "searches", "empty"),
    [("Asia/Shanghai", [2, 2], [1, 1]), ("UTC", [3, 2], [1, 2]), ("America/New_York", [3, 2], [1, 2])],
)
def test_searches_fall_on_the_day_of_the_zone(app, around_midnight, zone, searches, empty):
    with app.test_request_context():
        trend = search_volume(SIXTH, SEVENTH, tz=zone)
    assert (trend.grain, trend.starts) == ("day", [SIXTH, SEVENTH])
    assert figures(trend) == [searches, empty]


def test_a_long_period_is_counted_by_week_from_its_monday(app, around_midnight):
    # 1 October to 31 December: weeks from Monday 28 September; the period's first week
    # counts only its own days.
    with app.test_request_context():
        trend = search_volume(date(2026, 10, 1), date(2026, 12, 31), tz="Asia/Shanghai")
    assert trend.grain == "week" and trend.starts[0] == date(2026, 9, 28)
    assert all(start.weekday() == 0 for start in trend.starts)
    counted = {
        start: (searches, empty) for start, searches, empty in zip(trend.starts, *figures(trend), strict=True)
    }
    # Sunday the 6th is the week of 30 November; the 7th and the 8th that of 7 December.
    assert counted[date(2026, 11, 30)] == (2, 1)
    assert counted[date(2026, 12, 7)] == (3, 2)
    assert sum(figures(trend)[0]) == 5


def test_the_report_charts_each_day_with_its_table_and_totals(articles, login_as, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    for query in ("单点登录", "量子纠缠", "量子纠缠"):
        assert client.get("/search", query_string={"q": query}).status_code == 200
    record_search("old", results=0, kind="", locale="", source="page", now=utcnow() - timedelta(days=8))
    page = login_as("editor").get("/admin/search/?days=7").get_data(as_text=True)
    chart = chart_on(page, "chart-search-volume")
    assert chart["kind"] == "line" and len(chart["labels"]) == 7
    today = local_today("Asia/Shanghai")
    assert chart["labels"][-1] == f"{today.month}月{today.day}日"
    assert chart["series"] == [["站内搜索", [0] * 6 + [3]], ["无结果", [0] * 6 + [2]]]
    # The table beside it, for screen readers and copying: one row per day.
    assert chart["table"][-1] == [chart["labels"][-1], "3", "2"] and len(chart["table"]) == 7
    # The report's totals count the same days: the search eight days ago is in neither.
    assert "<dt>站内搜索</dt><dd>3</dd>" in page
    assert re.search(r"<dt>无结果</dt><dd><a href=\"[^\"]*found=none[^\"]*\">2</a></dd>", page)
    assert "每天从零点到次日零点，按中国时间计。" in page
    assert 'class="chart chart-line"' in page and "<script>" not in page


def test_the_report_of_a_year_is_charted_by_week(articles, login_as, client):
    client.get("/search", query_string={"q": "单点登录"})
    page = login_as("marketer").get("/admin/search/?days=365").get_data(as_text=True)
    chart = chart_on(page, "chart-search-volume")
    assert all(label.endswith("当周") for label in chart["labels"])
    assert sum(chart["series"][0][1]) == 1 and "按周统计，周一至周日。" in page


@pytest.fixture
def articles(publish):
    return [publish("配置 SSO 单点登录", "用 SAML 2.0 接入 Okta。", slug="sso", tags=["SSO"])]
