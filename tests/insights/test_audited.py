"""The audit log records a report's export through the real view."""

import pytest

from core.extensions import db
from tests.factories import audit_entries

pytestmark = pytest.mark.usefixtures("app")


def test_a_report_export_is_recorded_with_its_period(login_as):
    staff = login_as("marketer")
    assert staff.get("/admin/insights/channels.csv?since=2026-11-02&until=2026-11-15").status_code == 200
    [entry] = audit_entries("insights.export")
    assert entry.user_id == staff.user.id and entry.target == "report:channels"
    assert entry.details == {"since": "2026-11-02", "until": "2026-11-15"}


def test_scoring_rule_changes_are_recorded(login_as):
    from insights.scoring.models import ScoreRule

    staff = login_as("marketer")
    rule = {"name": "价格页", "kind": "action", "event_kind": "page_view", "field": "path"}
    rule |= {"pattern": "/pricing", "points": "15", "daily_cap": "", "active": "y"}
    staff.post("/admin/scoring/rules", data=rule)
    rule_id = db.session.query(ScoreRule).one().id
    staff.post(f"/admin/scoring/rules/{rule_id}/delete")
    entries = audit_entries("settings.scoring_rule")
    assert [entry.details for entry in entries] == [{"saved": "价格页"}, {"deleted": "价格页"}]
    assert {entry.target for entry in entries} == {f"rule:{rule_id}"}
