"""Leads through the API: list by change with cursors, get, upsert by email or phone,
stage, erase; bad input is a problem and stores nothing."""

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select

from core.extensions import db
from core.signals import staff_action
from core.timeutil import utcnow
from gated.models import Lead, Submission

PROBLEM = "application/problem+json"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_upsert_creates_then_updates_the_same_lead(api):
    first = api.post("/api/v1/leads", json={"email": "Li.Lei@Example.cn", "name": "李雷", "stage": "mql"})
    assert first.status_code == 201 and first.json["created"] is True
    assert first.json["lead"]["email"] == "Li.Lei@example.cn"
    assert first.json["lead"]["stage"] == "mql"
    again = api.post("/api/v1/leads", json={"email": "Li.Lei@example.cn", "company": "甲公司"})
    assert again.status_code == 200 and again.json["created"] is False
    lead = db.session.scalar(select(Lead))
    assert (lead.name, lead.company, lead.stage) == ("李雷", "甲公司", "mql")
    assert _count(Lead) == 1
    assert [s.form for s in db.session.scalars(select(Submission))] == ["api", "api"]


def test_upsert_by_phone_finds_the_lead_that_has_it(api):
    api.post("/api/v1/leads", json={"email": "han@example.cn", "phone": "138 0013 8000"})
    answer = api.post("/api/v1/leads", json={"phone": "+8613800138000", "job_title": "CTO"})
    assert answer.status_code == 200
    assert answer.json["lead"]["email"] == "han@example.cn"
    assert db.session.scalar(select(Lead.job_title)) == "CTO"
    unknown = api.post("/api/v1/leads", json={"phone": "13900139000"})
    assert unknown.status_code == 422 and unknown.content_type == PROBLEM
    assert _count(Lead) == 1


def test_times_carry_their_offset_so_a_client_in_another_zone_reads_them_right(api):
    created = api.post("/api/v1/leads", json={"email": "zone@example.cn"}).json["lead"]
    lead = db.session.scalar(select(Lead))
    for name in ("created_at", "updated_at"):
        sent = datetime.fromisoformat(created[name])
        assert sent.utcoffset() == timedelta(0), created[name]
        assert sent == getattr(lead, name).replace(tzinfo=UTC)
    listed = api.get("/api/v1/leads").json["items"][0]
    assert datetime.fromisoformat(listed["updated_at"]).tzinfo is not None
    # A time the client sends with its own offset means the same instant.
    shanghai = timezone(timedelta(hours=8))
    for offset, expected in ((-1, ["zone@example.cn"]), (1, [])):
        since = (lead.updated_at.replace(tzinfo=UTC) + timedelta(seconds=offset)).astimezone(shanghai)
        query = since.isoformat().replace("+", "%2B")
        assert [
            row["email"] for row in api.get(f"/api/v1/leads?updated_since={query}").json["items"]
        ] == expected


def test_list_pages_by_change_with_a_cursor(api):
    for n in range(5):
        api.post("/api/v1/leads", json={"email": f"p{n}@example.cn"})
    page = api.get("/api/v1/leads?limit=2")
    seen = [row["email"] for row in page.json["items"]]
    while page.json["next_cursor"]:
        page = api.get(f"/api/v1/leads?limit=2&cursor={page.json['next_cursor']}")
        seen += [row["email"] for row in page.json["items"]]
    assert sorted(seen) == [f"p{n}@example.cn" for n in range(5)] and len(seen) == 5
    later = (utcnow() + timedelta(minutes=1)).isoformat()
    assert api.get(f"/api/v1/leads?updated_since={later}").json["items"] == []
    bad = api.get("/api/v1/leads?cursor=nonsense")
    assert bad.status_code == 422 and bad.content_type == PROBLEM and "cursor" in bad.json["errors"]["query"]


def test_get_stage_and_erase_send_the_staff_action(api, app):
    lead_id = api.post("/api/v1/leads", json={"email": "wei@example.cn"}).json["lead"]["id"]
    assert api.get(f"/api/v1/leads/{lead_id}").json["email"] == "wei@example.cn"
    heard = []

    def listen(sender, **payload):
        heard.append(payload)

    staff_action.connect(listen, sender=app)
    try:
        moved = api.post(f"/api/v1/leads/{lead_id}/stage", json={"stage": "customer"})
        assert moved.status_code == 200 and moved.json["stage"] == "customer"
        assert api.delete(f"/api/v1/leads/{lead_id}").status_code == 204
    finally:
        staff_action.disconnect(listen, sender=app)
    assert [h["action"] for h in heard] == ["leads.stage_change", "leads.erase"]
    assert all(h["details"]["actor"].startswith("api-key:lsk_") for h in heard)
    assert heard[0]["details"] == {**heard[0]["details"], "old": "new", "new": "customer"}
    assert api.get(f"/api/v1/leads/{lead_id}").status_code == 404
    assert api.post(f"/api/v1/leads/{lead_id}/stage", json={"stage": "sql"}).status_code == 404


def test_bad_input_is_a_problem_and_stores_nothing(api):
    cases = [
        ("malformed JSON", dict(data=b'{"email": ', content_type="application/json"), 400),
        ("wrong type", dict(json={"email": ["a@example.cn"]}), 422),
        ("unknown field", dict(json={"email": "a@example.cn", "favourite": "blue"}), 422),
        ("bad email", dict(json={"email": "not an address"}), 422),
        ("bad stage", dict(json={"email": "a@example.cn", "stage": "king"}), 422),
        ("consent as text", dict(json={"email": "a@example.cn", "marketing_consent": "yes"}), 422),
        ("not an object", dict(json=["a@example.cn"]), 422),
        ("NUL", dict(json={"email": "a@example.cn", "name": "a\x00b"}), 422),
    ]
    for name, kwargs, status in cases:
        answer = api.post("/api/v1/leads", **kwargs)
        assert answer.status_code == status, name
        assert answer.content_type == PROBLEM, name
        assert answer.json["status"] == status and answer.json["title"], name
    assert _count(Lead) == 0 and _count(Submission) == 0


def test_unknown_paths_and_methods_under_the_api_are_problems(api, client):
    missing = api.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"
    wrong = api.put("/api/v1/leads", json={})
    assert wrong.status_code == 405 and wrong.content_type == "application/problem+json"
    assert "POST" in wrong.headers["Allow"]
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.content_type.startswith("text/html")
