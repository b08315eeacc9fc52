"""The audit log records a segment's export (admin and command line) and a campaign's
send, through the real view and commands."""

import pytest

from campaigns import services
from campaigns.models import Campaign, Segment
from core.extensions import db
from tests.campaigns.conftest import NOW, campaign_file, person
from tests.factories import audit_entries

pytestmark = pytest.mark.usefixtures("app", "topics", "unpaced")
EVERYONE = "all:\n  - {field: email, op: contains, value: '@'}\n"


def test_a_segment_export_is_recorded_with_its_count(login_as, runner):
    person("boss@a.cn")
    person("user@a.cn")
    staff = login_as("marketer")
    staff.post("/admin/campaigns/segments/new", data={"name": "全部", "slug": "everyone", "rules": EVERYONE})
    segment = db.session.query(Segment).one()
    staff.get(f"/admin/campaigns/segments/{segment.id}/export.csv")
    [entry] = audit_entries("segments.export")
    assert (entry.user_id, entry.target, entry.details) == (
        staff.user.id,
        f"segment:{segment.id}",
        {"count": 2},
    )
    runner.invoke(args=["segments", "export", "everyone"])
    assert [entry.target for entry in audit_entries("segments.export")][-1] == "segment:everyone"


def test_a_campaign_send_is_recorded_with_its_recipients(runner):
    for n in range(3):
        person(f"m{n}@mfg.cn", company="华东制造")
    services.import_campaign(campaign_file(), now=NOW)
    assert runner.invoke(args=["campaigns", "send", "december"]).exit_code == 0
    campaign = db.session.query(Campaign).one()
    [entry] = audit_entries("campaigns.send")
    assert entry.target == f"campaign:{campaign.id}" and entry.details == {"recipients": 3}
    runner.invoke(args=["campaigns", "send", "december"])  # refused: nothing more recorded
    assert len(audit_entries("campaigns.send")) == 1


def test_a_campaign_export_at_the_command_line_is_recorded(runner):
    person("m0@mfg.cn", company="华东制造")
    services.import_campaign(campaign_file(), now=NOW)
    assert runner.invoke(args=["campaigns", "export", "december"]).exit_code == 0
    [entry] = audit_entries("campaigns.export")
    assert entry.target == "campaign:december" and entry.user_agent == "command line"
