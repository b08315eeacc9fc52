"""Contract tests walked from the OpenAPI document the server generates: every documented
operation answers each status it documents, with problem+json for every error, and every
operation needs a key of its documented scope (scopes × endpoints)."""

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from flask import current_app

from api.idempotency import request_digest
from api.models import SCOPES, IdempotencyRecord
from campaigns.models import Campaign, Segment, Topic
from content.models import Article
from core.extensions import db
from core.timeutil import utcnow
from gated.models import Download, Lead
from nurture.sequences import import_sequence
from tests.api.conftest import bearer

SEQUENCE = """
slug: api-welcome
name: Welcome
trigger: manual
steps:
  - delay: 0h
    subject: Hello
    body: Hi
"""


@pytest.fixture
def world(app):
    """One of each thing the API reads, and a lead with consent to enrol."""
    now = utcnow()
    lead = Lead(email="known@example.cn", marketing_consent=True, consent_version="1", consent_at=now)
    topic = Topic(slug="newsletter", name="News")
    db.session.add_all([lead, topic])
    db.session.flush()
    db.session.add_all(
        [
            Article(
                kind="blog",
                slug="hello",
                title="Hello",
                status="published",
                published_at=now - timedelta(days=1),
                body_md="Hi",
                body_html="<p>Hi</p>",
            ),
            Segment(
                slug="everyone",
                name="Everyone",
                rules={"all": [{"field": "stage", "op": "eq", "value": "new"}]},
            ),
            Campaign(slug="launch", name="Launch", topic_id=topic.id, audience=[], variants=[]),
            Download(lead_id=lead.id, created_at=now),
        ]
    )
    db.session.commit()
    import_sequence(SEQUENCE, now=now)
    return {"lead_id": lead.id}


def _success(method: str, path: str, world: dict) -> tuple[str, dict]:
    """A request that succeeds, for each documented operation."""
    url = path.replace("{lead_id}", str(world["lead_id"]))
    url = url.replace("/articles/{slug}", "/articles/hello").replace("/segments/{slug}", "/segments/everyone")
    url = url.replace("/campaigns/{slug}", "/campaigns/launch").replace(
        "/sequences/{slug}", "/sequences/api-welcome"
    )
    bodies = {
        "POST /api/v1/leads": {"email": "new@example.cn"},
        "POST /api/v1/leads/{lead_id}/stage": {"stage": "engaged"},
        "POST /api/v1/events": {"events": [{"type": "page_view", "url": "https://partner.example/x"}]},
        "POST /api/v1/sequences/{slug}/enrolments": {"lead_id": world["lead_id"]},
    }
    query = {"GET /api/v1/search": "?q=hello"}
    kwargs = {"json": bodies[f"{method} {path}"]} if method == "POST" else {}
    return url + query.get(f"{method} {path}", ""), kwargs


@dataclass
class Probe:
    """Requests to one operation, remembering the statuses they reached."""

    client: object
    method: str
    name: str
    token: str
    url: str
    kwargs: dict
    seen: set = field(default_factory=set)

    def call(self, url=None, headers=None, **extra):
        answer = self.client.open(
            url or self.url,
            method=self.method,
            headers={**bearer(self.token), **(headers or {})},
            **{**self.kwargs, **extra},
        )
        if answer.status_code >= 400:
            assert answer.content_type == "application/problem+json", (self.name, answer.status_code)
        self.seen.add(str(answer.status_code))
        return answer


def _operations(client):
    spec = client.get("/api/v1/openapi.json").json
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            # The CRM webhook is signed, not keyed: tests/api/test_crm_webhook.py.
            if method in ("get", "post", "put", "patch", "delete") and "bearerAuth" in str(
                operation["security"]
            ):
                yield method.upper(), path, operation


def _scope(operation) -> str:
    return operation["security"][0]["bearerAuth"][0]


def test_every_documented_status_is_reachable(app, make_app, make_token, world):
    client = app.test_client()
    # The erase last: the other operations need the lead.
    operations = sorted(_operations(client), key=lambda op: op[0] == "DELETE")
    assert len(operations) >= 14
    for method, path, operation in operations:
        name = f"{method} {path}"
        documented = set(operation["responses"]) - {"default"}
        token = make_token(_scope(operation))
        url, kwargs = _success(method, path, world)
        probe = Probe(client, method, name, token, url, kwargs)
        call = probe.call
        first = call()
        assert first.status_code < 300, (name, first.json)
        if name == "POST /api/v1/leads":
            call()  # the same email again: 200, updated
        call(headers={"Authorization": ""})
        others = [scope for scope in SCOPES if scope != _scope(operation)]
        call(headers=bearer(make_token(*others)))
        if "{" in path:
            call(url=re.sub(r"/(hello|everyone|launch|api-welcome|\d+)(?=/|$|\?)", "/999999", url, count=1))
        if "parameters" in str(operation) and method == "GET" and "limit" in str(operation):
            call(url=url + ("&" if "?" in url else "?") + "limit=0")
        if method == "POST":
            call(json={**kwargs["json"], "unexpected": 1})
            if name == "POST /api/v1/events":
                call(json={"events": [{"type": "custom", "name": "x"}] * 501})
            key = f"running-{name}"
            with current_app.test_request_context(url, method="POST", json=kwargs["json"]):
                digest = request_digest()
            _mark_running(token, key, digest)
            call(headers={"Idempotency-Key": key})
        if name == "GET /api/v1/search":
            call(url="/api/v1/search")
        missing = documented - probe.seen - {"429"}  # reached below, on an app with limits on
        assert not missing, (name, missing)

    limited = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="1/minute").test_client()
    for method, path, operation in operations:
        token = make_token(_scope(operation))
        url, kwargs = _success(method, path, world)
        statuses = [
            limited.open(url, method=method, headers=bearer(token), **kwargs).status_code for _ in range(2)
        ]
        assert statuses[-1] == 429, (method, path, statuses)
        assert "429" in operation["responses"]


def _mark_running(token: str, key: str, digest: str) -> None:
    """An idempotency key whose first request is still running (claimed, no answer)."""
    from api.models import ApiKey

    api_key = db.session.scalar(db.select(ApiKey).where(ApiKey.prefix == token[:12]))
    db.session.add(IdempotencyRecord(api_key_id=api_key.id, key=key, request_hash=digest))
    db.session.commit()


def test_each_operation_refuses_every_key_without_its_scope(app, make_token, world):
    """Scopes × endpoints: only the documented scope opens an operation."""
    client = app.test_client()
    for method, path, operation in sorted(_operations(client), key=lambda op: op[0] == "DELETE"):
        url, kwargs = _success(method, path, world)
        for scope in SCOPES:
            answer = client.open(url, method=method, headers=bearer(make_token(scope)), **kwargs)
            if scope == _scope(operation):
                assert answer.status_code < 300, (method, path, scope, answer.json)
            else:
                assert answer.status_code == 403, (method, path, scope)
