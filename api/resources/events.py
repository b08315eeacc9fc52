"""/api/v1/events: page views and custom events from other properties (a product site,
an app), in batches of at most API_EVENT_BATCH_LIMIT, stored through insights' own
`record` (so scoring and segments see them) in one transaction: a batch is stored whole
or not at all."""

from flask import current_app

from api.auth import requires
from api.blueprints import api_blueprint
from api.idempotency import writes
from api.problems import Problem
from api.schemas import EventBatchResultSchema, EventBatchSchema
from core.extensions import db
from core.timeutil import to_naive_utc, utcnow
from gated.models import Lead
from gated.validation import normalise_email
from insights.events import record

bp = api_blueprint("api_events", "/events", "Events: page views and custom events from other sites.")
PROPERTIES_LIMIT = 4000


def _check(events: list[dict]) -> None:
    limit = current_app.config["API_EVENT_BATCH_LIMIT"]
    if len(events) > limit:
        raise Problem(
            413, f"At most {limit} events in one batch.", errors={"json": {"events": [f"At most {limit}."]}}
        )
    errors = {}
    for index, event in enumerate(events):
        if event["type"] == "custom" and not event.get("name"):
            errors[str(index)] = {"name": ["A custom event needs a name."]}
        elif event["type"] == "page_view" and not event.get("url"):
            errors[str(index)] = {"url": ["A page view needs a url."]}
        elif len(str(event.get("properties") or {})) > PROPERTIES_LIMIT:
            errors[str(index)] = {"properties": [f"At most {PROPERTIES_LIMIT} characters as JSON."]}
    if errors:
        raise Problem(422, "Some events are invalid; none was stored.", errors={"json": {"events": errors}})


def _email(event: dict) -> str:
    try:
        return normalise_email(event.get("email") or "")
    except ValueError:
        return ""


def _lead_ids(events: list[dict]) -> dict[str, int]:
    emails = {_email(event) for event in events} - {""}
    if not emails:
        return {}
    return dict(db.session.execute(db.select(Lead.email, Lead.id).where(Lead.email.in_(emails))).all())


@bp.route("", methods=["POST"])
@writes(bp)
@requires(bp, "events:write")
@bp.arguments(EventBatchSchema)
@bp.response(202, EventBatchResultSchema)
@bp.alt_response(413, description="More events than API_EVENT_BATCH_LIMIT.")
def ingest(data):
    """Store a batch of events. An event names its person by `email` (a known lead) or
    `visitor_id`; an unknown email stores the event without a lead."""
    events = data["events"]
    _check(events)
    leads = _lead_ids(events)
    now = utcnow()
    matched = 0
    for event in events:
        lead_id = leads.get(_email(event))
        matched += lead_id is not None
        at = min(to_naive_utc(event["occurred_at"]), now) if "occurred_at" in event else now
        if event["type"] == "page_view":
            record("page_view", lead_id=lead_id, visitor_id=event.get("visitor_id"), path=event["url"], at=at)
        else:
            record(
                "custom",
                lead_id=lead_id,
                visitor_id=event.get("visitor_id"),
                value=event["name"],
                path=event.get("url", ""),
                data=event.get("properties") or None,
                at=at,
            )
    return {"stored": len(events), "matched_leads": matched}
