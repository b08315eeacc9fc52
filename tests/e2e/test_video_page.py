"""A video page in the browser at 1366 × 900 and on a phone (390 × 844): an uploaded WebM
(encoded by the browser in the test, tests/e2e/webm.py) plays with its duration known,
a chapter seeks it, the transcript sits beside the player (below it on the phone) and
nothing scrolls sideways; a gated video stops at the end of its free minute and shows
the lead form. Screenshots go to LODESTAR_SCREENSHOT_DIR when it is set."""

import os
import re
from pathlib import Path

import pytest

from tests.e2e.helpers import DESKTOP, PHONE
from tests.e2e.webm import make_webm
from tests.factories import video_article

PLAYER = "document.querySelector('video#video-player')"


def encoded(browser, live_server, **size) -> bytes:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.goto("/robots.txt")  # WebCodecs needs a secure context: our own origin on 127.0.0.1
    try:
        return make_webm(page, **size)
    finally:
        context.close()


@pytest.fixture(scope="module")
def video_path(browser, live_server, live_app):
    data = encoded(browser, live_server, seconds=8)
    with live_app.app_context():
        article = video_article(
            live_app,
            data,
            suffix=".webm",
            title="十分钟看懂线索评分",
            summary="从打分规则到移交销售的完整演示。",
            chapters=[{"t": 0, "title": "开场"}, {"t": 5, "title": "配置打分规则"}],
            transcript_md="## 文字稿\n\n"
            + "大家好，今天演示如何为线索配置打分规则，并在分数达标后移交给销售。" * 6,
        )
        return article.url_path


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366x900", "390x844"])
def test_a_video_page_plays_seeks_by_chapter_and_fits_the_screen(browser, live_server, video_path, viewport):
    phone = viewport is PHONE
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport=viewport, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    try:
        page.goto(video_path)
        page.wait_for_function(f"() => {PLAYER}.readyState >= 1 && Number.isFinite({PLAYER}.duration)")
        assert page.evaluate(f"{PLAYER}.duration") == pytest.approx(8, abs=0.5)

        page.get_by_role("link", name=re.compile("配置打分规则")).click()
        page.wait_for_function(f"() => Math.abs({PLAYER}.currentTime - 5) < 0.5")
        assert (
            page.get_by_role("link", name=re.compile("配置打分规则")).get_attribute("aria-current") == "true"
        )

        player = page.locator("video#video-player").bounding_box()
        transcript = page.locator(".video-transcript").bounding_box()
        if phone:
            assert transcript["y"] >= player["y"] + player["height"]
        else:
            assert transcript["x"] >= player["x"] + player["width"]
        width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= viewport["width"] and inner <= viewport["width"]

        shots = os.environ.get("LODESTAR_SCREENSHOT_DIR")
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / f"video-page-{viewport['width']}.png"), full_page=True)
    finally:
        context.close()


def test_a_gated_video_stops_after_its_free_minute_and_shows_the_lead_form(
    browser, live_server, live_app, page
):
    data = encoded(browser, live_server, width=64, height=36, fps=1, seconds=75)
    with live_app.app_context():
        article = video_article(
            live_app,
            data,
            suffix=".webm",
            title="完整版线索评分课程",
            free_minutes=1,
            chapters=[{"t": 0, "title": "开场"}, {"t": 65, "title": "高级技巧"}],
        )
        path = article.url_path
    page.goto(path)
    page.wait_for_function(f"() => {PLAYER}.readyState >= 1 && Number.isFinite({PLAYER}.duration)")
    gate = page.locator("#video-gate")
    assert "is-open" not in (gate.get_attribute("class") or "")
    page.get_by_role("link", name=re.compile("高级技巧")).click()
    page.wait_for_function("() => document.getElementById('video-gate').classList.contains('is-open')")
    assert page.evaluate(f"{PLAYER}.currentTime") <= 60.5 and page.evaluate(f"{PLAYER}.paused")
    assert gate.get_by_label(re.compile("工作邮箱")).is_visible()
    shots = os.environ.get("LODESTAR_SCREENSHOT_DIR")
    if shots:
        page.screenshot(path=str(Path(shots) / "video-gate-1280.png"), full_page=True)
