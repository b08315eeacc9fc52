"""Sales clear the hand-off desk with the keyboard, and the weekly review counts what they
decided: Chromium at 1366 × 900 and 390 × 844, no sideways scroll on the phone; a
promise's countdown ticks and turns missed on the open page."""

import os
import re
from datetime import UTC, timedelta

import pytest
from playwright.sync_api import expect

from accounts import services
from core.extensions import db
from core.localtime import local_today, zone
from core.timeutil import utcnow
from core.trends import midnight
from gated.models import Submission
from insights.events import record
from insights.scoring.models import Handoff
from tests.e2e.helpers import STAFF_PASSWORD, serious_violations, sign_in, sized_context
from tests.factories import handed_off

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("LODESTAR_SCREENSHOTS", "")
NAMES = ("王伟", "李芳", "张敏", "刘静", "陈磊")


def handed_week(live_app) -> str:
    """The local date (ISO) on which the desk's first lead was handed over."""
    with live_app.app_context():
        first = db.session.scalar(db.select(db.func.min(Handoff.created_at)))
        db.session.remove()
    return first.replace(tzinfo=UTC).astimezone(zone(live_app.config["TIMEZONE"])).date().isoformat()


def shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def last_handed(now, tz: str):
    """When the last of the five is handed over: two hours ago, the five an hour apart,
    all in one week of the site's calendar (the review counts a week), so in the week
    before when this one began less than six hours ago."""
    today = local_today(tz)
    week_began = midnight(today - timedelta(days=today.weekday()), tz=tz)
    return (
        now - timedelta(hours=2)
        if now - timedelta(hours=6) >= week_began
        else week_began - timedelta(hours=1)
    )


@pytest.fixture(scope="module")
def desk(live_app, live_server):
    with live_app.app_context():
        sales = services.create_user("desk-sales@example.com", role="sales", password=STAFF_PASSWORD)
        last = last_handed(utcnow(), live_app.config["TIMEZONE"])
        for number, name in enumerate(NAMES):
            lead, _handoff = handed_off(
                sales,
                at=last - timedelta(hours=4 - number),
                email=f"desk{number}@acme.cn",
                name=name,
                company=f"星河软件 {number + 1} 部",
                job_title="IT 经理",
            )
            for minute in range(3):
                record(
                    "page_view",
                    lead_id=lead.id,
                    at=last - timedelta(hours=5, minutes=minute),
                    path="/pricing",
                )
            db.session.add(Submission(lead_id=lead.id, form="demo", fields={"message": "请安排下周的演示。"}))
        db.session.commit()
        db.session.remove()
    return "desk-sales@example.com"


def decide(page, *keys):
    """Press `keys` on the desk; the last one submits, and the page comes back."""
    for key in keys[:-1]:
        page.keyboard.press(key)
    with page.expect_navigation():
        page.keyboard.press(keys[-1])


def test_sales_decide_five_mqls_with_the_keyboard_and_the_review_counts_them(
    browser, live_server, live_app, desk, axe_source
):
    context = sized_context(browser, live_server, "desktop")
    page = context.new_page()
    try:
        sign_in(page, desk)
        page.goto("/admin/scoring/handoffs")
        cards = page.locator("[data-desk-card]")
        assert cards.count() == 5
        first = cards.first
        assert NAMES[0] in first.inner_text()  # the oldest promise first
        assert "请安排下周的演示。" in first.inner_text() and "星河软件 1 部" in first.inner_text()
        assert "键盘快捷键" in page.content()
        assert not serious_violations(page, axe_source)
        shot(page, "desk-desktop")

        decide(page, "a")  # 王伟: accepted
        decide(page, "2", "r")  # 李芳: returned, no budget
        page.keyboard.press("n")
        page.keyboard.type("下周一电话确认")
        page.keyboard.press("Escape")
        decide(page, "a")  # 张敏: accepted with a note
        decide(page, "r")  # 刘静: no reason chosen, refused beside the reasons
        assert page.locator(".desk-return-reasons .error").inner_text() == "请选择退回原因。"
        shot(page, "desk-refused")
        decide(page, "1", "r")  # 刘静: returned, not a fit
        page.keyboard.press("6")
        page.keyboard.type("已在谈合作")
        page.keyboard.press("Escape")
        decide(page, "r")  # 陈磊: returned, other reason typed
        assert page.locator("[data-desk-card]").count() == 0
        assert "工作台已清空" in page.content()

        with live_app.app_context():
            decided = {
                h.lead_id: (h.outcome, h.reason_code, h.reason, h.note)
                for h in db.session.query(Handoff).all()
            }
            db.session.remove()
        outcomes = sorted(decided.values())
        assert outcomes == sorted(
            [
                ("accepted", "", "", ""),
                ("accepted", "", "", "下周一电话确认"),
                ("rejected", "no_budget", "没有预算", ""),
                ("rejected", "not_a_fit", "不合适", ""),
                ("rejected", "other", "已在谈合作", ""),
            ]
        )

        page.goto(f"/admin/scoring/review?week={handed_week(live_app)}")
        assert page.locator('[data-figure="handed"]').inner_text() == "5"
        assert page.locator('[data-figure="decided"]').inner_text() == "5"
        assert page.locator('[data-figure="lost"]').inner_text() == "3"
        assert page.locator("[data-review-row]").count() == 5
        assert not serious_violations(page, axe_source)
        shot(page, "review-desktop")
        page.emulate_media(media="print")
        assert not page.locator(".admin-nav").is_visible()
        shot(page, "review-print")
    finally:
        context.close()


