"""Idempotency-Key: a retried write creates nothing twice, even when the retries arrive
at the same moment (threads against a real server, on SQLite and PostgreSQL); the same
key with another body is a 422 problem."""

import json

from sqlalchemy import func, select

from api.models import IdempotencyRecord
from core.extensions import db
from gated.models import Lead, Submission
from insights.models import Event
from tests.api.conftest import bearer
from tests.conftest import post_json_at_once


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_retry_replays_the_first_answer(api):
    headers = {"Idempotency-Key": "order-1"}
    first = api.post("/api/v1/leads", json={"email": "a@example.cn", "name": "A"}, headers=headers)
    retry = api.post("/api/v1/leads", json={"name": "A", "email": "a@example.cn"}, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json == first.json and retry.headers["Idempotent-Replayed"] == "true"
    assert _count(Lead) == 1 and _count(Submission) == 1


def test_the_same_key_with_another_body_is_refused(api):
    headers = {"Idempotency-Key": "order-2"}
    api.post("/api/v1/leads", json={"email": "a@example.cn"}, headers=headers)
    other = api.post("/api/v1/leads", json={"email": "b@example.cn"}, headers=headers)
    assert other.status_code == 422 and other.content_type == "application/problem+json"
    assert "Idempotency-Key" in other.json["errors"]["headers"]
    assert _count(Lead) == 1


def test_a_refused_request_keeps_no_key_so_it_can_be_corrected(api):
    headers = {"Idempotency-Key": "order-3"}
    assert api.post("/api/v1/leads", json={"email": "nope"}, headers=headers).status_code == 422
    assert _count(IdempotencyRecord) == 0
    assert api.post("/api/v1/leads", json={"email": "a@example.cn"}, headers=headers).status_code == 201


def test_keys_are_per_api_key(app, make_token):
    client = app.test_client()
    body = {"email": "a@example.cn"}
    for token in (make_token("leads:write"), make_token("leads:write")):
        client.post("/api/v1/leads", json=body, headers={**bearer(token), "Idempotency-Key": "same"})
    assert _count(IdempotencyRecord) == 2 and _count(Lead) == 1


def test_concurrent_retries_write_once(live_server, make_token):
    headers = {**bearer(make_token("leads:write", "events:write")), "Idempotency-Key": "burst-1"}
    answers = post_json_at_once(f"{live_server}/api/v1/leads", {"email": "burst@example.cn"}, headers, 8)
    assert [status for status, _ in answers] == [201] * 8
    assert len({json.dumps(body, sort_keys=True) for _, body in answers}) == 1
    assert _count(Lead) == 1 and _count(Submission) == 1

    headers["Idempotency-Key"] = "burst-2"
    batch = {"events": [{"type": "custom", "name": "signup", "visitor_id": "v1"}]}
    answers = post_json_at_once(f"{live_server}/api/v1/events", batch, headers, 8)
    assert [status for status, _ in answers] == [202] * 8
    assert db.session.scalar(select(func.count()).where(Event.kind == "custom")) == 1


def test_the_worker_forgets_answers_after_the_setting(api, app):
    from datetime import timedelta

    from api.cleanup import forget_old_answers
    from core.timeutil import utcnow

    api.post("/api/v1/leads", json={"email": "a@example.cn"}, headers={"Idempotency-Key": "old"})
    hours = app.config["API_IDEMPOTENCY_HOURS"]
    assert forget_old_answers(utcnow() + timedelta(hours=hours - 1)) == {"forgotten": 0}
    assert forget_old_answers(utcnow() + timedelta(hours=hours + 1)) == {"forgotten": 1}
    assert _count(IdempotencyRecord) == 0
