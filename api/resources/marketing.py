"""/api/v1/segments, /campaigns, /sequences and /downloads: read what marketing has
built (segment members through campaigns' own audience query), enrol a lead into a
sequence through nurture's enrolment rules, and read the downloads of gated files."""

from datetime import datetime

from sqlalchemy import literal, select, tuple_

from api.audit import audit
from api.auth import requires
from api.blueprints import api_blueprint, cursor_for, keyset_page, parse_cursor
from api.idempotency import writes
from api.problems import Problem
from api.schemas import (
    CampaignSchema,
    DownloadSchema,
    EnrolmentSchema,
    EnrolSchema,
    LeadQuerySchema,
    MembersQuerySchema,
    SegmentMembersSchema,
    SegmentSchema,
    SequenceSchema,
)
from campaigns.audience import members
from campaigns.models import Campaign, Segment
from core.extensions import db
from core.timeutil import to_naive_utc, utcnow
from gated.models import Asset, Download, Lead
from nurture.enrolling import Refused, enroll_lead
from nurture.models import Sequence

segments_bp = api_blueprint("api_segments", "/segments", "Segments: saved audiences and their members now.")
campaigns_bp = api_blueprint("api_campaigns", "/campaigns", "Campaigns: one-off mailings (read only).")
sequences_bp = api_blueprint("api_sequences", "/sequences", "Nurture sequences: read, and enrol a lead.")
downloads_bp = api_blueprint("api_downloads", "/downloads", "Downloads of gated files.")


def _by_slug(model, slug: str, what: str):
    found = db.session.scalar(select(model).where(model.slug == slug[:120]))
    if found is None:
        raise Problem(404, f"No {what} has this slug.")
    return found


@segments_bp.route("", methods=["GET"])
@requires(segments_bp, "campaigns:read")
@segments_bp.response(200, SegmentSchema(many=True))
def list_segments():
    """Every segment."""
    return db.session.scalars(select(Segment).order_by(Segment.slug)).all()


@segments_bp.route("/<slug>/members", methods=["GET"])
@requires(segments_bp, "leads:read")
@segments_bp.arguments(MembersQuerySchema, location="query")
@segments_bp.response(200, SegmentMembersSchema)
@segments_bp.alt_response(404, description="No segment has this slug.")
def segment_members(args, slug: str):
    """The leads in a segment now, by id; page with `cursor`."""
    segment = _by_slug(Segment, slug, "segment")
    query = members(segment.rules, now=utcnow())
    if "cursor" in args:
        (after,) = parse_cursor(args["cursor"], int)
        query = query.where(Lead.id > after)
    return {"segment": segment, **keyset_page(query, args["limit"], lambda lead: (lead.id,))}


@campaigns_bp.route("", methods=["GET"])
@requires(campaigns_bp, "campaigns:read")
@campaigns_bp.response(200, CampaignSchema(many=True))
def list_campaigns():
    """Every campaign, newest first."""
    return db.session.scalars(select(Campaign).order_by(Campaign.id.desc())).all()


@campaigns_bp.route("/<slug>", methods=["GET"])
@requires(campaigns_bp, "campaigns:read")
@campaigns_bp.response(200, CampaignSchema)
@campaigns_bp.alt_response(404, description="No campaign has this slug.")
def get_campaign(slug: str):
    """One campaign."""
    return _by_slug(Campaign, slug, "campaign")


@sequences_bp.route("", methods=["GET"])
@requires(sequences_bp, "campaigns:read")
@sequences_bp.response(200, SequenceSchema(many=True))
def list_sequences():
    """Every nurture sequence."""
    return db.session.scalars(select(Sequence).order_by(Sequence.slug)).all()


@sequences_bp.route("/<slug>/enrolments", methods=["POST"])
@writes(sequences_bp)
@requires(sequences_bp, "campaigns:write")
@sequences_bp.arguments(EnrolSchema)
@sequences_bp.response(201, EnrolmentSchema)
@sequences_bp.alt_response(404, description="No sequence has this slug, or no lead this id.")
def enrol(data, slug: str):
    """Enrol a lead into a sequence, under nurture's rules (consent, suppression, stage);
    a refusal is a 422 problem naming the reason."""
    sequence = _by_slug(Sequence, slug, "sequence")
    lead = db.session.get(Lead, data["lead_id"])
    if lead is None:
        raise Problem(404, "No lead has this id.")
    try:
        enrollment = enroll_lead(lead, sequence.id, now=utcnow())
    except Refused as exc:
        reason = exc.args[0] if exc.args else "refused"
        raise Problem(422, f"Not enrolled: {reason}.", errors={"json": {"lead_id": [reason]}}) from exc
    audit("nurture.enrol", f"lead:{lead.id}", {"sequence": sequence.slug})
    return enrollment


@downloads_bp.route("", methods=["GET"])
@requires(downloads_bp, "leads:read")
@downloads_bp.arguments(LeadQuerySchema, location="query")
@downloads_bp.response(200, DownloadSchema(many=True))
def list_downloads(args):
    """Downloads in the order they happened (`updated_since`: at or after that time);
    page with `cursor` (the Link-free way: pass the last row's cursor_for id)."""
    query = (
        select(Download, Asset.slug)
        .outerjoin(Asset, Asset.id == Download.asset_id)
        .order_by(Download.created_at, Download.id)
    )
    if "updated_since" in args:
        query = query.where(Download.created_at >= to_naive_utc(args["updated_since"]))
    if "cursor" in args:
        at, after = parse_cursor(args["cursor"], datetime, int)
        bound = tuple_(literal(at, Download.created_at.type), literal(after))
        query = query.where(tuple_(Download.created_at, Download.id) > bound)
    rows = db.session.execute(query.limit(args["limit"])).all()
    return [
        {
            "id": row.id,
            "lead_id": row.lead_id,
            "asset_id": row.asset_id,
            "asset_slug": slug,
            "created_at": row.created_at,
            "cursor": cursor_for(row.created_at, row.id),
        }
        for row, slug in rows
    ]
