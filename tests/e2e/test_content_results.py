"""A reader's browser counts a view and its time on page (the page's own beacon and leave
ping); the head of marketing then reads the content results: by article, sorted, per
team, a team's trend chart, the CSV; at 1366 × 900 and on a phone (390 × 844) with no
sideways scroll. With LODESTAR_SCREENSHOT_DIR set, the screenshots are saved there."""

import os
from pathlib import Path

import pytest

from accounts import services
from content.teams import all_teams, ensure_default_teams
from core.extensions import db
from insights import tracking
from tests.e2e.helpers import PHONE, STAFF_PASSWORD, sign_in
from tests.factories import BROWSER, make_article

WIDE = {"width": 1366, "height": 900}


@pytest.fixture
def articles(live_app):
    with live_app.app_context():
        ensure_default_teams()
        teams = {team.name: team for team in all_teams()}
        owner = services.create_user("wang@example.com", role="editor", password=STAFF_PASSWORD)
        services.create_user("head@example.com", role="marketer", password=STAFF_PASSWORD)
        made = {}
        for slug, title, team in (("reset", "如何重置密码", "客服"), ("retail", "零售行业方案", "售前")):
            article = make_article("正文。", title=title, slug=slug)
            article.team_id, article.owner_id = teams[team].id, owner.id
            made[slug] = (article.url_path, teams[team].id)
        db.session.commit()
        db.session.remove()
    return made


def test_the_head_of_marketing_reads_what_each_team_s_content_brought(
    browser, live_app, live_server, articles, tmp_path
):
    reader = browser.new_context(base_url=live_server.url, locale="zh-CN", user_agent=BROWSER)
    page = reader.new_page()
    with page.expect_response(lambda response: response.url.endswith("/beacon")):
        page.goto(articles["reset"][0])
    page.wait_for_timeout(1200)  # a second in view, so the time on page is not zero
    # The reader closes the tab: the page is hidden and sends its leave ping. (Headless
    # Chromium here does not deliver a beacon queued while navigating away, which a
    # browser on a desk does; closing delivers it.)
    waiter = reader.new_page()
    page.close(run_before_unload=True)
    for _attempt in range(100):  # the ping is a request of its own, answered in the server's thread
        if any(row["kind"] == "page_time" for row in tracking.buffer(live_app).rows):
            break
        waiter.wait_for_timeout(50)
    reader.close()
    tracking.flush(live_app)

    shots = Path(os.environ.get("LODESTAR_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    for viewport in (WIDE, PHONE):
        options = {"is_mobile": True, "has_touch": True} if viewport is PHONE else {}
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=viewport, **options)
        head = context.new_page()
        errors = []
        head.on(
            "console",
            lambda message, errors=errors: errors.append(message.text) if message.type == "error" else None,
        )
        sign_in(head, "head@example.com")
        head.goto("/admin/insights/results/")
        row = head.locator("table.results-table").get_by_role("row").filter(has_text="如何重置密码")
        assert row.get_by_role("cell").nth(3).inner_text() == "1"  # views (after kind, owner, team)
        assert row.get_by_role("cell").nth(5).inner_text().endswith("秒")  # time on page
        head.get_by_role("link", name="浏览", exact=True).click()
        head.wait_for_url("**sort=views.asc**")
        assert head.locator('th[aria-sort="ascending"]').inner_text().startswith("浏览")
        assert head.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        head.screenshot(path=str(shots / f"content-results-{viewport['width']}.png"), full_page=True)

        head.get_by_role("navigation", name="统计维度").get_by_role("link", name="团队").click()
        head.wait_for_url("**by=team**")
        with head.expect_download() as download:
            head.get_by_role("link", name="导出 CSV").click()
        assert download.value.suggested_filename.startswith("content-team-")
        head.get_by_role("link", name="客服", exact=True).click()
        head.wait_for_url(f"**/teams/{articles['reset'][1]}**")
        head.locator("#chart-team-trend canvas").wait_for()
        assert "零售行业方案" not in head.content()
        assert head.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        head.screenshot(path=str(shots / f"content-results-team-{viewport['width']}.png"), full_page=True)
        assert errors == []
        context.close()
