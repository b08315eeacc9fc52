"""The API's request and response shapes (marshmallow), from which flask-smorest writes
the OpenAPI document. Every request schema refuses unknown fields (marshmallow's
default, RAISE), so a misspelt field is a 422, never silently dropped."""

from datetime import UTC

from marshmallow import Schema, fields, validate

from gated.models import STAGES


class UtcDateTime(fields.DateTime):
    """A stored time as ISO 8601 with its offset (+00:00). Lodestar keeps UTC without a
    zone; sent as it is, a client would read it in its own zone (a CRM in Shanghai as
    eight hours later)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    errors = fields.Dict(metadata={"description": "Invalid fields by location, then by name."})


class PageSchema(Schema):
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass as ?cursor= for the next page."}
    )


class LeadSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    phone = fields.String()
    name = fields.String()
    company = fields.String()
    job_title = fields.String()
    role = fields.String()
    stage = fields.String()
    score = fields.Integer()
    source = fields.String()
    marketing_consent = fields.Boolean()
    first_channel = fields.String()
    last_channel = fields.String()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class LeadListSchema(PageSchema):
    items = fields.List(fields.Nested(LeadSchema))


class LeadQuerySchema(Schema):
    updated_since = fields.DateTime(
        metadata={"description": "Only leads changed at or after this time (UTC)."}
    )
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class LeadUpsertSchema(Schema):
    email = fields.String(validate=validate.Length(max=254))
    phone = fields.String(validate=validate.Length(max=40))
    name = fields.String(validate=validate.Length(max=120))
    company = fields.String(validate=validate.Length(max=200))
    job_title = fields.String(validate=validate.Length(max=120))
    role = fields.String(validate=validate.Length(max=20))
    source = fields.String(validate=validate.Length(max=120))
    stage = fields.String(validate=validate.OneOf(STAGES))
    marketing_consent = fields.Boolean(truthy={True}, falsy={False})


class LeadUpsertResultSchema(Schema):
    created = fields.Boolean()
    lead = fields.Nested(LeadSchema)


class StageSchema(Schema):
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))


class EventSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(("page_view", "custom")))
    name = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "custom events"})
    url = fields.String(validate=validate.Length(max=500), metadata={"description": "page views"})
    occurred_at = fields.DateTime()
    visitor_id = fields.String(validate=validate.Length(max=32))
    email = fields.String(
        validate=validate.Length(max=254), metadata={"description": "a known lead's address"}
    )
    properties = fields.Dict(keys=fields.String(), metadata={"description": "custom events; small JSON"})


class EventBatchSchema(Schema):
    events = fields.List(fields.Nested(EventSchema), required=True, validate=validate.Length(min=1))


class EventBatchResultSchema(Schema):
    stored = fields.Integer()
    matched_leads = fields.Integer()


class ArticleSummarySchema(Schema):
    id = fields.Integer()
    slug = fields.String()
    kind = fields.String()
    locale = fields.String()
    title = fields.String()
    summary = fields.String()
    category = fields.String()
    tags = fields.List(fields.String())
    published_at = UtcDateTime()
    url = fields.String()


class ArticleSchema(ArticleSummarySchema):
    body_html = fields.String()
    body_md = fields.String()


class ArticleListSchema(PageSchema):
    items = fields.List(fields.Nested(ArticleSummarySchema))


class ArticleQuerySchema(Schema):
    kind = fields.String(validate=validate.Length(max=20))
    locale = fields.String(validate=validate.Length(max=10))
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class SearchQuerySchema(Schema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(validate=validate.Length(max=20))
    locale = fields.String(validate=validate.Length(max=10))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1000))
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class SearchHitSchema(Schema):
    slug = fields.String()
    kind = fields.String()
    title = fields.String()
    url = fields.String()
    snippet = fields.String()


class SearchResultSchema(Schema):
    query = fields.String()
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()
    results = fields.List(fields.Nested(SearchHitSchema))


class NamedSchema(Schema):
    """What every named thing the API lists carries: a segment, a campaign, a sequence."""

    id = fields.Integer()
    slug = fields.String()
    name = fields.String()


class SegmentSchema(NamedSchema):
    pass


class SegmentMembersSchema(PageSchema):
    segment = fields.Nested(SegmentSchema)
    items = fields.List(fields.Nested(LeadSchema))


class MembersQuerySchema(Schema):
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class CampaignSchema(NamedSchema):
    status = fields.String()


class SequenceSchema(NamedSchema):
    status = fields.String()


class EnrolSchema(Schema):
    lead_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))


class EnrolmentSchema(Schema):
    id = fields.Integer()
    lead_id = fields.Integer()
    sequence_id = fields.Integer()
    status = fields.String()


class DownloadSchema(Schema):
    id = fields.Integer()
    lead_id = fields.Integer()
    asset_id = fields.Integer(allow_none=True)
    asset_slug = fields.String(allow_none=True)
    created_at = UtcDateTime()
    cursor = fields.String(metadata={"description": "Pass as ?cursor= for the rows after this one."})
