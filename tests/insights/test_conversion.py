"""Landing conversion on the insights page: per form page (white papers, the demo
request), its page views, the leads its form brought (each lead once) and their share;
counted on the site's days (16:00 UTC starts a day in Shanghai) before and after the
rollup and prune, filtered by channel, and drawn as the shared charts with their tables
and CSV."""

from datetime import date, datetime, timedelta

import pytest

from core.extensions import db
from core.localtime import local_today
from gated.capture import RequestMeta, capture_lead
from insights import dashboards, rollups
from insights.events import record
from tests.factories import chart_on, form_data, make_whitepaper, visit
from tests.insights.conftest import flushed

EVE = datetime(2026, 12, 6, 15, 59)  # 23:59 on the 6th in Shanghai
MIDNIGHT = datetime(2026, 12, 6, 16, 0)  # 00:00 on the 7th in Shanghai
SIXTH, SEVENTH = date(2026, 12, 6), date(2026, 12, 7)


def rows(since, until, channel=""):
    table = dashboards.landing_conversion(dashboards.Filters(since, until, channel))
    return [(r["path"], r["views"], r["leads"], r["conversion_rate"]) for r in table.rows]


@pytest.fixture
def visited(app, browser):
    """Through the pages and their beacons: the renewal paper seen four times and sent
    by two people (one of them twice), the churn paper seen once and never sent, the
    demo request seen once and sent; a help article, not a form page, seen too."""
    renewal, _asset = make_whitepaper("saas-renewal", "续费白皮书")
    make_whitepaper("churn", "流失白皮书", filename="流失.pdf")
    for path in ["/library/saas-renewal"] * 4 + ["/library/churn", "/demo-request", "/help/"]:
        visit(browser, path)
    for email in ("wang@example.cn", "li@example.cn", "wang@example.cn"):
        assert browser.post(f"/library/{renewal.slug}", data=form_data(email=email)).status_code == 303
    assert browser.post("/demo-request", data=form_data(email="zhao@example.cn")).status_code == 303
    flushed(app)


def test_views_leads_and_conversion_per_form_page(visited):
    today = local_today("Asia/Shanghai")
    assert rows(today, today) == [
        ("/library/saas-renewal", 4, 2, 0.5),
        ("/demo-request", 1, 1, 1.0),
        ("/library/churn", 1, 0, 0.0),
    ]
    # The form's visit came from Baidu's ads (utm_medium cpc): paid search; the views
    # were direct visits.
    assert rows(today, today, "paid_search") == [
        ("/library/saas-renewal", 0, 2, None),
        ("/demo-request", 0, 1, None),
    ]
    assert rows(today - timedelta(days=1), today - timedelta(days=1)) == []


def around_midnight(app):
    """Views and submissions either side of midnight in Shanghai, through the event and
    form services (a submission signals its form_submit event, as a request does)."""
    paper, asset = make_whitepaper("saas-renewal", "续费白皮书")
    for at in (EVE, MIDNIGHT, MIDNIGHT + timedelta(hours=1)):
        record("page_view", visitor_id=f"v{at:%H}", path="/library/saas-renewal", visit_seq=1, at=at)
    db.session.commit()
    for email, at in (("eve@example.cn", EVE), ("midnight@example.cn", MIDNIGHT)):
        capture_lead("whitepaper", form_data(email=email), asset=asset, request_meta=RequestMeta(), now=at)


@pytest.mark.parametrize(
    ("zone", "sixth", "seventh"),
    [
        ("Asia/Shanghai", [("/library/saas-renewal", 1, 1, 1.0)], [("/library/saas-renewal", 2, 1, 0.5)]),
        ("UTC", [("/library/saas-renewal", 3, 2, 2 / 3)], []),
    ],
)
def test_a_day_is_the_sites_day_before_and_after_the_rollup_and_prune(app, monkeypatch, zone, sixth, seventh):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", zone)
    around_midnight(app)
    assert (rows(SIXTH, SIXTH), rows(SEVENTH, SEVENTH)) == (sixth, seventh)
    assert rollups.rollup(now=datetime(2026, 12, 9, 12, 0)) >= 2
    monkeypatch.setitem(app.config, "INSIGHTS_RETENTION_DAYS", 0)
    assert rollups.prune(now=datetime(2026, 12, 9, 12, 0)) > 0
    # The views come from the day's aggregates now, the leads from the submissions.
    assert (rows(SIXTH, SIXTH), rows(SEVENTH, SEVENTH)) == (sixth, seventh)


def test_the_insights_page_charts_views_leads_and_the_rate_with_tables(visited, login_as):
    today = local_today("Asia/Shanghai").isoformat()
    marketer = login_as("marketer")
    page = marketer.get(f"/admin/insights/?since={today}&until={today}").get_data(as_text=True)
    bars = chart_on(page, "chart-conversion")
    assert bars["kind"] == "bars" and bars["labels"] == ["续费白皮书", "预约演示", "流失白皮书"]
    assert bars["series"] == [["浏览", [4, 1, 1]], ["线索", [2, 1, 0]]]
    assert bars["table"][0] == ["续费白皮书", "4", "2"]
    rate = chart_on(page, "chart-conversion-rate")
    assert (rate["series"], rate["suffix"]) == ([["转化率", [50.0, 100.0, 0.0]]], "%")
    assert rate["table"][1] == ["预约演示", "100.0%"]
    assert "表单页：浏览与线索" in page and "<script>" not in page
    csv = marketer.get(f"/admin/insights/conversion.csv?since={today}&until={today}").get_data(as_text=True)
    assert csv.splitlines()[:2] == [
        "\ufefftitle,path,views,leads,conversion_rate",
        "续费白皮书,/library/saas-renewal,4,2,0.5000",
    ]


def test_without_form_pages_seen_there_is_no_chart(app, login_as):
    page = login_as("marketer").get("/admin/insights/").get_data(as_text=True)
    assert 'id="chart-conversion"' not in page
    assert "本期没有表单页被浏览，也没有表单提交。" in page


def test_a_gated_video_s_leads_are_its_own_row_apart_from_the_white_paper_s(
    app, browser, login_as, video_dir
):
    from tests.factories import mp4_bytes, video_article

    video = video_article(app, mp4_bytes(1024), title="线索评分实战", free_minutes=2)
    paper, _asset = make_whitepaper("saas-renewal", "续费白皮书")
    for path in (video.url_path, video.url_path, paper.url_path):
        visit(browser, path)
    assert (
        browser.post(f"/videos/{video.slug}/watch", data=form_data(email="wang@example.cn")).status_code
        == 303
    )
    assert browser.post(f"/library/{paper.slug}", data=form_data(email="li@example.cn")).status_code == 303
    flushed(app)
    today = local_today("Asia/Shanghai")
    assert rows(today, today) == [(video.url_path, 2, 1, 0.5), ("/library/saas-renewal", 1, 1, 1.0)]
    csv = login_as("marketer").get(f"/admin/insights/conversion.csv?since={today}&until={today}")
    assert "线索评分实战,/videos/" in csv.get_data(as_text=True)
