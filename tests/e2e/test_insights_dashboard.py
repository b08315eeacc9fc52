"""A marketer opens the insights dashboard in the browser: the charts, the channel table,
a CSV export, and no serious accessibility problem."""

from accounts import services
from core.extensions import db
from tests.e2e.conftest import AXE
from tests.e2e.helpers import STAFF_PASSWORD, serious_violations, sign_in
from tests.insights.conftest import known_data_set


def test_a_marketer_reads_the_dashboard(live_app, page):
    with live_app.app_context():
        services.create_user("marketer@example.com", role="marketer", password=STAFF_PASSWORD)
        known_data_set()
        db.session.remove()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, "marketer@example.com")
    page.get_by_role("navigation", name="后台栏目").get_by_role("link", name="数据洞察").click()
    page.wait_for_url("**/admin/insights/")
    page.get_by_label("开始日期").fill("2026-11-02")
    page.get_by_label("最后一天").fill("2026-11-15")
    page.get_by_role("button", name="显示").click()
    page.wait_for_url("**since=2026-11-02**")

    funnel = page.get_by_role("figure", name="本期漏斗")
    funnel.locator("canvas").wait_for()
    first = funnel.locator("tbody tr").first  # its table, folded away once it is drawn
    assert (first.locator("th").text_content(), first.locator("td").text_content()) == ("访问", "5")
    channels = page.get_by_role("region", name="各渠道线索与 MQL")
    rows = channels.get_by_role("row")
    assert rows.filter(has_text="付费搜索").get_by_role("cell").nth(2).inner_text() == "50.0%"

    with page.expect_download() as download:
        channels.get_by_role("link", name="导出 CSV").click()
    assert download.value.suggested_filename == "insights-channels-20261102-20261115.csv"

    if AXE.exists():
        assert not serious_violations(page, AXE.read_text(encoding="utf-8"))

    # The trend chart is drawn (uPlot under the CSP, no script error); its table folds
    # away, one click from view, with one row per day of the period.
    page.goto("/admin/insights/?since=2026-11-02&until=2026-11-15")
    chart = page.locator("#chart-trends")
    chart.locator("canvas").wait_for()
    assert chart.evaluate("box => box.querySelector('canvas').width") > 0
    table = page.locator("#chart-trends + details.chart-table")
    assert table.get_attribute("open") is None
    table.locator("summary").click()
    assert table.locator("tbody tr").count() == 14
    assert errors == []
