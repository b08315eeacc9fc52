"""Events from other properties: stored through insights (a known email becomes the
lead's event), a batch whole or not at all, never more than the limit."""

from sqlalchemy import func, select

from core.extensions import db
from gated.models import Lead
from insights.models import Event


def _events(kind: str):
    return db.session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)).all()


def test_a_batch_is_stored_through_insights(api):
    lead_id = api.post("/api/v1/leads", json={"email": "lin@example.cn"}).json["lead"]["id"]
    answer = api.post(
        "/api/v1/events",
        json={
            "events": [
                {"type": "page_view", "url": "https://product.example/pricing", "email": "lin@EXAMPLE.CN"},
                {
                    "type": "custom",
                    "name": "trial_started",
                    "visitor_id": "v-1",
                    "properties": {"plan": "pro"},
                },
                {"type": "custom", "name": "future", "occurred_at": "2099-01-01T00:00:00Z"},
            ]
        },
    )
    assert answer.status_code == 202 and answer.json == {"stored": 3, "matched_leads": 1}
    (view,) = _events("page_view")
    assert (view.lead_id, view.path) == (lead_id, "https://product.example/pricing")
    trial, future = _events("custom")
    assert (trial.value, trial.data, trial.visitor_id) == ("trial_started", {"plan": "pro"}, "v-1")
    assert future.occurred_at.year < 2099  # never in the future
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 1


def test_an_invalid_or_oversized_batch_stores_nothing(api, app):
    invalid = api.post(
        "/api/v1/events",
        json={"events": [{"type": "page_view", "url": "https://a.example/"}, {"type": "custom"}]},
    )
    assert invalid.status_code == 422 and "1" in invalid.json["errors"]["json"]["events"]
    app.config["API_EVENT_BATCH_LIMIT"] = 2
    try:
        over = api.post("/api/v1/events", json={"events": [{"type": "custom", "name": "x"}] * 3})
    finally:
        app.config["API_EVENT_BATCH_LIMIT"] = 500
    assert over.status_code == 413 and over.content_type == "application/problem+json"
    wrong = api.post("/api/v1/events", json={"events": [{"type": "purchase", "name": "x"}]})
    assert wrong.status_code == 422
    empty = api.post("/api/v1/events", json={"events": []})
    assert empty.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0
