"""The hand-off desk: the promise clock in working hours, the queue, decisions with preset
reasons, the escalation of a missed promise (exactly once) and the weekly review."""

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.extensions import db
from core.timeutil import utcnow
from gated.models import Submission
from insights.events import record
from insights.scoring.desk import escalate
from insights.scoring.models import Handoff
from insights.scoring.promise import WEEKDAYS, WorkingTime
from nurture.models import Message
from tests.conftest import assert_staff_mail, statements
from tests.factories import UserFactory, handed_off
from tests.insights.conftest import article_to_visit

SHANGHAI = {
    "TIMEZONE": "Asia/Shanghai",
    "SCORING_WORK_DAYS": "mon,tue,wed,thu,fri",
    "SCORING_WORK_HOURS": "09:00-18:00",
    "SCORING_RESPONSE_HOURS": 4,
}
# Friday 4 December 2026, 16:00 in Shanghai (UTC+8).
FRIDAY_4PM = datetime(2026, 12, 4, 8, 0)
MONDAY_11AM = datetime(2026, 12, 7, 3, 0)


def test_the_promise_clock_skips_the_weekend_in_shanghai():
    clock = WorkingTime.from_config(SHANGHAI)
    # Two hours on Friday, the weekend skipped, two on Monday morning.
    assert clock.add(FRIDAY_4PM, 4) == MONDAY_11AM
    saturday_noon = datetime(2026, 12, 5, 4, 0)
    assert clock.between(saturday_noon, MONDAY_11AM) == timedelta(hours=2)
    assert clock.between(FRIDAY_4PM, MONDAY_11AM) == timedelta(hours=4)
    # Missed: Monday 13:00 is two working hours past it.
    assert clock.between(datetime(2026, 12, 7, 5, 0), MONDAY_11AM) == -timedelta(hours=2)
    # A hand-off on Saturday waits for Monday's opening; one in the evening for the morning.
    assert clock.add(saturday_noon, 4) == datetime(2026, 12, 7, 5, 0)
    assert clock.add(datetime(2026, 12, 3, 12, 0), 4) == datetime(2026, 12, 4, 5, 0)
    # Working days and hours are settings: a six-day week answers on Saturday.
    six_days = WorkingTime.from_config({**SHANGHAI, "SCORING_WORK_DAYS": "mon,tue,wed,thu,fri,sat"})
    assert six_days.add(FRIDAY_4PM, 4) == datetime(2026, 12, 5, 3, 0)


def test_a_working_week_that_cannot_be_read_stops_the_start():
    import pytest

    from app import create_app
    from core.config import SettingsError

    with pytest.raises(SettingsError, match="SCORING_WORK_HOURS"):
        create_app({"TESTING": True, "SCORING_WORK_HOURS": "18:00-09:00"})


def test_the_desk_shows_what_sales_need_oldest_promise_first(app, login_as):
    sales = login_as("sales")
    newer, _ = handed_off(sales.user, at=datetime(2026, 12, 3, 2, 0), email="new@acme.cn", name="后来者")
    older, _ = handed_off(sales.user, at=datetime(2026, 12, 1, 2, 0), email="old@acme.cn", company="远景制造")
    for minute in range(7):
        record("page_view", lead_id=older.id, at=datetime(2026, 11, 30, 1, minute), path=f"/help/p{minute}")
    article_to_visit("p6", title="如何设置续费提醒")
    record("form_view", lead_id=older.id, at=datetime(2026, 11, 30, 1, 30), path="/demo-request")
    record("mail_sent", lead_id=older.id, at=datetime(2026, 11, 30, 2, 0))
    db.session.add(Submission(lead_id=older.id, form="demo", fields={"message": "我们想下周看演示"}))
    db.session.commit()

    page = sales.get("/admin/scoring/handoffs").get_data(as_text=True)
    assert page.index("old@acme.cn") < page.index("new@acme.cn")
    assert "远景制造" in page and "我们想下周看演示" in page
    # The last five of the prospect's own events: p6 … p2, not p1, no "mail sent"; an
    # article's page by its title, another page by its path.
    assert "如何设置续费提醒" in page and "/help/p6" not in page
    assert "预约演示" in page and "/demo-request" not in page  # the site's own page in words
    assert "/help/p3" in page and "/help/p2" not in page
    assert "已超出承诺" in page  # both promises ended long ago
    for words in ("接受", "退回", "不合适", "没有预算", "联系人不对", "已是客户", "重复线索", "键盘快捷键"):
        assert words in page
    # Every text field is typed, so the form styling (input[type=text]) sizes it like the note.
    inputs = re.findall(r"<input\b[^>]*>", page)
    assert inputs and all(re.search(r'\btype="\w', field) for field in inputs), inputs
    assert len(re.findall(r'<input type="text" id="reason-\d+" name="reason"', page)) == 2


