"""The audit log records the lead actions done through the real views and commands:
export (list and one person), erase (one, filtered, anonymise), stage change, the release
of a held submission, import."""

import pytest
from sqlalchemy import select

from core.extensions import db
from core.timeutil import utcnow
from gated.capture import RequestMeta, capture_lead
from gated.models import HeldSubmission, Lead
from tests.factories import audit_entries, form_data

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def lead(whitepaper):
    return capture_lead(
        "whitepaper", form_data(), asset=whitepaper[1], request_meta=RequestMeta(ip="1.2.3.4"), now=utcnow()
    ).lead


def test_a_lead_export_records_who_the_filters_and_the_count(login_as, lead):
    staff = login_as("sales")
    staff.get("/admin/leads/export.csv?stage=new", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    [entry] = audit_entries("leads.export")
    assert entry.user_id == staff.user.id and entry.ip == "198.51.100.7"
    assert entry.details == {"filters": {"stage": "new"}, "count": 1}


def test_one_persons_export_is_recorded(login_as, lead):
    staff = login_as("marketer")
    staff.get(f"/admin/leads/{lead.id}/export.json")
    [entry] = audit_entries("leads.export")
    assert entry.target == f"lead:{lead.id}"


def test_a_stage_change_records_from_and_to(login_as, lead):
    staff = login_as("sales")
    staff.post(f"/admin/leads/{lead.id}/stage", data={"stage": "sql"})
    [entry] = audit_entries("leads.stage_change")
    assert entry.target == f"lead:{lead.id}" and entry.details == {"from": "new", "to": "sql"}
    staff.post(f"/admin/leads/{lead.id}/stage", data={"stage": "nonsense"})
    assert len(audit_entries("leads.stage_change")) == 1


def test_an_erase_is_recorded_without_the_persons_address(login_as, lead):
    lead_id = lead.id
    staff = login_as("marketer")
    staff.post(f"/admin/leads/{lead_id}/erase", data={"confirm": "yes"})
    [entry] = audit_entries("leads.erase")
    assert entry.target == f"lead:{lead_id}" and entry.details == {"count": 1}
    assert "example.com" not in str(entry.details).lower() + entry.target


def test_a_bulk_erase_records_the_filters_and_the_count(login_as, lead):
    login_as("admin").post("/admin/leads/erase", data={"stage": "new", "confirm": "yes"})
    [entry] = audit_entries("leads.erase")
    assert entry.details == {"filters": {"stage": "new"}, "count": 1}


def test_an_anonymisation_is_recorded(login_as, lead):
    lead_id = lead.id
    login_as("marketer").post(f"/admin/leads/{lead_id}/anonymise")
    [entry] = audit_entries("leads.erase")
    assert entry.details == {"anonymised": True}


def test_releasing_a_held_submission_is_recorded(client, login_as, whitepaper):
    client.post("/library/saas-renewal", data=form_data(started=""))
    held = db.session.scalars(select(HeldSubmission)).one()
    staff = login_as("marketer")
    staff.post(f"/admin/leads/held/{held.id}/release")
    lead = db.session.scalars(select(Lead)).one()
    [entry] = audit_entries("leads.held_release")
    assert (entry.user_id, entry.target) == (staff.user.id, f"lead:{lead.id}")


def test_the_leads_commands_are_recorded(runner, lead, tmp_path):
    runner.invoke(args=["leads", "export", "--output", str(tmp_path / "out.csv")])
    [export] = audit_entries("leads.export")
    assert export.details == {"count": 1, "format": "csv"} and export.user_agent == "command line"
    source = tmp_path / "in.csv"
    source.write_text("email,name\nnew@example.cn,新人\n", encoding="utf-8")
    runner.invoke(args=["leads", "import", str(source)])
    [imported] = audit_entries("leads.import")
    assert imported.details == {"created": 1, "updated": 0}
    runner.invoke(args=["leads", "erase", "new@example.cn"])
    [erased] = audit_entries("leads.erase")
    assert erased.details == {"count": 1}
