"""The staff home at /admin/: each role sees the sections that concern it (each package's
own, through core.hooks.add_home_panel), with counts that link to the filtered lists,
four-week trends with a table for screen readers, and the time left on a hand-off."""

import re
from datetime import timedelta

from content.models import Article
from core.extensions import db
from core.timeutil import utcnow
from core.trends import weekly_counts
from gated.models import Lead
from insights.scoring.models import Handoff
from tests.factories import UserFactory, make_article


def home(client) -> str:
    answer = client.get("/admin/")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def sections(page: str) -> set[str]:
    return set(re.findall(r'<section class="home-panel" aria-labelledby="home-([\w-]+)"', page))


def figure(page: str, label: str) -> tuple[str, str]:
    """(the count, the link) of the figure called `label`."""
    found = re.search(
        r'<a href="([^"]+)"><span class="value">(\d+)</span> <span class="label">' + label, page
    )
    assert found, label
    return found.group(2), found.group(1).replace("&amp;", "&")


def test_each_role_sees_its_own_sections(app, login_as):
    assert sections(home(login_as("editor"))) == {"content", "review", "search-gaps", "unsolved"}
    assert sections(home(login_as("marketer"))) == {"mail", "leads", "returned", "pipeline"}
    assert sections(home(login_as("sales"))) == {"handoffs"}
    everything = sections(home(login_as("admin")))
    assert {"content", "mail", "leads", "pipeline", "handoffs", "health"} <= everything


def test_the_editor_sees_what_waits_for_review_and_their_drafts(app, login_as):
    editor = login_as("editor")
    now = utcnow()
    make_article(title="待审文章", slug="waiting", status="in_review", now=now)
    mine = make_article(title="我的草稿", slug="mine", status="draft", now=now)
    db.session.get(Article, mine.id).owner_id = editor.user.id
    db.session.commit()
    page = home(editor)
    assert figure(page, "待审核") == ("1", "/admin/content/?status=in_review")
    assert figure(page, "我的草稿") == ("1", f"/admin/content/?status=draft&owner={editor.user.id}")
    assert f'href="/admin/content/{mine.id}">我的草稿</a>' in page


def test_the_marketer_sees_leads_by_week_with_a_trend_and_its_table(app, login_as):
    now = utcnow()
    for days, email in ((1, "a@acme.cn"), (2, "b@acme.cn"), (9, "c@acme.cn"), (40, "old@acme.cn")):
        db.session.add(Lead(email=email, created_at=now - timedelta(days=days)))
    db.session.commit()
    page = home(login_as("marketer"))
    count, link = figure(page, "本周新线索")
    assert count == "2" and link.startswith("/admin/leads/?since=")
    assert "比上周 +1" in page
    assert '<svg class="sparkline"' in page
    # The sparkline's numbers, for screen readers and without pictures: oldest first.
    table = re.search(r"本周新线索，最近 4 周</caption>(.*?)</table>", page, re.S).group(1)
    assert re.findall(r"<td>(\d+)</td>", table) == ["0", "0", "1", "2"]


def test_sales_see_their_waiting_mqls_with_the_time_left(app, login_as, monkeypatch):
    # A promise of 24 hours on a week that never closes: the clock on the wall.
    monkeypatch.setitem(app.config, "SCORING_RESPONSE_HOURS", 24)
    monkeypatch.setitem(app.config, "SCORING_WORK_DAYS", "mon,tue,wed,thu,fri,sat,sun")
    monkeypatch.setitem(app.config, "SCORING_WORK_HOURS", "00:00-24:00")
    sales = login_as("sales")
    now = utcnow()
    soon = Lead(email="soon@acme.cn", name="赵敏")
    late = Lead(email="late@acme.cn", name="钱多")
    theirs = Lead(email="theirs@acme.cn", name="别人的")
    db.session.add_all([soon, late, theirs])
    db.session.flush()
    other = UserFactory(role="sales")
    mine = Handoff(
        lead_id=soon.id, owner_id=sales.user.id, created_at=now - timedelta(hours=21, minutes=29, seconds=30)
    )
    missed = Handoff(lead_id=late.id, owner_id=sales.user.id, created_at=now - timedelta(hours=30))
    db.session.add_all([mine, missed, Handoff(lead_id=theirs.id, owner_id=other.id, created_at=now)])
    db.session.commit()
    page = home(sales)
    assert figure(page, "等我处理的 MQL") == ("2", "/admin/scoring/handoffs")
    assert (
        f'href="/admin/scoring/handoffs#handoff-{mine.id}">赵敏</a> <span class="badge">还剩 2 小时 30 分</span>'
        in page
    )
    assert (
        f'href="/admin/scoring/handoffs#handoff-{missed.id}">钱多</a> <span class="badge warn">已超出承诺 6 小时 0 分</span>'
        in page
    )
    assert "别人的" not in page


def test_the_admin_sees_the_teams_waiting_mqls_called_the_teams(app, login_as):
    """An admin's hand-off panel counts every salesperson's queue: it says so, not "mine"."""
    admin = login_as("admin")
    now = utcnow()
    owner = UserFactory(role="sales")
    for email in ("a@acme.cn", "b@acme.cn"):
        someone = Lead(email=email)
        db.session.add(someone)
        db.session.flush()
        db.session.add(Handoff(lead_id=someone.id, owner_id=owner.id, created_at=now))
    db.session.commit()
    page = home(admin)
    assert figure(page, "团队待处理的 MQL") == ("2", "/admin/scoring/handoffs")
    assert "等我处理的 MQL" not in page
    # A salesperson with nothing of their own: their count, not the team's.
    mine = home(login_as("sales"))
    assert figure(mine, "等我处理的 MQL") == ("0", "/admin/scoring/handoffs")
    section = mine[mine.index('id="home-handoffs"') :].split("</section>")[0]
    assert "团队" not in section


def test_the_admin_sees_the_system_health(app, login_as):
    page = home(login_as("admin"))
    health = page[page.index('id="home-health"') :]
    assert "数据库" in health and "正常" in health


def test_weekly_counts_are_rolling_weeks_oldest_first(app):
    now = utcnow()
    for days in (0.5, 6.9, 7.1, 20, 27.9, 28.1):
        db.session.add(Lead(email=f"{days}@acme.cn", created_at=now - timedelta(days=days)))
    db.session.commit()
    assert weekly_counts(Lead.created_at, now=now) == [1, 1, 1, 2]
    assert weekly_counts(Lead.created_at, Lead.email.like("0.5%"), now=now) == [0, 0, 0, 1]
