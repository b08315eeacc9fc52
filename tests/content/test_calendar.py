"""The editorial calendar: planning a piece (and its bad input), who sees and plans what,
moving a plan (the drag's JSON and the date field's page), a plan becoming a draft from
its kind's template, and the week and month views across a month boundary."""

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from content.calendar import period_for
from content.models import Article
from content.planning import PlannedPiece
from core.extensions import db
from core.localtime import local_today
from tests.conftest import join_team
from tests.factories import UserFactory, audit_entries, make_article

NEW = "/admin/content/calendar/plans/new"
CALENDAR = "/admin/content/calendar/"


def plan_form(for_team, **values) -> dict:
    return {
        "title": "零售行业案例：续费率提升 30%",
        "kind": "case-study",
        "team": str(for_team.id),
        "owner": "",
        "target_date": (local_today() + timedelta(days=10)).isoformat(),
        "serves": "春季新品发布会",
        **values,
    }


def plans() -> list[PlannedPiece]:
    db.session.expire_all()
    return list(db.session.scalars(select(PlannedPiece).order_by(PlannedPiece.id)))


def field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    return found.group(1) if found else ""


def make_plan(client, team, **values) -> PlannedPiece:
    response = client.post(NEW, data=plan_form(team, **values))
    assert response.status_code == 303, response.get_data(as_text=True)
    return plans()[-1]


def day_cells(html: str) -> dict[str, str]:
    """{ISO day: that day's cell} of a calendar page."""
    cells = html.split('<li class="cal-day')[1:]
    return {re.search(r'<time datetime="([0-9-]+)">', cell).group(1): cell for cell in cells}


@pytest.fixture
def marketing(default_teams, login_as):
    """An editor of 市场 (signed in) and a colleague of the same team."""
    editor = login_as("editor")
    colleague = UserFactory(role="editor", name="同事小李")
    join_team(default_teams["市场"], editor.user)
    join_team(default_teams["市场"], colleague)
    editor.colleague = colleague
    return editor


def test_bad_plans_are_refused_beside_their_fields_and_nothing_is_saved(app, default_teams, marketing):
    outsider = UserFactory(role="editor")
    team = default_teams["市场"]
    for values, field, message in (
        ({"target_date": (local_today() - timedelta(days=1)).isoformat()}, "target_date", "目标日期已过"),
        ({"target_date": "下周三"}, "target_date", "YYYY-MM-DD"),
        ({"owner": str(outsider.id)}, "owner", "负责人必须是该团队的在职成员"),
        ({"kind": "podcast"}, "kind", "请从列出的类型中选择"),
        ({"title": "  "}, "title", "暂定标题"),
        ({"team": str(default_teams["售前"].id)}, "team", "只能为自己所在的团队排期"),
    ):
        response = marketing.post(NEW, data=plan_form(team, **values))
        html = response.get_data(as_text=True)
        assert response.status_code == 422, values
        assert message in field_error(html, field), (values, field_error(html, field))
        assert "春季新品发布会" in html  # what was typed stays
    assert plans() == []

    saved = make_plan(marketing, team, owner=str(marketing.colleague.id))
    assert (saved.title, saved.kind, saved.team_id, saved.owner_id) == (
        "零售行业案例：续费率提升 30%",
        "case-study",
        team.id,
        marketing.colleague.id,
    )
    assert saved.serves == "春季新品发布会" and saved.article_id is None
    [entry] = audit_entries("content.plan_save")
    assert entry.target == f"plan:{saved.id}"


def test_editors_see_and_plan_only_for_their_teams_and_admins_for_all(
    app, default_teams, marketing, login_as
):
    presales = login_as("editor")
    join_team(default_teams["售前"], presales.user)
    theirs = make_plan(presales, default_teams["售前"], title="售前方案：制造业", kind="solution")
    mine = make_plan(marketing, default_teams["市场"], title="市场白皮书选题", kind="whitepaper")

    page = marketing.get(CALENDAR).get_data(as_text=True)
    assert "市场白皮书选题" in page and "售前方案：制造业" not in page
    assert marketing.get(f"/admin/content/calendar/plans/{theirs.id}").status_code == 403
    assert marketing.get(f"{CALENDAR}?team={default_teams['售前'].id}").status_code == 404
    moved = marketing.post(
        f"/admin/content/calendar/plans/{theirs.id}/move",
        data={"target_date": (local_today() + timedelta(days=20)).isoformat()},
    )
    assert moved.status_code == 403
    assert marketing.post(f"/admin/content/calendar/plans/{theirs.id}/start").status_code == 403
    assert db.session.get(PlannedPiece, theirs.id).article_id is None

    admin_page = login_as("admin").get(CALENDAR).get_data(as_text=True)
    assert "市场白皮书选题" in admin_page and "售前方案：制造业" in admin_page
    filtered = login_as("admin").get(f"{CALENDAR}?team={default_teams['市场'].id}").get_data(as_text=True)
    assert "市场白皮书选题" in filtered and "售前方案：制造业" not in filtered
    assert mine.team_id == default_teams["市场"].id

    # The staff nav's 内容 group offers the calendar to editors, not to sales.
    assert 'href="/admin/content/calendar/"' in marketing.get("/admin/").get_data(as_text=True)
    sales = login_as("sales")
    assert 'href="/admin/content/calendar/"' not in sales.get("/admin/").get_data(as_text=True)
    assert sales.get(CALENDAR).status_code == 403


