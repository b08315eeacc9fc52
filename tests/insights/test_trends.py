"""The insights trends count local days: a day starts at the site's midnight (the zone
the page's tables count in), across a date line from UTC and across a DST change."""

import re
from datetime import date, datetime

import pytest

from core.extensions import db
from core.trends import counts_between, local_midnights
from gated.models import Lead
from insights.scoring.models import Handoff


def test_local_midnights_follow_the_zone_and_its_dst_change(app):
    with app.test_request_context():
        assert local_midnights(date(2026, 12, 6), date(2026, 12, 7), tz="Asia/Shanghai") == [
            datetime(2026, 12, 5, 16),
            datetime(2026, 12, 6, 16),
            datetime(2026, 12, 7, 16),
        ]
        # New York moves its clocks on 8 March 2026: the day after starts an hour earlier in UTC.
        assert local_midnights(date(2026, 3, 7), date(2026, 3, 9), tz="America/New_York") == [
            datetime(2026, 3, 7, 5),
            datetime(2026, 3, 8, 5),
            datetime(2026, 3, 9, 4),
            datetime(2026, 3, 10, 4),
        ]
        weeks = local_midnights(date(2026, 11, 30), date(2026, 12, 13), step_days=7, tz="UTC")
        assert weeks == [datetime(2026, 11, 30), datetime(2026, 12, 7), datetime(2026, 12, 14)]


def test_counts_between_fall_in_the_local_day(app):
    # 16:30 UTC on the 6th is 00:30 on the 7th in Shanghai; 04:30 UTC on 9 March is
    # 00:30 EDT that day in New York (23:30 the day before had the clocks not moved).
    for at in (datetime(2026, 12, 6, 16, 30), datetime(2026, 3, 9, 4, 30)):
        db.session.add(Lead(email=f"{at:%m%d}@acme.cn", created_at=at))
    db.session.commit()
    with app.test_request_context():
        shanghai = local_midnights(date(2026, 12, 6), date(2026, 12, 7), tz="Asia/Shanghai")
        utc = local_midnights(date(2026, 12, 6), date(2026, 12, 7), tz="UTC")
        new_york = local_midnights(date(2026, 3, 8), date(2026, 3, 9), tz="America/New_York")
    assert counts_between(Lead.created_at, shanghai) == [0, 1]
    assert counts_between(Lead.created_at, utc) == [1, 0]
    assert counts_between(Lead.created_at, new_york) == [0, 1]


def trend_rows(html: str) -> list[list[str]]:
    table = re.search(r'<details class="chart-table" open>(.*?)</details>', html, re.S).group(1)
    body = table[table.index("<tbody>") :]
    return [re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


@pytest.mark.parametrize(
    ("site", "reader", "expected"),
    [
        ("Asia/Shanghai", "America/New_York", [["12月6日", "0", "0", "0"], ["12月7日", "1", "1", "0"]]),
        ("America/New_York", "Asia/Shanghai", [["12月6日", "1", "1", "0"], ["12月7日", "0", "0", "0"]]),
    ],
)
def test_the_insights_page_draws_trends_by_the_sites_day(app, monkeypatch, login_as, site, reader, expected):
    # A report's day is the site's, whoever reads it, so it matches its tables and the digest.
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", site)
    someone = Lead(email="li@acme.cn", created_at=datetime(2026, 12, 6, 16, 30))
    db.session.add(someone)
    db.session.flush()
    db.session.add(Handoff(lead_id=someone.id, created_at=datetime(2026, 12, 6, 16, 31)))
    db.session.commit()
    marketer = login_as("marketer", timezone=reader)
    html = marketer.get("/admin/insights/?since=2026-12-06&until=2026-12-07").get_data(as_text=True)
    assert 'class="chart chart-line" id="chart-trends"' in html and "vendor/uplot/uPlot.iife.min.js" in html
    assert trend_rows(html) == expected


def test_a_long_period_is_drawn_by_week(app, login_as):
    html = (
        login_as("marketer").get("/admin/insights/?since=2026-06-01&until=2026-11-29").get_data(as_text=True)
    )
    rows = trend_rows(html)
    assert rows[0][0] == "6月1日当周" and len(rows) == 26
