"""The sequence builder as a journey, in Chromium: a marketer builds a three-step
sequence in one save (typing "2天"), sees the previews on load, reorders the steps by
keyboard and by dragging, saves once more and reads the revision history; the page fits
a phone. Screenshots go to LODESTAR_SCREENSHOTS (a folder) when it is set."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts import services as accounts
from core.extensions import db
from core.timeutil import utcnow
from nurture import sequences
from nurture.models import Sequence, SequenceRevision
from tests.e2e.helpers import sign_in

pytestmark = pytest.mark.e2e
MARKETER = "journey@example.com"
PASSWORD = "long enough pw"
SUBJECTS = ["第一封：白皮书送达", "第二封：客户案例", "第三封：预约演示"]


@pytest.fixture(scope="module")
def marketer(live_app):
    with live_app.app_context():
        accounts.create_user(MARKETER, role="marketer", password=PASSWORD)
        db.session.remove()


def shoot(page, name: str) -> None:
    folder = os.environ.get("LODESTAR_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
        page.screenshot(path=str(Path(folder) / f"{name}-screen.png"))


def saved_steps(live_app, slug="journey-built") -> list[tuple[str, int]]:
    with live_app.app_context():
        sequence = db.session.scalar(db.select(Sequence).where(Sequence.slug == slug))
        steps = [(step.subject, step.delay_minutes) for step in sequence.steps]
        db.session.remove()
    return steps


def drag_below(page, handle, target) -> None:
    """Drag by the handle, with the mouse, to the lower part of `target`."""
    handle.scroll_into_view_if_needed()
    start = handle.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    box = target.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + box["height"] * 0.8, steps=30)
    page.mouse.move(box["x"] + 40, box["y"] + box["height"] * 0.9, steps=10)
    page.mouse.up()


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_build_reorder_and_preview_a_journey(live_app, page, marketer):
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, MARKETER, PASSWORD)
    page.goto("/admin/nurture/new")
    page.get_by_label("名称", exact=True).fill("旅程视图培育")
    page.get_by_label("网址别名（slug）", exact=True).fill("journey-built")
    page.get_by_label("触发方式").select_option("asset")
    page.get_by_label("资料标识或表单名称").fill("saas-renewal")

    # Three steps, added in the page and saved at once; the first waits "2天".
    steps = page.locator("#journey-steps > li[data-step]")
    expect(steps).to_have_count(1)
    add = page.get_by_role("button", name="+ 添加一步")
    add.click()
    add.click()
    expect(steps).to_have_count(3)
    for index, (delay, subject) in enumerate(zip(["2天", "3 天", "36h"], SUBJECTS, strict=True)):
        card = steps.nth(index)
        card.get_by_label("延迟", exact=True).fill(delay)
        card.get_by_label("主题", exact=True).fill(subject)
        card.get_by_label("正文（Markdown）").fill(f"{subject}的正文。")
    # The wait says in words when the first mail goes, as the marketer typed it.
    expect(steps.first.locator("[data-when]")).to_have_text("下载后 2 天，工作日 9:00–18:00 发送")
    expect(page.locator("[data-trigger]")).to_have_text("线索下载“saas-renewal”时")
    expect(steps.nth(2).locator("[data-when]")).to_have_text("上一封发出后 36 小时，工作日 9:00–18:00 发送")
    # The variable picker puts {{ lead.company }} where the cursor is, with its sample value shown.
    first = steps.first
    first.get_by_label("主题", exact=True).click()
    first.get_by_label("主题", exact=True).press("End")
    first.locator("summary", has_text="插入变量").click()
    expect(first.get_by_text("示例科技有限公司").first).to_be_visible()
    first.get_by_role("button", name="{{ lead.company }}").click()
    expect(first.get_by_label("主题", exact=True)).to_have_value(SUBJECTS[0] + "{{ lead.company }}")
    # The live preview renders the typed step for the sample lead.
    preview = page.frame_locator("iframe[name=preview-0]")
    expect(preview.get_by_text(SUBJECTS[0] + "示例科技有限公司").first).to_be_visible()
    phone = page.frame_locator("iframe[name=preview-0-phone]")
    expect(phone.get_by_text(SUBJECTS[0] + "示例科技有限公司").first).to_be_attached()
    shoot(page, "journey-new-desktop")
    page.get_by_role("button", name="保存旅程").click()
    page.wait_for_url(re.compile(r".*/admin/nurture/\d+$"))
    assert saved_steps(live_app) == [
        (SUBJECTS[0] + "{{ lead.company }}", 2 * 1440),
        (SUBJECTS[1], 3 * 1440),
        (SUBJECTS[2], 36 * 60),
    ]

    # On the journey page, every saved step's previews render on load, and each card
    # shows its subject as the lead will read it.
    page.get_by_role("link", name="编辑旅程").click()
    expect(steps).to_have_count(3)
    expect(steps.first.locator("[data-subject]")).to_have_text(SUBJECTS[0] + "示例科技有限公司")
    for index, subject in enumerate(SUBJECTS):
        frame = page.frame_locator(f"iframe[name=preview-{index}]")
        expect(frame.get_by_text(subject).first).to_be_visible()
    steps.first.get_by_role("button", name="手机").click()
    phone_frame = page.frame_locator("iframe[name=preview-0-phone]")
    expect(phone_frame.get_by_text(SUBJECTS[0]).first).to_be_visible()
    shoot(page, "journey-edit-desktop")

    # Reorder: the third mail up by keyboard, then the (new) first dragged to the end.
    up = steps.nth(2).get_by_role("button", name="上移")
    up.focus()
    page.keyboard.press("Enter")
    expect(steps.nth(1).get_by_label("主题", exact=True)).to_have_value(SUBJECTS[2])
    expect(page.locator(":focus")).to_have_attribute("value", "up-1")
    page.set_viewport_size({"width": 1366, "height": 3200})  # both cards on screen for the mouse
    # The dragged card's mail is rendered again from what is typed: desktop, then phone
    # (a save clicked while the frames still load must not wait on them).
    with page.expect_event(
        "framenavigated",
        lambda frame: frame.name == "preview-0-phone" and frame.url.endswith("/admin/nurture/preview"),
    ):
        drag_below(page, steps.first.locator(".drag-handle"), steps.nth(2))
    page.set_viewport_size({"width": 1366, "height": 900})
    expect(steps.nth(2).get_by_label("主题", exact=True)).to_have_value(SUBJECTS[0] + "{{ lead.company }}")
    expect(steps.first.get_by_label("主题", exact=True)).to_have_value(SUBJECTS[2])
    page.get_by_role("button", name="保存旅程").click()
    page.wait_for_url(re.compile(r".*/admin/nurture/\d+$"))
    assert [subject for subject, _minutes in saved_steps(live_app)] == [
        SUBJECTS[2],
        SUBJECTS[1],
        SUBJECTS[0] + "{{ lead.company }}",
    ]
    history = page.locator(".journey-history")
    expect(history.get_by_text("调整了步骤顺序")).to_be_visible()
    expect(history.get_by_text("创建，共 3 步")).to_be_visible()
    with live_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(SequenceRevision)) == 2
        db.session.remove()

    # A phone: the journey fits without scrolling sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("link", name="编辑旅程").click()
    expect(steps).to_have_count(3)
    expect(page.frame_locator("iframe[name=preview-0]").get_by_text(SUBJECTS[2]).first).to_be_visible()
    no_sideways_scroll(page)
    steps.first.scroll_into_view_if_needed()
    shoot(page, "journey-edit-phone")


def test_without_javascript_the_journey_still_moves_and_saves(live_app, browser, live_server, marketer):
    with live_app.app_context():
        steps = [{"delay": "1d", "subject": subject, "body": f"{subject}的正文。"} for subject in SUBJECTS]
        sequence, _outcome = sequences.save_sequence(
            {
                "slug": "journey-nojs",
                "name": "无脚本",
                "trigger": "manual",
                "send_window": {
                    "days": ["mon"],
                    "start": "09:00",
                    "end": "18:00",
                    "timezone": "Asia/Shanghai",
                },
                "steps": steps,
            },
            now=utcnow(),
        )
        edit_url = f"/admin/nurture/{sequence.id}/edit"
        db.session.remove()
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        sign_in(page, MARKETER, PASSWORD)
        page.goto(edit_url)
        cards = page.locator("#journey-steps > li[data-step]")
        # The previews of saved mails load with the page, no script needed.
        expect(page.frame_locator("iframe[name=preview-1]").get_by_text(SUBJECTS[1]).first).to_be_visible()
        cards.nth(2).get_by_role("button", name="上移").click()  # the server shows it moved, unsaved
        expect(cards.nth(1).get_by_label("主题", exact=True)).to_have_value(SUBJECTS[2])
        expect(page.frame_locator("iframe[name=preview-1]").get_by_text(SUBJECTS[2]).first).to_be_visible()
        cards.nth(0).get_by_text("保存时删除此步").click()
        no_sideways_scroll(page)
        shoot(page, "journey-nojs-phone")
        page.get_by_role("button", name="保存旅程").click()
        page.wait_for_url(re.compile(r".*/admin/nurture/\d+$"))
        assert [subject for subject, _minutes in saved_steps(live_app, "journey-nojs")] == [
            SUBJECTS[2],
            SUBJECTS[1],
        ]
    finally:
        context.close()
