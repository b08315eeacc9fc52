"""The audit log records a change of the support tiers (a setting) through the real view."""

from tests.factories import audit_entries


def test_renaming_the_tiers_is_recorded(login_as, levels):
    admin = login_as("admin")
    data = {f"name-{t.id}": t.name for t in levels.values()} | {
        f"route-{t.id}": t.route for t in levels.values()
    }
    data[f"name-{levels[5].id}"] = "免费版"
    admin.post("/admin/assistant/tiers", data=data)
    [entry] = audit_entries("settings.support_tiers")
    assert entry.user_id == admin.user.id
    assert {"name": "免费版", "route": levels[5].route} in entry.details["tiers"]
    data[f"route-{levels[5].id}"] = "nowhere"
    admin.post("/admin/assistant/tiers", data=data)  # refused: nothing more recorded
    assert len(audit_entries("settings.support_tiers")) == 1
