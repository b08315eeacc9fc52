"""The audit log: what the accounts package records (sign-in, failed sign-in, password and
user changes), the admin page with its filters and export, who read it, and retention."""

import csv
import io
import re
from datetime import datetime, timedelta

import pytest

from accounts.models import AuditEntry
from core.extensions import db
from core.hooks import hooks
from core.signals import send_staff_action
from core.timeutil import utcnow
from tests.factories import SCORING_RULE_FORM, TEST_PASSWORD, UserFactory, audit_entries

pytestmark = pytest.mark.usefixtures("app")
BROWSER = "Mozilla/5.0 (audit test)"


def test_sign_in_is_recorded_with_who_and_from_where(client):
    user = UserFactory(email="ed@example.com")
    client.post(
        "/login",
        data={"email": "ed@example.com", "password": TEST_PASSWORD},
        headers={"User-Agent": BROWSER},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    [entry] = audit_entries("accounts.sign_in")
    assert (entry.user_id, entry.user_email) == (user.id, "ed@example.com")
    assert (entry.ip, entry.user_agent) == ("203.0.113.9", BROWSER)
    assert abs(entry.at - utcnow()) < timedelta(minutes=1)


def test_failed_sign_in_keeps_the_address_tried_and_never_the_password(client):
    UserFactory(email="ed@example.com")
    client.post("/login", data={"email": "Ed@Example.com", "password": "wrong password"})
    [entry] = audit_entries("accounts.sign_in_failed")
    assert entry.user_id is None
    assert entry.details == {"email": "ed@example.com"}
    assert "wrong password" not in str(entry.details)
    assert audit_entries("accounts.sign_in") == []


def test_password_change_is_recorded(login_as):
    client = login_as("editor")
    client.post(
        "/admin/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": "a much longer secret",
            "confirm": "a much longer secret",
        },
    )
    [entry] = audit_entries("accounts.password_change")
    assert entry.user_id == client.user.id
    assert "secret" not in str(entry.details)


def test_user_changes_at_the_command_line_are_recorded(runner):
    runner.invoke(
        args=["users", "create", "ops@example.com", "--role", "sales", "--password", "long enough pw"]
    )
    runner.invoke(args=["users", "set-role", "ops@example.com", "marketer"])
    runner.invoke(args=["users", "deactivate", "ops@example.com"])
    [created] = audit_entries("accounts.user_create")
    assert created.details == {"email": "ops@example.com", "role": "sales"}
    assert (created.ip, created.user_agent) == ("", "command line")
    changes = [entry.details for entry in audit_entries("accounts.user_change")]
    assert changes == [
        {"email": "ops@example.com", "role": "marketer"},
        {"email": "ops@example.com", "active": False},
    ]


def _entry(action, *, user=None, target="", days_ago=0, details=None, at=None):
    entry = AuditEntry(
        at=at or utcnow() - timedelta(days=days_ago),
        user_id=user.id if user else None,
        user_email=user.email if user else "",
        action=action,
        target=target,
        ip="198.51.100.1",
        user_agent="test",
        details={"count": 3} if details is None else details,
    )
    db.session.add(entry)
    db.session.commit()
    return entry


def test_the_audit_page_is_for_admins_only(login_as):
    for role in ("editor", "marketer", "sales"):
        assert login_as(role).get("/admin/audit/").status_code == 403
    assert login_as("admin").get("/admin/audit/").status_code == 200


def test_the_audit_page_filters_by_who_action_target_and_dates(login_as):
    admin = login_as("admin")
    other = UserFactory(email="mk@example.com", role="marketer")
    _entry("leads.export", user=other, target="lead:7")
    _entry("leads.erase", user=other, target="lead:8")
    _entry("leads.export", user=admin.user, target="segment:2", days_ago=40)

    def shown(**args):
        page = admin.get("/admin/audit/", query_string=args, headers={"Accept-Language": "en"})
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        return {target for target in ("lead:7", "lead:8", "segment:2") if f"<td>{target}</td>" in html}

    assert shown() == {"lead:7", "lead:8", "segment:2"}
    assert shown(user="mk@example.com") == {"lead:7", "lead:8"}
    assert shown(action="leads.export") == {"lead:7", "segment:2"}
    assert shown(target="segment") == {"segment:2"}
    since = (utcnow() - timedelta(days=10)).date().isoformat()
    assert shown(since=since) == {"lead:7", "lead:8"}
    assert shown(until=since) == {"segment:2"}


