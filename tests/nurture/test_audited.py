"""The audit log records suppressions added and removed by staff, through the real views."""

import pytest

from nurture.models import Suppression
from tests.factories import audit_entries

pytestmark = pytest.mark.usefixtures("app")


def test_a_suppression_added_and_removed_is_recorded(login_as):
    marketer = login_as("marketer")
    marketer.post("/admin/nurture/suppressions", data={"email": "no@example.com"})
    [added] = audit_entries("nurture.suppress")
    assert added.user_id == marketer.user.id and "no@example.com" not in str(added.details)
    suppression_id = Suppression.query.one().id
    admin = login_as("admin")
    admin.post(f"/admin/nurture/suppressions/{suppression_id}/remove")
    [removed] = audit_entries("nurture.unsuppress")
    assert (removed.user_id, removed.target) == (admin.user.id, f"suppression:{suppression_id}")
