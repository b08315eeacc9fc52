"""/api/v1/leads: list (changed since, keyset cursor), get, upsert by email or phone,
change stage, erase. Writes use gated's own rules (gated.listing.store_person,
gated.stages.set_stage, gated.privacy)."""

from datetime import datetime

from sqlalchemy import literal, select, tuple_

from api.audit import audit
from api.auth import requires
from api.blueprints import api_blueprint, keyset_page, parse_cursor
from api.idempotency import writes
from api.problems import Problem
from api.schemas import (
    LeadListSchema,
    LeadQuerySchema,
    LeadSchema,
    LeadUpsertResultSchema,
    LeadUpsertSchema,
    StageSchema,
)
from core.extensions import db
from core.timeutil import to_naive_utc, utcnow
from gated import privacy
from gated.listing import store_person
from gated.models import PERSON_FIELDS, Lead
from gated.stages import set_stage
from gated.validation import InvalidSubmission, clean_fields, normalise_phone

bp = api_blueprint("api_leads", "/leads", "Leads: the people who left their details.")


def _lead(lead_id: int) -> Lead:
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        raise Problem(404, "No lead has this id.")
    return lead


def _by_phone(phone: str) -> Lead:
    try:
        number = normalise_phone(phone)
    except ValueError as exc:
        raise Problem(422, "Invalid phone.", errors={"json": {"phone": [str(exc.args[0])]}}) from exc
    found = db.session.scalars(select(Lead).where(Lead.phone == number).limit(2)).all()
    if len(found) != 1:
        reason = (
            "No lead has this phone; send an email to create one."
            if not found
            else "Several leads share this phone; send the email."
        )
        raise Problem(422, reason, errors={"json": {"email": [reason]}})
    return found[0]


@bp.route("", methods=["GET"])
@requires(bp, "leads:read")
@bp.arguments(LeadQuerySchema, location="query")
@bp.response(200, LeadListSchema)
def list_leads(args):
    """Leads in the order they last changed, oldest change first; page with `cursor`."""
    query = select(Lead).order_by(Lead.updated_at, Lead.id)
    if "updated_since" in args:
        query = query.where(Lead.updated_at >= to_naive_utc(args["updated_since"]))
    if "cursor" in args:
        at, lead_id = parse_cursor(args["cursor"], datetime, int)
        query = query.where(
            tuple_(Lead.updated_at, Lead.id) > tuple_(literal(at, Lead.updated_at.type), literal(lead_id))
        )
    return keyset_page(query, args["limit"], lambda lead: (lead.updated_at, lead.id))


@bp.route("/<int:lead_id>", methods=["GET"])
@requires(bp, "leads:read")
@bp.response(200, LeadSchema)
@bp.alt_response(404, description="No lead has this id.")
def get_lead(lead_id: int):
    """One lead."""
    return _lead(lead_id)


@bp.route("", methods=["POST"])
@writes(bp)
@requires(bp, "leads:write")
@bp.arguments(LeadUpsertSchema)
@bp.response(200, LeadUpsertResultSchema, description="The lead existed and was updated.")
@bp.alt_response(201, schema=LeadUpsertResultSchema, description="A new lead.", success=True)
def upsert_lead(data):
    """Create or update a lead by email (or, without an email, by a phone that one lead
    has). Sent values overwrite the stored ones; a new lead starts in `stage` if given."""
    person = {name: data[name] for name in PERSON_FIELDS if name in data}
    found = None
    if "email" not in person and person.get("phone"):
        found = _by_phone(person["phone"])
        person["email"] = found.email
    try:
        clean = clean_fields(person)
    except InvalidSubmission as exc:
        raise Problem(
            422, "Some fields are invalid.", errors={"json": {k: [v] for k, v in exc.errors.items()}}
        ) from exc
    stage = data.get("stage", "")
    lead, created = store_person(
        clean,
        stage=stage,
        source=data.get("source") or "api",
        consent=data.get("marketing_consent", False),
        fields={k: str(v)[:500] for k, v in data.items()},
        form="api",
        now=utcnow(),
        lead=found,
    )
    if stage and not created:
        audit("leads.stage_change", f"lead:{lead.id}", {"new": stage})
    return {"created": created, "lead": lead}, 201 if created else 200


@bp.route("/<int:lead_id>/stage", methods=["POST"])
@writes(bp)
@requires(bp, "leads:write")
@bp.arguments(StageSchema)
@bp.response(200, LeadSchema)
@bp.alt_response(404, description="No lead has this id.")
def change_stage(data, lead_id: int):
    """Move a lead to another stage (a customer counts in attribution and the digest)."""
    lead = _lead(lead_id)
    old = lead.stage
    if set_stage(lead, data["stage"], now=utcnow()):
        audit("leads.stage_change", f"lead:{lead.id}", {"old": old, "new": data["stage"]})
    return lead


@bp.route("/<int:lead_id>", methods=["DELETE"])
@requires(bp, "leads:write")
@bp.response(204)
@bp.alt_response(404, description="No lead has this id.")
def erase_lead(lead_id: int):
    """Erase a person everywhere (a suppression hash stays, so they are never mailed)."""
    _lead(lead_id)
    privacy.erase_leads([lead_id])
    audit("leads.erase", f"lead:{lead_id}", {})
    return None