def test_reading_and_exporting_the_audit_log_are_recorded(login_as):
    admin = login_as("admin")
    _entry("leads.export", target="lead:7")
    _entry("leads.erase", target="=cmd|' /C calc'!A0")
    admin.get("/admin/audit/?action=leads.export")
    [read] = audit_entries("audit.read")
    assert read.user_id == admin.user.id
    assert read.details["filters"] == {"action": "leads.export"}
    response = admin.get("/admin/audit/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    targets = {row[4] for row in rows[1:]}
    assert "lead:7" in targets
    assert "'=cmd|' /C calc'!A0" in targets  # through core.spreadsheet: never a formula
    [exported] = audit_entries("audit.export")
    assert exported.user_id == admin.user.id


def test_retention_prunes_old_entries_in_the_worker(app, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_RETENTION_DAYS", 30)
    _entry("leads.export", target="old", days_ago=31)
    _entry("leads.export", target="new", days_ago=29)
    [job] = [job for name, job in hooks(app).background_jobs if name == "audit retention"]
    assert job(utcnow(), None) == {"audit_pruned": 1}
    assert [entry.target for entry in audit_entries("leads.export")] == ["new"]
    monkeypatch.setitem(app.config, "AUDIT_RETENTION_DAYS", 0)
    _entry("leads.export", target="ancient", days_ago=5000)
    assert job(utcnow(), None) == {}


def test_an_entry_from_a_request_outside_a_sign_in_has_no_user(app):
    with app.test_request_context("/", headers={"User-Agent": BROWSER}):
        send_staff_action("accounts.sign_in_failed", user=None, details={"email": "x@example.com"})
    [entry] = audit_entries("accounts.sign_in_failed")
    assert (entry.user_id, entry.user_agent) == (None, BROWSER)


# Saves with no action of their own (an article, a segment, a sequence…) ------------------

BOSSES = "all:\n  - {field: role, op: eq, value: decision_maker}\n"


def test_a_staff_save_without_an_action_of_its_own_is_still_recorded(login_as):
    marketer = login_as("marketer")
    saved = marketer.post(
        "/admin/campaigns/segments/new", data={"name": "决策者", "slug": "bosses", "rules": BOSSES}
    )
    assert saved.status_code == 302
    [entry] = audit_entries("staff.change")
    assert (entry.user_id, entry.target) == (marketer.user.id, "/admin/campaigns/segments/new")
    # The admin reads it in words, with a link to where it happened.
    page = login_as("admin").get("/admin/audit/?lang=zh_CN").get_data(as_text=True)
    assert "保存了更改" in page and '<a href="/admin/campaigns/segments/new">' in page


def test_refused_saves_previews_and_actions_named_already_add_no_change_entry(login_as):
    marketer = login_as("marketer")
    refused = marketer.post(
        "/admin/campaigns/segments/new", data={"name": "坏", "slug": "bad", "rules": "all:\n  - {event: x}\n"}
    )
    assert refused.status_code == 422
    preview = login_as("editor").post("/admin/content/preview", data={"body": "## 标题"})
    assert preview.status_code == 200
    # The scoring rules page names its own action: one entry, not two.
    marketer.post("/admin/scoring/rules", data=SCORING_RULE_FORM)
    assert len(audit_entries("settings.scoring_rule")) == 1
    assert audit_entries("staff.change") == []


def test_details_read_in_words_without_empty_values(login_as):
    admin = login_as("admin")
    _entry("leads.export", target="lead:7", details={"filters": {}, "count": 3, "page": 1})
    _entry("insights.export", target="report", details={"filters": {"since": "2026-11-01"}})
    page = admin.get("/admin/audit/?lang=zh_CN").get_data(as_text=True)
    assert "数量：3" in page and "页码：1" in page and "筛选条件：从：2026年11月1日" in page
    assert "filters:" not in page and "{}" not in page and "count:" not in page


# In the reader's words: codes, yes/no, times --------------------------------------------

MOMENT = datetime(2026, 12, 6, 11, 5)  # naive UTC, as stored: 19:05 in Shanghai


def _read_in_words():
    """One entry of each kind of value a detail can hold."""
    _entry("accounts.user_change", details={"email": "ops@example.com", "role": "sales", "active": False})
    _entry("leads.stage_change", target="lead:7", details={"from": "new", "to": "mql"})
    _entry("leads.export", details={"filters": {"stage": "mql"}, "count": 2, "format": "csv"})
    _entry("api.key_create", details={"name": "CRM", "expires_at": MOMENT.isoformat()})
    _entry("content.plan_move", target="plan:3", details={"was": "2026-12-01", "now": "2026-12-08"})
    _entry("nurture.suppress", details={"manual": True})
    _entry("sales.handoff_decision", details={"outcome": "rejected", "reason": "no_budget"})
    _entry("settings.support_tiers", details={"tiers": [{"name": "金牌", "route": "owner"}]})
    _entry("audit.read", details={"filters": {"action": "leads.erase"}, "page": 1}, at=MOMENT)


def _shown(client, lang):
    """The page, its entries' times and their details' text."""
    page = client.get(f"/admin/audit/?lang={lang}").get_data(as_text=True)
    times = re.findall(r"<tr>\s*<td>(.*?)</td>", page)
    return page, times, " ".join(re.findall(r'<span class="audit-detail">(.*?)</span>', page))


def test_the_audit_page_shows_codes_yes_no_and_times_in_chinese(login_as):
    admin = login_as("admin")
    _read_in_words()
    page, times, details = _shown(admin, "zh_CN")
    for words in (
        "角色：销售",
        "启用：否",
        "之前：2026年12月1日",
        "之后：2026年12月8日",
        "从：新线索",
        "到：市场认可线索（MQL）",
        "筛选条件：阶段：市场认可线索（MQL）",
        "格式：CSV",
        "到期：2026年12月6日 19:05",
        "手动添加：是",
        "结果：已退回",
        "原因：没有预算",
        "支持等级：金牌：邮件转给客户负责人",
        "筛选条件：行为：删除个人数据",
    ):
        assert words in details, words
    for code in (
        "sales",
        "False",
        "True",
        "mql",
        "rejected",
        "no_budget",
        "owner",
        "leads.erase",
        "T11:05",
        "csv",
    ):
        assert code not in details, code
    shown = re.sub(r"<[^>]+>", " ", page)  # what the reader sees (a filter's value is the code)
    assert "为内容计划改期" in shown and "content.plan_move" not in shown
    assert "2026年12月6日 19:05" in times
    assert "UTC" not in shown


def test_the_audit_page_reads_the_same_details_in_english(login_as):
    admin = login_as("admin")
    _read_in_words()
    _page, times, details = _shown(admin, "en")
    assert "Role: Sales" in details and "Active: No" in details and "Added by hand: Yes" in details
    assert "Dec 6, 2026, 7:05\u202fPM" in details and "Dec 6, 2026, 7:05\u202fPM" in times


def test_the_export_is_in_the_readers_words_with_times_in_the_site_zone(login_as):
    admin = login_as("admin")
    _entry("leads.stage_change", target="lead:7", details={"from": "new", "to": "mql"}, at=MOMENT)

    def export(lang):
        body = admin.get(f"/admin/audit/export.csv?action=leads.stage_change&lang={lang}").get_data(
            as_text=True
        )
        return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))

    header, row = export("zh_CN")
    assert header[0] == "时间（中国时间，ISO 8601 格式，含与 UTC 的时差）"
    assert header[1:4] == ["操作人", "行为", "行为代码"]
    assert row[0] == "2026-12-06T19:05:00+08:00"
    assert row[1:5] == ["（未登录）", "修改线索阶段", "leads.stage_change", "lead:7"]
    assert row[7] == "从：新线索\n到：市场认可线索（MQL）"
    assert '"to": "mql"' in row[8]  # the details as recorded, for programs
    header, row = export("en")
    assert header[:4] == ["Time (China Time, ISO 8601 with UTC offset)", "Who", "Action", "Action code"]
    assert row[2] == "Changed a lead's stage" and row[7] == "From: New\nTo: Marketing qualified (MQL)"