def test_the_desk_and_the_home_write_a_number_as_people_do(app, login_as):
    sales = login_as("sales")
    handed_off(sales.user, at=FRIDAY_4PM, email="", name="", phone="+8613800138000")
    page = sales.get("/admin/scoring/handoffs").get_data(as_text=True)
    assert ">+86 138 0013 8000</a></h2>" in page and "· +86 138 0013 8000 ·" in page
    assert "+8613800138000" not in page
    home = sales.get("/admin/").get_data(as_text=True)
    section = home[home.index('id="home-handoffs"') :]
    assert "+86 138 0013 8000" in section and "+8613800138000" not in home


def test_the_desk_gives_its_script_the_working_hours_and_says_when_the_clock_is_paused(
    app, login_as, monkeypatch
):
    sales = login_as("sales")
    now = utcnow()
    handed_off(sales.user, at=now - timedelta(minutes=1))
    # One working day a week, three days after the site's today: the clock stands still now.
    today = now.replace(tzinfo=UTC).astimezone(ZoneInfo(app.config["TIMEZONE"])).date()
    workday = today + timedelta(days=3)
    monkeypatch.setitem(app.config, "SCORING_WORK_DAYS", WEEKDAYS[workday.weekday()])
    monkeypatch.setitem(app.config, "SCORING_WORK_HOURS", "09:00-18:00")
    page = sales.get("/admin/scoring/handoffs").get_data(as_text=True)
    assert "还剩 4 小时 0 分（非工作时间，暂停计时）" in page
    assert 'data-promise-left="14400.0"' in page  # no working time has passed
    opens = datetime.combine(workday, time(9), tzinfo=ZoneInfo(app.config["TIMEZONE"])).astimezone(UTC)
    windows = page.split('data-windows="')[1].split('"')[0]
    assert windows == f"{opens:%Y-%m-%dT%H:%M:%SZ}/{opens + timedelta(hours=9):%Y-%m-%dT%H:%M:%SZ}"
    assert 'data-paused-words="还剩 {h} 小时 {m} 分（非工作时间，暂停计时）"' in page
    assert 'data-missed-words="已超出承诺 {h} 小时 {m} 分"' in page

    # Every hour of every day: the clock runs, and the minute already passed counts.
    monkeypatch.setitem(app.config, "SCORING_WORK_DAYS", ",".join(WEEKDAYS))
    monkeypatch.setitem(app.config, "SCORING_WORK_HOURS", "00:00-24:00")
    page = sales.get("/admin/scoring/handoffs").get_data(as_text=True)
    assert "还剩 3 小时 58 分" in page and "暂停计时）</span>" not in page


def test_sales_return_a_lead_with_a_preset_reason_and_a_note(app, login_as):
    sales = login_as("sales")
    lead, handoff = handed_off(sales.user, at=FRIDAY_4PM)

    refused = sales.post(
        f"/admin/scoring/handoffs/{handoff.id}", data={"outcome": "rejected", "note": "再看看"}
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "请选择退回原因。" in page and "再看看" in page
    other = sales.post(
        f"/admin/scoring/handoffs/{handoff.id}", data={"outcome": "rejected", "reason_code": "other"}
    )
    assert other.status_code == 422 and "请写明退回原因。" in other.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Handoff, handoff.id).outcome == "pending"

    done = sales.post(
        f"/admin/scoring/handoffs/{handoff.id}",
        data={"outcome": "rejected", "reason_code": "no_budget", "note": "明年再谈"},
    )
    assert done.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Handoff, handoff.id)
    assert (saved.outcome, saved.reason_code, saved.reason, saved.note) == (
        "rejected",
        "no_budget",
        "没有预算",
        "明年再谈",
    )
    assert lead.stage == "engaged"

    # The marketer's home: returned to me, with the reason and the note.
    home = login_as("marketer").get("/admin/").get_data(as_text=True)
    section = home[home.index('id="home-returned"') :]
    assert "李雷" in section and "没有预算" in section and "明年再谈" in section