def test_the_desk_and_the_review_fit_a_phone(phone, live_app, desk):
    with live_app.app_context():
        from accounts.models import User

        sales = db.session.query(User).filter_by(email=desk).one()
        handed_off(
            sales, at=utcnow() - timedelta(hours=30), email="phone@acme.cn", name="赵丽", company="远景制造"
        )
        db.session.remove()
    sign_in(phone, desk)
    phone.goto("/admin/scoring/handoffs")
    assert "赵丽" in phone.locator("[data-desk-card]").first.inner_text()
    assert fits(phone)
    shot(phone, "desk-phone")
    with phone.expect_navigation():
        phone.locator("[data-desk-card]").first.get_by_role("button", name="接受").tap()
    assert phone.locator("[data-desk-card]").count() == 0
    phone.goto("/admin/scoring/review")
    assert fits(phone)
    shot(phone, "review-phone")


def test_a_countdown_ticks_to_missed_on_the_open_page(browser, live_server, live_app, desk, monkeypatch):
    # Every hour of every day is working time: the promise clock runs now.
    monkeypatch.setitem(live_app.config, "SCORING_WORK_DAYS", "mon,tue,wed,thu,fri,sat,sun")
    monkeypatch.setitem(live_app.config, "SCORING_WORK_HOURS", "00:00-24:00")
    context = sized_context(browser, live_server, "desktop")
    page = context.new_page()
    try:
        sign_in(page, desk)
        with live_app.app_context():
            from accounts.models import User

            sales = db.session.query(User).filter_by(email=desk).one()
            promise = timedelta(hours=live_app.config["SCORING_RESPONSE_HOURS"])
            # Handed off a promise ago, less a few seconds: it runs out while the page is open.
            _lead, handoff = handed_off(
                sales, at=utcnow() - promise + timedelta(seconds=12), email="clock@acme.cn", name="孙倩"
            )
            card_id = f"handoff-{handoff.id}"
            db.session.remove()
        page.goto("/admin/scoring/handoffs")
        card = page.locator(f"#{card_id}")
        countdown = card.locator(".desk-promise .badge")
        expect(countdown).to_have_text("还剩 0 小时 0 分")
        expect(countdown).to_have_class(re.compile(r"\bwarn\b"))
        expect(card).not_to_have_class(re.compile(r"\bis-missed\b"))
        page.evaluate("window.sameDocument = true")

        expect(countdown).to_have_text("已超出承诺 0 小时 0 分", timeout=30_000)
        expect(countdown).to_have_class(re.compile(r"\bbad\b"))
        expect(card).to_have_class(re.compile(r"\bis-missed\b"))
        assert page.evaluate("window.sameDocument") is True  # no reload did it
        shot(page, "desk-missed-live")
    finally:
        context.close()


def test_a_long_return_reason_wraps_on_the_staff_home(live_app, page):
    from insights.scoring.handoff import decide

    reason = "对方公司正在被收购，暂停采购"
    note = "已电话联系，对方说明年再议，收购完成后由新的采购负责人对接"
    with live_app.app_context():
        sales = services.create_user("long-reason@example.com", role="sales", password=STAFF_PASSWORD)
        services.create_user("long-reason-mkt@example.com", role="marketer", password=STAFF_PASSWORD)
        _lead, handoff = handed_off(
            sales, at=utcnow() - timedelta(hours=2), email="zhang@long.cn", name="张婷"
        )
        decide(handoff.id, "rejected", reason, user=sales, now=utcnow(), reason_code="other", note=note)
        db.session.remove()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "long-reason-mkt@example.com")
    page.goto("/admin/")
    badge = page.locator(".home-rows .badge", has_text="对方公司正在被收购")
    expect(badge).to_be_visible()
    assert fits(page)
    box, panel = badge.bounding_box(), page.locator(".home-panel", has=badge).bounding_box()
    assert box["x"] + box["width"] <= panel["x"] + panel["width"]


def test_the_mails_link_opens_the_desk_at_its_lead_for_the_keys(live_app, page):
    """The MQL mail links the desk at one hand-off (#handoff-<id>): that card is in view and
    the current one, so A accepts the lead the mail named, not the oldest on the desk."""
    with live_app.app_context():
        sales = services.create_user("desk-link@example.com", role="sales", password=STAFF_PASSWORD)
        _older, first = handed_off(sales, at=utcnow() - timedelta(hours=3), email="old@link.cn", name="周涛")
        _newer, linked = handed_off(sales, at=utcnow() - timedelta(hours=1), email="new@link.cn", name="吴静")
        first_id, linked_id = first.id, linked.id
        db.session.remove()
    page.set_viewport_size({"width": 1366, "height": 500})
    sign_in(page, "desk-link@example.com")
    page.goto(f"/admin/scoring/handoffs#handoff-{linked_id}")
    card = page.locator(f"#handoff-{linked_id}")
    expect(card).to_be_in_viewport()
    expect(card).to_have_class(re.compile(r"\bis-current\b"))
    # The other reason is a styled text field, as tall as the note beside it.
    reason, note = card.locator('input[name="reason"]'), card.locator("textarea[name=note]")
    assert abs(reason.bounding_box()["height"] - note.bounding_box()["height"]) <= 6
    decide(page, "a")
    with live_app.app_context():
        outcomes = {
            h.id: h.outcome for h in db.session.query(Handoff).filter(Handoff.id.in_([first_id, linked_id]))
        }
        db.session.remove()
    assert outcomes == {first_id: "pending", linked_id: "accepted"}
