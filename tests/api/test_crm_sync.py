"""The HubSpot sync against a local server that answers as HubSpot's API does: keyed
on the contact's id across an email change, nothing sent twice, 429/500/timeouts retried
by the worker, stage changes pulled back through gated's stage machinery."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from api.crm import sync
from api.crm.models import CrmLink, CrmSyncEntry
from core.extensions import db
from core.hooks import hooks
from core.timeutil import utcnow
from gated.models import Lead
from insights.models import Event
from tests.api.fake_hubspot import FakeHubSpot


@pytest.fixture
def hubspot(app, monkeypatch):
    fake = FakeHubSpot().start()
    for name, value in {
        "CRM_ADAPTER": "hubspot",
        "CRM_HUBSPOT_URL": fake.url,
        "CRM_HUBSPOT_TOKEN": fake.token,
        "CRM_TIMEOUT_SECONDS": 0.5,
        "CRM_MAX_ATTEMPTS": 3,
    }.items():
        monkeypatch.setitem(app.config, name, value)
    yield fake
    fake.stop()


def _outcomes() -> list[str]:
    return [entry.outcome for entry in db.session.scalars(select(CrmSyncEntry).order_by(CrmSyncEntry.id))]


def test_a_lead_is_pushed_once_and_an_email_change_updates_the_same_contact(api, hubspot):
    lead_id = api.post(
        "/api/v1/leads", json={"email": "zhang@example.cn", "name": "张伟", "stage": "mql"}
    ).json["lead"]["id"]
    now = utcnow() + timedelta(minutes=1)  # after every change the requests below make
    assert sync.push_due(now) == {"created": 1}
    (record_id,) = hubspot.contacts
    assert hubspot.contacts[record_id]["properties"]["lifecyclestage"] == "marketingqualifiedlead"
    assert db.session.scalar(select(CrmLink.record_id)) == record_id

    sent = len(hubspot.requests)
    assert sync.push_due(now) == {}  # nothing due: a re-run sends nothing
    api.post("/api/v1/leads", json={"email": "zhang@example.cn"})  # the same values again
    assert sync.push_due(now) == {"unchanged": 1}
    assert len(hubspot.requests) == sent

    lead = db.session.get(Lead, lead_id)
    lead.email = "zhang.wei@newjob.example"
    sync.queue_push(lead_id, now=now)
    db.session.commit()
    assert sync.push_due(now) == {"updated": 1}
    assert list(hubspot.contacts) == [record_id]
    assert hubspot.contacts[record_id]["properties"]["email"] == "zhang.wei@newjob.example"
    assert hubspot.requests[-1][:2] == ("PATCH", f"/crm/v3/objects/contacts/{record_id}")


def test_an_existing_contact_is_adopted_not_duplicated(api, hubspot):
    hubspot.contacts["77"] = {"properties": {"email": "li@example.cn"}, "updatedAt": hubspot.tick()}
    api.post("/api/v1/leads", json={"email": "li@example.cn"})
    assert sync.push_due(utcnow()) == {"updated": 1}
    assert list(hubspot.contacts) == ["77"] and db.session.scalar(select(CrmLink.record_id)) == "77"


def test_429_500_and_timeouts_are_retried_by_the_worker(app, api, hubspot):
    assert ("crm sync", sync.sync_job) in hooks(app).background_jobs
    api.post("/api/v1/leads", json={"email": "wang@example.cn"})
    hubspot.failures = [(429, {"Retry-After": "10"}), (500, {}), (-1.5, {})]
    now = utcnow() + timedelta(minutes=1)
    assert sync.push_due(now) == {"retry": 1}
    link = db.session.scalar(select(CrmLink))
    assert link.push_due_at == now + timedelta(seconds=10) and "429" in link.last_error
    assert sync.push_due(now + timedelta(seconds=5)) == {}  # not yet due
    assert sync.push_due(now + timedelta(seconds=10)) == {"retry": 1}
    later = now + timedelta(hours=2)
    assert sync.push_due(later) == {"failed": 1}  # third attempt timed out: CRM_MAX_ATTEMPTS
    assert hubspot.contacts == {}
    assert _outcomes() == ["retry", "retry", "failed"]
    api.post("/api/v1/leads", json={"email": "wang@example.cn", "company": "乙公司"})
    assert sync.push_due(later) == {"created": 1}
    assert len(hubspot.contacts) == 1


def test_stage_changes_in_hubspot_come_back_through_the_stage_machinery(api, hubspot):
    lead_id = api.post("/api/v1/leads", json={"email": "chen@example.cn", "stage": "sql"}).json["lead"]["id"]
    now = utcnow() + timedelta(minutes=1)
    sync.push_due(now)
    (record_id,) = hubspot.contacts
    hubspot.contacts["999"] = {"properties": {"lifecyclestage": "customer"}, "updatedAt": hubspot.tick()}
    hubspot.set_in_crm(record_id, lifecyclestage="customer")
    counts = sync.pull(now)
    assert counts == {"unknown_record": 1, "stage": 1}
    assert db.session.get(Lead, lead_id).stage == "customer"
    change = db.session.scalar(select(Event).where(Event.kind == "stage_change", Event.lead_id == lead_id))
    assert change.value == "sql>customer"
    pushes = len(hubspot.requests)
    assert sync.pull(now) == {}  # a re-run changes nothing
    assert sync.push_due(now) == {}  # and the stage is not pushed back
    assert len(hubspot.requests) == pushes + 1  # only the search
    hubspot.set_in_crm(record_id, hs_lead_status="UNQUALIFIED")
    assert sync.pull(now) == {"stage": 1} and db.session.get(Lead, lead_id).stage == "lost"