def test_a_plan_moves_by_drag_and_by_its_date_field(app, default_teams, marketing):
    plan = make_plan(marketing, default_teams["市场"])
    url = f"/admin/content/calendar/plans/{plan.id}/move"
    later = local_today() + timedelta(days=12)

    dragged = marketing.post(
        url, data={"target_date": later.isoformat()}, headers={"Accept": "application/json"}
    )
    assert dragged.status_code == 200
    assert dragged.get_json()["date"] == later.isoformat()
    assert "已改期到" in dragged.get_json()["message"]
    assert plans()[0].target_date == later
    [entry] = audit_entries("content.plan_move")
    assert entry.details["now"] == later.isoformat()

    past = (local_today() - timedelta(days=3)).isoformat()
    refused = marketing.post(url, data={"target_date": past}, headers={"Accept": "application/json"})
    assert refused.status_code == 422 and "目标日期已过" in refused.get_json()["error"]
    assert plans()[0].target_date == later

    # Without scripts: the page again, the refused date kept beside its message.
    page = marketing.post(url, data={"target_date": past})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "目标日期已过" in field_error(html, "target_date") and f'value="{past}"' in html

    again = local_today() + timedelta(days=2)
    moved = marketing.post(
        url, data={"target_date": again.isoformat(), "next": "/admin/content/calendar/?view=week"}
    )
    assert moved.status_code == 303 and moved.headers["Location"].endswith(
        "/admin/content/calendar/?view=week"
    )
    assert plans()[0].target_date == again


def test_a_plan_becomes_a_draft_from_its_kinds_template_in_one_click(app, default_teams, marketing):
    plan = make_plan(marketing, default_teams["市场"], owner=str(marketing.colleague.id))
    start = f"/admin/content/calendar/plans/{plan.id}/start"

    response = marketing.post(start)
    assert response.status_code == 303
    [article] = db.session.scalars(select(Article)).all()
    assert response.headers["Location"].endswith(f"/admin/content/{article.id}")
    assert (article.title, article.kind, article.status) == (plan.title, "case-study", "draft")
    # The plan's team and owner, not the kind's (客户成功) and the one who clicked.
    assert (article.team_id, article.owner_id) == (default_teams["市场"].id, marketing.colleague.id)
    assert [heading["title"] for heading in article.headings] == ["客户背景", "挑战", "方案", "成效"]
    started = plans()[0]
    assert started.article_id == article.id and started.started_at is not None
    assert [entry.target for entry in audit_entries("content.plan_start")] == [f"plan:{plan.id}"]

    # A second click opens the same draft; a started plan no longer moves.
    assert marketing.post(start).headers["Location"].endswith(f"/admin/content/{article.id}")
    assert db.session.scalar(select(func.count(Article.id))) == 1
    moved = marketing.post(
        f"/admin/content/calendar/plans/{plan.id}/move",
        data={"target_date": (local_today() + timedelta(days=30)).isoformat()},
        headers={"Accept": "application/json"},
    )
    assert moved.status_code == 422
    calendar_page = marketing.get(CALENDAR + f"?date={plan.target_date}").get_data(as_text=True)
    assert "撰写中" in calendar_page and f'href="/admin/content/{article.id}"' in calendar_page


def test_periods_run_monday_to_sunday_and_a_month_shows_its_neighbours_days():
    december = period_for("month", date(2026, 12, 17))
    assert (december.start, december.end) == (date(2026, 12, 1), date(2026, 12, 31))
    assert (december.first, december.last) == (date(2026, 11, 30), date(2027, 1, 3))
    assert (december.previous, december.following) == (date(2026, 11, 1), date(2027, 1, 1))
    assert len(december.weeks()) == 5 and all(len(week) == 7 for week in december.weeks())
    week = period_for("week", date(2027, 1, 1))
    assert (week.first, week.last, week.previous) == (
        date(2026, 12, 28),
        date(2027, 1, 3),
        date(2026, 12, 21),
    )


