"""Segments serve the lead list (a saved view: picking one filters the list, its count
and its CSV) and sequence enrolment (enrol a segment from the sequence's page, or the
filtered lead list; leads without consent stay out)."""

import csv
import io

import pytest

from campaigns import segments
from core.extensions import db
from nurture import sequences
from nurture.models import Enrollment
from tests.campaigns.conftest import NOW, person

pytestmark = pytest.mark.usefixtures("topics")

BOSSES = {
    "slug": "bosses",
    "name": "决策者",
    "rules": {"all": [{"field": "role", "op": "eq", "value": "decision_maker"}]},
}


@pytest.fixture
def bosses(app):
    person("boss@a.cn", role="decision_maker")
    person("quiet-boss@a.cn", role="decision_maker", consent="")
    person("user@a.cn", role="user")
    segment, _ = segments.save_segment(BOSSES, now=NOW)
    return segment


@pytest.fixture
def sequence(app):
    made, _ = sequences.save_sequence(
        {
            "slug": "follow",
            "name": "跟进",
            "status": "active",
            "steps": [{"delay": "1d", "subject": "你好", "body": "正文"}],
        },
        now=NOW,
    )
    return made


def test_a_segment_is_a_saved_view_of_the_lead_list(login_as, bosses):
    client = login_as("marketer")
    page = client.get("/admin/leads/").get_data(as_text=True)
    assert f'<option value="{bosses.id}">决策者</option>' in page
    listed = client.get(f"/admin/leads/?segment={bosses.id}").get_data(as_text=True)
    assert "boss@a.cn" in listed and "quiet-boss@a.cn" in listed and "user@a.cn" not in listed
    exported = client.get(f"/admin/leads/export.csv?segment={bosses.id}").get_data(as_text=True)
    assert "boss@a.cn" in exported and "user@a.cn" not in exported
    # A segment that no longer exists filters to nobody, never to everybody.
    assert "user@a.cn" not in client.get("/admin/leads/?segment=999999").get_data(as_text=True)


def test_enrol_a_segment_from_the_sequence_page(login_as, bosses, sequence):
    client = login_as("marketer")
    assert "决策者" in client.get(f"/admin/nurture/{sequence.id}").get_data(as_text=True)
    response = client.post(f"/admin/nurture/{sequence.id}/enroll-filtered", data={"segment": str(bosses.id)})
    assert response.status_code == 302
    enrolled = {row.lead.email for row in db.session.query(Enrollment).all()}
    assert enrolled == {"boss@a.cn"}  # the segment's consenting leads only


def test_the_old_filter_still_enrols_without_a_segment(login_as, bosses, sequence):
    login_as("marketer").post(
        f"/admin/nurture/{sequence.id}/enroll-filtered", data={"segment": "", "stage": ""}
    )
    assert {row.lead.email for row in db.session.query(Enrollment).all()} == {"boss@a.cn", "user@a.cn"}


def test_leads_export_segment_exports_exactly_its_members(app, bosses):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["leads", "export", "--segment", "bosses"])
    assert result.exit_code == 0, result.output
    emails = {row["email"] for row in csv.DictReader(io.StringIO(result.output))}
    assert emails == {"boss@a.cn", "quiet-boss@a.cn"}
    everyone = runner.invoke(args=["leads", "export", "--format", "json"]).output
    assert "user@a.cn" in everyone


def test_leads_export_of_an_unknown_segment_exits_1_and_writes_nothing(app, bosses, tmp_path):
    out = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(
        args=["leads", "export", "--segment", "nobody", "--output", str(out)]
    )
    assert result.exit_code == 1
    assert "no segment with the slug 'nobody'" in result.output
    assert not out.exists()
