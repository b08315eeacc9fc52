"""The assistant's admin: who may see what, tickets, accounts and tiers, and the figures
(deflection by week and tier, the to-write list) on a known set of conversations."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from accounts import services as accounts
from assistant import services, stats
from assistant.models import CustomerAccount, Ticket
from core.extensions import db
from core.localtime import day_of
from core.timeutil import utcnow
from gated.capture import RequestMeta
from tests.assistant.conftest import conversation
from tests.factories import chart_on

MONDAY = datetime(2026, 11, 16, 10, 0)  # a Monday


@pytest.fixture
def known_set(levels):
    """Week 1: 3 conversations, 2 solved (one top tier). Week 2: 2, 1 solved (tier 4)."""
    week2 = MONDAY + timedelta(days=7)
    conversation(MONDAY, "solved", tier=levels[1])
    conversation(MONDAY + timedelta(days=2), "solved")
    conversation(
        MONDAY + timedelta(days=6, hours=13), "escalated", "单点登录怎么配置?", answers=("not_yet",) * 3
    )
    conversation(week2, "solved", tier=levels[4], answers=("not_yet", "solved"))
    conversation(
        week2 + timedelta(days=1), "open", "单点登录 怎么配置!", tier=levels[4], answers=("not_yet", "")
    )
    db.session.commit()


def test_deflection_by_week_and_by_tier(known_set, app, monkeypatch):
    rates = stats.deflection(MONDAY - timedelta(days=1), MONDAY + timedelta(days=30))
    assert (rates["overall"].total, rates["overall"].solved) == (5, 3)
    # The site's weeks (Asia/Shanghai): the escalation at 23:00 UTC on Sunday the 22nd is
    # 07:00 on Monday there, in the second week.
    assert [(r.start, r.total, r.solved) for r in rates["weeks"]] == [
        (date(2026, 11, 16), 2, 2),
        (date(2026, 11, 23), 3, 1),
    ]
    assert [(r.label, r.total, r.solved) for r in rates["tiers"][:2]] == [("Strategic", 1, 1), ("Team", 2, 1)]
    assert (rates["tiers"][2].total, rates["tiers"][2].solved) == (2, 1)  # not identified
    assert rates["weeks"][1].rate == pytest.approx(1 / 3)
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "UTC")
    weeks = stats.deflection(MONDAY - timedelta(days=1), MONDAY + timedelta(days=30))["weeks"]
    assert [(r.start, r.total, r.solved) for r in weeks] == [
        (date(2026, 11, 16), 3, 2),
        (date(2026, 11, 23), 2, 1),
    ]


def test_unsolved_questions_are_grouped(known_set):
    groups = stats.unsolved(MONDAY - timedelta(days=1), MONDAY + timedelta(days=30))
    assert [(g.key, g.count) for g in groups] == [("单点登录怎么配置", 2)]


def test_articles_offered_and_solving(known_set):
    rows = {
        row["title"]: row for row in stats.articles(MONDAY - timedelta(days=1), MONDAY + timedelta(days=30))
    }
    assert (rows["文章1"]["offered"], rows["文章1"]["solved"]) == (5, 2)
    assert (rows["文章2"]["offered"], rows["文章2"]["solved"]) == (3, 1)


def test_the_figures_page_shows_the_rate_and_a_chart(login_as, levels):
    now = utcnow()
    conversation(now - timedelta(days=1), "solved", tier=levels[1])
    conversation(now - timedelta(days=1), "escalated", answers=("not_yet",) * 3)
    db.session.commit()
    html = login_as("editor").get("/admin/assistant/stats").get_data(as_text=True)
    assert '<strong id="deflection-overall">50%</strong>' in html
    # Two bar charts through the shared chart partial (uPlot), each with its table of rates.
    assert html.count('class="chart chart-bars"') == 2 and "<svg" not in html
    assert "&#34;suffix&#34;: &#34;%&#34;" in html and '<td class="num">50%</td>' in html
    # A week in words, the site's Monday (as the insights page says it), in the chart and
    # its table alike.
    monday = day_of(now - timedelta(days=1), "Asia/Shanghai")
    monday -= timedelta(days=monday.weekday())
    weeks = chart_on(html, "chart-weeks")
    assert (
        weeks["labels"] == [f"{monday.month}月{monday.day}日当周"]
        and weeks["table"][0][0] == weeks["labels"][0]
    )


@pytest.mark.parametrize(
    ("role", "path", "code"),
    [
        ("marketer", "/admin/assistant/", 403),
        ("editor", "/admin/assistant/", 403),
        ("editor", "/admin/assistant/unsolved", 200),
        ("sales", "/admin/assistant/", 200),
        ("sales", "/admin/assistant/accounts", 200),
        ("sales", "/admin/assistant/tiers", 403),
        ("admin", "/admin/assistant/tiers", 200),
    ],
)
def test_roles(login_as, levels, role, path, code):
    assert login_as(role).get(path).status_code == code


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get("/admin/assistant/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_ticket_shows_its_conversation_and_changes_status_and_owner(login_as, help_center, customers):
    conversation_ = services.start("单点登录怎么配置", account=None, locale="zh_CN", now=utcnow())
    for _ in range(3):
        services.answer(conversation_, "not_yet", now=utcnow())
    ticket = services.escalate(
        conversation_,
        {"email": "a@yuanjing.cn", "message": "<b>急</b>"},
        visitor=RequestMeta(),
        now=utcnow(),
    )
    sales = login_as("sales")
    html = sales.get(f"/admin/assistant/tickets/{ticket.id}").get_data(as_text=True)
    assert "如何配置单点登录" in html and "远景制造" in html
    assert f"<h1>工单 {ticket.id}：" in html  # the colon as Chinese writes it
    assert "&lt;b&gt;急&lt;/b&gt;" in html
    response = sales.post(
        f"/admin/assistant/tickets/{ticket.id}",
        data={"status": "answered", "owner_id": customers["owner"].id},
    )
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Ticket, ticket.id)
    assert (saved.status, saved.owner_id) == ("answered", customers["owner"].id)
    bad = sales.post(f"/admin/assistant/tickets/{ticket.id}", data={"status": "lost"})
    assert bad.status_code == 303
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "answered"
    listed = sales.get("/admin/assistant/?status=answered").get_data(as_text=True)
    assert f'/admin/assistant/tickets/{ticket.id}"' in listed
    # An editor could not open the ticket: not offered, and refused when posted anyway.
    editor = accounts.create_user("writer@lodestar.example", role="editor", password="long enough pw")
    page = sales.get(f"/admin/assistant/tickets/{ticket.id}").get_data(as_text=True)
    assert f'value="{customers["owner"].id}"' in page and f'value="{editor.id}"' not in page
    refused = sales.post(
        f"/admin/assistant/tickets/{ticket.id}?lang=zh_CN",
        data={"status": "open", "owner_id": editor.id},
        follow_redirects=True,
    )
    assert "请选择能处理工单的人：销售或管理员。" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert (db.session.get(Ticket, ticket.id).owner_id, db.session.get(Ticket, ticket.id).status) == (
        customers["owner"].id,
        "open",
    )


def test_accounts_are_saved_with_their_signed_link(login_as, levels):
    sales = login_as("sales")
    refused = sales.post(
        "/admin/assistant/accounts/new", data={"company": "X", "domains": "qq.com", "tier_id": levels[2].id}
    )
    assert refused.status_code == 422
    response = sales.post(
        "/admin/assistant/accounts/new",
        data={"company": "新客户", "domains": "new.cn", "tier_id": levels[2].id},
    )
    assert response.status_code == 303
    html = sales.get(response.headers["Location"]).get_data(as_text=True)
    assert "/help/ask?account=" in html


@pytest.mark.parametrize(
    "field, value",
    [
        ("tier_id", "99999999999"),  # past INTEGER: PostgreSQL's "integer out of range"
        ("tier_id", "-1"),
        ("tier_id", "abc"),
        ("owner_id", "99999999999"),
        ("owner_id", "2147483000"),  # fits the column, but no such user: a foreign key error
        ("owner_id", "x"),
        ("owner_id", "editor"),  # a user who may not open tickets
    ],
)
def test_a_bad_tier_or_owner_is_a_form_error(login_as, levels, field, value):
    sales = login_as("sales")
    if value == "editor":
        value = accounts.create_user("writer@lodestar.example", role="editor", password="long enough pw").id
    data = {"company": "坏数据公司", "domains": "bad.cn", "tier_id": levels[3].id, field: value}
    response = sales.post("/admin/assistant/accounts/new", data=data)
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.scalars(select(CustomerAccount)).first() is None
    # Corrected (a tier and an owner from the lists), the same form is saved.
    data |= {"tier_id": levels[3].id, "owner_id": sales.user.id}
    assert sales.post("/admin/assistant/accounts/new", data=data).status_code == 303
    account = db.session.scalars(select(CustomerAccount)).one()
    assert (account.tier_id, account.owner_id) == (levels[3].id, sales.user.id)


def test_an_admin_renames_the_tiers(login_as, levels):
    admin = login_as("admin")
    data = {f"name-{t.id}": t.name for t in levels.values()} | {
        f"route-{t.id}": t.route for t in levels.values()
    }
    data[f"name-{levels[5].id}"] = "免费版"
    assert admin.post("/admin/assistant/tiers", data=data).status_code == 303
    db.session.expire_all()
    assert db.session.get(type(levels[5]), levels[5].id).name == "免费版"
    # The default names read in Chinese; a name the team typed reads as typed.
    page = admin.get("/admin/assistant/accounts/new?lang=zh_CN").get_data(as_text=True)
    assert ">1 · 战略客户（邮件转给客户负责人）<" in page and ">5 · 免费版（" in page
    assert "Strategic" not in page and " (" not in page
    data[f"route-{levels[5].id}"] = "nowhere"
    assert admin.post("/admin/assistant/tiers", data=data).status_code == 422


def test_no_ticket_is_a_404(login_as):
    assert login_as("sales").get("/admin/assistant/tickets/999").status_code == 404
    assert db.session.scalars(select(Ticket)).first() is None


def test_an_anonymous_hand_over_shows_on_the_lead_page(login_as, help_center):
    conversation_ = services.start("zzqx qqvv", account=None, locale="zh_CN", now=utcnow())
    ticket = services.escalate(
        conversation_, {"email": "new@gmail.com", "message": "x"}, visitor=RequestMeta(), now=utcnow()
    )
    html = login_as("sales").get(f"/admin/leads/{ticket.lead_id}").get_data(as_text=True)
    assert "zzqx qqvv" in html
    assert f"/admin/assistant/tickets/{ticket.id}" in html
