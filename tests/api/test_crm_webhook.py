"""The inbound CRM webhook: HMAC-signed, taken once, by the CRM's record id (or, the
first time, the lead's email); won makes a customer through gated's stage machinery."""

import hashlib
import hmac
import json
import time

import pytest
from sqlalchemy import func, select

from api.crm.models import CrmLink, CrmSyncEntry
from core.extensions import db
from gated.models import Lead
from insights.models import Event

SECRET = "s3cret-shared-with-the-crm"
URL = "/api/v1/crm/stage-changes"


@pytest.fixture
def webhook(app, monkeypatch):
    monkeypatch.setitem(app.config, "CRM_WEBHOOK_SECRET", SECRET)
    client = app.test_client()

    def send(body: dict, *, secret=SECRET, stamp=None):
        data = json.dumps(body).encode()
        stamp = str(stamp or int(time.time()))
        signature = hmac.new(secret.encode(), stamp.encode() + b"." + data, hashlib.sha256).hexdigest()
        headers = {"X-Lodestar-Timestamp": stamp, "X-Lodestar-Signature": f"sha256={signature}"}
        return client.post(URL, data=data, content_type="application/json", headers=headers)

    return send


def test_won_makes_the_lead_a_customer_and_later_calls_use_the_record_id(api, webhook):
    lead_id = api.post("/api/v1/leads", json={"email": "sun@example.cn", "stage": "sql"}).json["lead"]["id"]
    first = webhook(
        {"crm": "salesforce", "record_id": "0031x", "stage": "opportunity", "email": "sun@example.cn"}
    )
    assert first.status_code == 200 and first.json["stage"] == "sql"
    assert db.session.scalar(select(CrmLink.record_id).where(CrmLink.lead_id == lead_id)) == "0031x"
    lead = db.session.get(Lead, lead_id)
    lead.email = "sun@another.example"
    db.session.commit()
    won = webhook({"crm": "salesforce", "record_id": "0031x", "stage": "won"})
    assert won.status_code == 200 and won.json["stage"] == "customer"
    change = db.session.scalar(select(Event).where(Event.kind == "stage_change", Event.lead_id == lead_id))
    assert change.value == "sql>customer"


def test_bad_signature_stale_time_and_replay_change_nothing(api, webhook):
    lead_id = api.post("/api/v1/leads", json={"email": "he@example.cn"}).json["lead"]["id"]
    body = {"crm": "x", "record_id": "1", "stage": "won", "email": "he@example.cn"}
    assert webhook(body, secret="guess").status_code == 401
    stale = webhook(body, stamp=int(time.time()) - 3600)
    assert stale.status_code == 401 and stale.content_type == "application/problem+json"
    assert db.session.get(Lead, lead_id).stage != "customer"
    stamp = int(time.time())
    assert webhook(body, stamp=stamp).status_code == 200
    db.session.get(Lead, lead_id).stage = "sql"
    db.session.commit()
    replay = webhook(body, stamp=stamp)
    assert replay.status_code == 409
    assert db.session.get(Lead, lead_id).stage == "sql"


def test_an_unknown_record_is_a_404_and_logged(webhook):
    answer = webhook({"crm": "x", "record_id": "nobody", "stage": "won"})
    assert answer.status_code == 404 and answer.content_type == "application/problem+json"
    entry = db.session.scalar(select(CrmSyncEntry))
    assert (entry.outcome, entry.record_id, entry.direction) == ("unknown_record", "nobody", "in")


def test_bad_input_and_a_webhook_without_a_secret(app, webhook, monkeypatch):
    assert webhook({"crm": "x", "record_id": "1", "stage": "champion"}).status_code == 422
    assert webhook({"crm": "x", "record_id": "1", "stage": "won", "extra": 1}).status_code == 422
    monkeypatch.setitem(app.config, "CRM_WEBHOOK_SECRET", "")
    assert webhook({"crm": "x", "record_id": "1", "stage": "won"}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(CrmLink)) == 0


def test_staff_see_the_sync_log_on_the_crm_page_and_the_lead_page(api, webhook, login_as):
    lead_id = api.post("/api/v1/leads", json={"email": "log@example.cn"}).json["lead"]["id"]
    webhook({"crm": "pipedrive", "record_id": "p-42", "stage": "won", "email": "log@example.cn"})
    webhook({"crm": "pipedrive", "record_id": "p-nobody", "stage": "lost"})
    sales = login_as("sales")
    page = sales.get("/admin/api/crm").get_data(as_text=True)
    assert "p-42" in page and "p-nobody" in page
    lead_page = sales.get(f"/admin/leads/{lead_id}").get_data(as_text=True)
    assert "p-42" in lead_page and "p-nobody" not in lead_page
    assert login_as("editor").get("/admin/api/crm").status_code == 403