def test_the_month_view_across_a_month_boundary(app, default_teams, marketing):
    # A month well ahead (plans are for today or later) and the last day of the one before.
    first = (local_today().replace(day=1) + timedelta(days=70)).replace(day=1)
    eve = first - timedelta(days=1)
    team = default_teams["市场"]
    make_plan(marketing, team, title="月末的计划", target_date=eve.isoformat())
    make_plan(marketing, team, title="月初的计划", target_date=first.isoformat())
    # 17:00 UTC on the eve is 01:00 on the first in Shanghai: the calendar's day.
    make_article(  # a blog post: 市场's kind
        title="月初零点后发布",
        kind="blog",
        status="published",
        published_at=datetime.combine(eve, datetime.min.time()) + timedelta(hours=17),
    )

    month = marketing.get(f"{CALENDAR}?view=month&date={first}")
    html = month.get_data(as_text=True)
    assert month.status_code == 200
    cells = day_cells(html)
    assert "月初的计划" in cells[first.isoformat()] and "月初零点后发布" in cells[first.isoformat()]
    assert "已定时" in cells[first.isoformat()]  # published later than now: scheduled
    if eve.isoformat() in cells:  # the month's first week starts on the eve's week
        assert "月末的计划" in cells[eve.isoformat()] and "outside" in cells[eve.isoformat()].split(">")[0]
    assert "月初零点后发布" not in cells.get(eve.isoformat(), "")
    # The view and the period are in the links: the previous month holds the eve.
    previous = re.search(r'href="([^"]*)" rel="prev"|rel="prev" href="([^"]*)"', html)
    link = (previous.group(1) or previous.group(2)).replace("&amp;", "&")
    assert "view=month" in link and f"date={eve.replace(day=1)}" in link
    before = day_cells(marketing.get(link).get_data(as_text=True))
    assert "月末的计划" in before[eve.isoformat()]

    week = day_cells(marketing.get(f"{CALENDAR}?view=week&date={first}").get_data(as_text=True))
    assert len(week) == 7 and "月初的计划" in week[first.isoformat()]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2026-02-30", "下周"])
def test_a_date_at_the_end_of_the_calendar_or_no_date_shows_today(app, default_teams, marketing, day):
    page = marketing.get(CALENDAR, query_string={"view": "month", "date": day})
    assert page.status_code == 200
    assert local_today().isoformat() in day_cells(page.get_data(as_text=True))
    refused = marketing.post(NEW, data=plan_form(default_teams["市场"], target_date="9999-12-31"))
    assert refused.status_code == 422 and "最多只能提前 5 年排期" in refused.get_data(as_text=True)


def test_the_editor_s_home_shows_their_plans_due_this_week_and_overdue(app, default_teams, marketing):
    from babel.dates import format_date

    team, today = default_teams["市场"], local_today()
    mine = str(marketing.user.id)
    soon = make_plan(
        marketing, team, title="三天后交的案例", owner=mine, target_date=str(today + timedelta(days=3))
    )
    late = make_plan(marketing, team, title="拖了的白皮书", owner=mine)
    make_plan(marketing, team, title="下个月的稿子", owner=mine, target_date=str(today + timedelta(days=20)))
    make_plan(marketing, team, title="同事的计划", owner=str(marketing.colleague.id))
    started = make_plan(marketing, team, title="已开写的计划", owner=mine)
    assert marketing.post(f"/admin/content/calendar/plans/{started.id}/start").status_code == 303
    # Plans are refused with a past date: one planned earlier is now past its day.
    overdue_day = today - timedelta(days=2)
    db.session.get(PlannedPiece, late.id).target_date = overdue_day
    db.session.get(PlannedPiece, started.id).target_date = today + timedelta(days=1)
    db.session.commit()

    page = marketing.get("/admin/").get_data(as_text=True)
    section = page.split('aria-labelledby="home-plans"')[1].split("</section>")[0]
    assert "我计划的内容" in page
    assert section.index("拖了的白皮书") < section.index("三天后交的案例")
    for absent in ("下个月的稿子", "同事的计划", "已开写的计划"):
        assert absent not in section, absent
    assert f"已于 {format_date(overdue_day, 'medium', locale='zh_CN')} 逾期" in section
    assert f"{format_date(soon.target_date, 'medium', locale='zh_CN')} 到期" in section
    assert f'href="/admin/content/calendar/?view=week&amp;date={soon.target_date}"' in section
    assert re.search(r'<span class="value">1</span> <span class="label">已逾期', section)
    # A colleague with no plans of their own due has no such section.
    from tests.conftest import sign_in_session

    other = app.test_client()
    sign_in_session(other, marketing.colleague)
    assert 'aria-labelledby="home-plans"' not in other.get("/admin/").get_data(as_text=True)
