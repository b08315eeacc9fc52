"""The audit log records a report's export through the real view."""

import pytest

from tests.factories import audit_entries

pytestmark = pytest.mark.usefixtures("app")


def test_a_report_export_is_recorded_with_its_period(login_as):
    staff = login_as("marketer")
    assert staff.get("/admin/insights/channels.csv?since=2026-11-02&until=2026-11-15").status_code == 200
    [entry] = audit_entries("insights.export")
    assert entry.user_id == staff.user.id and entry.target == "report:channels"
    assert entry.details == {"since": "2026-11-02", "until": "2026-11-15"}