def test_a_missed_promise_is_escalated_once(app, login_as, runner, smtp_sink, monkeypatch):
    monkeypatch.setitem(app.config, "SCORING_ESCALATION_EMAIL", "head-of-sales@lodestar.example")
    owner = UserFactory(role="sales")
    lead, handoff = handed_off(owner, at=FRIDAY_4PM)

    assert escalate(now=MONDAY_11AM - timedelta(minutes=1)) == {}
    assert escalate(now=MONDAY_11AM) == {"escalated": 1}
    assert escalate(now=MONDAY_11AM + timedelta(hours=3)) == {}
    result = runner.invoke(args=["insights", "escalate", "--now", "2026-12-08T03:00:00"])
    assert "missed promises escalated: 0" in result.output

    mails = db.session.scalars(
        select(Message).where(Message.to_address == "head-of-sales@lodestar.example")
    ).all()
    assert len(mails) == 1 and mails[0].context["leads"][0]["name"] == "李雷"
    assert db.session.get(Handoff, handoff.id).escalated_at == MONDAY_11AM
    assert runner.invoke(args=["nurture", "tick"]).exit_code == 0
    (mail,) = smtp_sink.wait_for(1)
    assert mail["To"] == "head-of-sales@lodestar.example" and "超出答复承诺的 MQL：1 条" in mail["Subject"]
    assert_staff_mail(mail, "销售团队的负责人")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "李雷" in text and "2026年12月7日 11:00" in text and f"/admin/leads/{lead.id}" in text
    assert "- 李雷（Acme） · 负责人：" in text  # Chinese brackets around the company
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert re.search(r">李雷</a>（Acme） · 负责人：", html)

    home = login_as("marketer").get("/admin/").get_data(as_text=True)
    section = home[home.index('id="home-returned"') :]
    assert "李雷" in section and "超出承诺" in section


def test_the_weekly_review_counts_a_site_week_and_exports_safe_csv(app, login_as):
    sales = login_as("sales")
    # Monday 7 December 2026 starts at 16:00 UTC on Sunday in Shanghai.
    before, _ = handed_off(sales.user, at=datetime(2026, 12, 6, 15, 59), email="sun@acme.cn", name="周日")
    won, first = handed_off(sales.user, at=datetime(2026, 12, 6, 16, 0), email="a@acme.cn", name="甲")
    lost, second = handed_off(
        sales.user, at=datetime(2026, 12, 8, 2, 0), email="b@acme.cn", name="乙", company="=cmd"
    )
    _waiting, _third = handed_off(sales.user, at=datetime(2026, 12, 13, 15, 59), email="c@acme.cn", name="丙")
    won.first_channel, won.stage = "paid_search", "customer"
    first.outcome, first.decided_at = "accepted", datetime(2026, 12, 7, 1, 30)
    second.outcome, second.reason, second.decided_at = "rejected", "没有预算", datetime(2026, 12, 8, 5, 0)
    db.session.commit()

    page = sales.get("/admin/scoring/review?week=2026-12-09").get_data(as_text=True)
    assert "周日" not in page and all(name in page for name in ("甲", "乙", "丙"))
    assert (
        'data-figure="handed">3<' in page
        and 'data-figure="won">1<' in page
        and 'data-figure="lost">1<' in page
    )
    assert "9 小时 30 分" in page  # 甲: handed off 00:00, accepted 09:30 Shanghai time
    # 乙 was returned, as the desk and the lead page say, not lost; the count says both.
    row = re.search(r"<tr data-review-row>(?:(?!</tr>).)*乙(?:(?!</tr>).)*</tr>", page, re.S).group(0)
    assert "已退回" in row and "已流失" not in row
    assert "已退回或流失" in page
    assert "付费搜索" in page or "paid_search" not in page

    exported = sales.get("/admin/scoring/review?week=2026-12-07&format=csv")
    assert exported.mimetype == "text/csv"
    text = exported.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [row["name"] for row in rows] == ["甲", "乙", "丙"]
    assert rows[0]["result"] == "won" and rows[0]["hours_to_decision"] == "9.5"
    assert rows[0]["handed_off_at"] == "2026-12-07T00:00:00+08:00"
    assert rows[1]["company"] == "'=cmd"
    assert sales.get("/admin/scoring/review?week=not-a-date").status_code == 404


def test_the_desk_reads_a_fixed_number_of_statements_however_long_the_queue(app):
    from insights.scoring import desk
    from insights.scoring.review import review, week_of

    sales = UserFactory(role="sales")

    def add(number):
        for _ in range(number):
            lead, _handoff = handed_off(sales, at=FRIDAY_4PM, email=f"l{add.made}@acme.cn")
            record("page_view", lead_id=lead.id, at=FRIDAY_4PM, path="/pricing")
            add.made += 1
        db.session.commit()

    add.made = 0

    def both():
        desk.pending(sales, now=MONDAY_11AM)
        review(week_of("2026-12-04"))

    add(2)
    few = statements(both)
    add(6)
    assert statements(both) == few
