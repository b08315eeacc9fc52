"""The editorial calendar in a real browser, on a wide screen and a phone: plan a piece
from the calendar, drag it to the next day (SortableJS posts the date), then turn it into
a draft that starts from its kind's template; a search that found nothing becomes a plan
from "what to write next". The pages fit a phone's width."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts import services as accounts
from content.planning import PlannedPiece
from content.standards import install_default_standards
from content.teams import TeamMember, all_teams, ensure_default_teams
from core.extensions import db
from core.localtime import local_today
from core.timeutil import utcnow
from tests.e2e.helpers import SIZES, STAFF_PASSWORD, fits, shoot, sign_in, sized_context

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def planner(live_app, live_server):
    """An editor of 市场."""
    with live_app.app_context():
        ensure_default_teams()
        install_default_standards(now=utcnow())
        user = accounts.create_user("planner@example.com", role="editor", password=STAFF_PASSWORD)
        marketing = next(team for team in all_teams() if team.name == "市场")
        db.session.add(TeamMember(team_id=marketing.id, user_id=user.id))
        db.session.commit()
        db.session.remove()
    return "planner@example.com"


def days_ahead():
    """Two neighbouring days of a month well ahead, in the site's zone."""
    first = (local_today("Asia/Shanghai").replace(day=1) + timedelta(days=40)).replace(day=1)
    return first + timedelta(days=9), first + timedelta(days=10)


def drag(page, item, target) -> None:
    """Press on the piece's card (not its links or buttons), move to the day, let go."""
    item.evaluate("element => element.scrollIntoView({block: 'center'})")
    box = item.bounding_box()
    page.mouse.move(box["x"] + box["width"] - 6, box["y"] + 8)
    page.mouse.down()
    goal = target.bounding_box()
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + goal["height"] / 2, steps=20)
    page.mouse.move(goal["x"] + goal["width"] / 2 + 2, goal["y"] + goal["height"] / 2 + 2, steps=5)
    page.mouse.up()


def stored_plan(live_app, title: str) -> PlannedPiece:
    with live_app.app_context():
        plan = db.session.scalars(select(PlannedPiece).where(PlannedPiece.title == title)).one()
        db.session.expunge(plan)
        db.session.remove()
    return plan


@pytest.mark.parametrize("size", SIZES)
def test_plan_drag_to_another_day_and_start_the_draft(browser, live_server, live_app, planner, size):
    context = sized_context(browser, live_server, size)
    page = context.new_page()
    title = f"制造业客户案例（{size}）"
    day, next_day = days_ahead()
    try:
        # A visitor's search that finds nothing: an idea for what to write next.
        wanted = f"私有化部署（{size}）"
        page.goto(f"/search?q={wanted}")
        sign_in(page, planner)
        if size == "phone":
            page.get_by_role("button", name="菜单").click()
        page.locator("#admin-nav").get_by_role("link", name="内容日历").click()
        page.wait_for_url("**/admin/content/calendar/")
        assert fits(page)
        page.get_by_role("link", name="新建计划").click()
        page.get_by_label("暂定标题").fill(title)
        page.get_by_label("类型").select_option("case-study")
        page.get_by_label("团队").select_option(label="市场")
        page.get_by_label("目标日期").fill(day.isoformat())
        page.get_by_label("服务于（营销活动或产品发布）").fill("春季新品发布会")
        assert fits(page)
        shoot(page, f"calendar-plan-form-{size}")
        page.get_by_role("button", name="保存计划").click()
        page.wait_for_url(re.compile(r"/admin/content/calendar/\?"))
        assert "计划已保存" in page.locator(".flash").first.inner_text()

        piece = page.locator(f'ul.cal-items[data-date="{day}"] li.cal-item', has_text=title)
        assert piece.count() == 1
        assert fits(page)
        shoot(page, f"calendar-month-{size}")

        drag(page, piece, page.locator(f'ul.cal-items[data-date="{next_day}"]'))
        status = page.locator(".cal-status")
        status.filter(has_text="已改期到").wait_for()
        assert stored_plan(live_app, title).target_date == next_day
        shoot(page, f"calendar-dragged-{size}")
        page.reload()
        moved = page.locator(f'ul.cal-items[data-date="{next_day}"] li.cal-item', has_text=title)
        assert moved.count() == 1
        assert page.locator(f'ul.cal-items[data-date="{day}"] li.cal-item', has_text=title).count() == 0

        moved.locator("summary", has_text="改期或开始").click()
        assert moved.get_by_label("新日期").input_value() == next_day.isoformat()
        shoot(page, f"calendar-actions-{size}", moved)
        moved.get_by_role("button", name="开始写草稿").click()
        page.wait_for_url(re.compile(r"/admin/content/\d+$"))
        assert page.get_by_label("标题", exact=True).input_value() == title
        assert "## 客户背景" in page.locator("textarea[name=body]").input_value()
        assert fits(page)
        shoot(page, f"calendar-draft-{size}")
        started = stored_plan(live_app, title)
        assert started.article_id is not None and started.started_at is not None

        page.goto(f"/admin/content/calendar/?view=week&date={next_day}")
        assert "撰写中" in page.locator(f'ul.cal-items[data-date="{next_day}"]').inner_text()
        assert fits(page)
        shoot(page, f"calendar-week-{size}")
        page.goto("/admin/content/calendar/ideas")
        idea = page.locator(".idea", has_text=wanted)
        assert "1 次" in idea.inner_text()
        idea.get_by_label("团队").select_option(label="市场")
        assert fits(page)
        shoot(page, f"calendar-ideas-{size}")
        idea.get_by_role("button", name="加入计划").click()
        page.wait_for_url(re.compile(r"/admin/content/calendar/\?"))
        assert "已加入计划" in page.locator(".flash").first.inner_text()
        assert stored_plan(live_app, wanted).idea.startswith("search:")
    finally:
        context.close()
