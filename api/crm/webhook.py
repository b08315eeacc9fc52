"""POST /api/v1/crm/stage-changes: any CRM reports a stage change, signed with
HMAC-SHA256 over "<timestamp>.<body>" with CRM_WEBHOOK_SECRET.

Headers: `X-Lodestar-Timestamp` (Unix seconds, within CRM_WEBHOOK_TOLERANCE_SECONDS of
our clock) and `X-Lodestar-Signature: sha256=<hex>`. A signature is taken once: the same
request again is a replay (409) and changes nothing. The record is found by its id in the
CRM (the one a push stored), or, the first time, by the lead's email.
"""

import hashlib
import hmac
import time

from flask import current_app, request
from marshmallow import Schema, fields, validate
from sqlalchemy.exc import IntegrityError

from api.blueprints import api_blueprint
from api.crm import sync
from api.crm.adapter import CRM_STAGES
from api.crm.models import CrmWebhookReceipt
from api.problems import Problem
from api.schemas import LeadSchema, ProblemSchema
from core.extensions import db
from core.security import reads_json
from core.timeutil import utcnow

bp = api_blueprint("api_crm", "/crm", "CRM: stage changes reported by any CRM, signed with a shared secret.")


class StageChangeSchema(Schema):
    crm = fields.String(required=True, validate=validate.Length(min=1, max=40))
    record_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    stage = fields.String(required=True, validate=validate.OneOf(tuple(CRM_STAGES)))
    email = fields.String(validate=validate.Length(max=254))


def _verify() -> str:
    secret = current_app.config["CRM_WEBHOOK_SECRET"]
    if not secret:
        raise Problem(404, "The CRM webhook is off (no CRM_WEBHOOK_SECRET).")
    stamp = request.headers.get("X-Lodestar-Timestamp", "")
    given = request.headers.get("X-Lodestar-Signature", "").removeprefix("sha256=")
    if (
        not stamp.isdigit()
        or abs(time.time() - int(stamp)) > current_app.config["CRM_WEBHOOK_TOLERANCE_SECONDS"]
    ):
        raise Problem(401, "Missing or stale X-Lodestar-Timestamp.")
    expected = hmac.new(
        secret.encode(), stamp.encode() + b"." + request.get_data(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise Problem(401, "The signature does not match.")
    return expected


@bp.route("/stage-changes", methods=["POST"])
@bp.doc(security=[{"crmSignature": []}])
@bp.arguments(StageChangeSchema)
@bp.response(200, LeadSchema)
@bp.alt_response(
    401, schema=ProblemSchema, description="Bad or stale signature.", content_type="application/problem+json"
)
@bp.alt_response(
    404, schema=ProblemSchema, description="No lead has this record.", content_type="application/problem+json"
)
@bp.alt_response(409, schema=ProblemSchema, description="A replay.", content_type="application/problem+json")
@reads_json
def stage_changed(data):
    """Move the lead of a CRM record to the stage the CRM reports (won: customer)."""
    signature = _verify()
    now = utcnow()
    db.session.add(CrmWebhookReceipt(signature=signature, received_at=now))
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Problem(409, "This signed request was taken already.") from exc
    lead = sync.apply_stage(
        data["record_id"], data["stage"], crm=data["crm"], run=None, now=now, email=data.get("email", "")
    )
    if lead is None:
        # The receipt and the log entry stay: the CRM is told, and staff can see it.
        db.session.commit()
        raise Problem(404, "No lead is tied to this record.")
    db.session.commit()
    return lead
