"""Gated assets and leads, and the records of each moment a lead touched us: submissions,
consents, downloads; plus the outgoing hand-off webhooks, the count of blocked spam, the
submissions held until a person confirms them and the proof-of-work solutions already used.

A lead is one person keyed by the normalised email or the mobile number in E.164 (either
may be empty, never both; each is unique where given); everything else points at it and
goes with it when the person is erased.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.timeutil import utcnow
from gated import textsearch

STAGES = ("new", "engaged", "mql", "sql", "customer", "lost")
ROLES = ("decision_maker", "user", "requester", "other")
FORMS = ("whitepaper", "video", "demo", "newsletter", "import", "one_click", "api")
CHANNELS = ("paid_search", "organic_search", "partner", "social", "email", "referral", "direct")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# The fields a person tells us about themselves, in form order (progressive profiling asks
# for the ones still unknown).
PROFILE_FIELDS = ("name", "company", "job_title", "phone", "role")
PERSON_FIELDS = ("email", *PROFILE_FIELDS)
# What a lead is known by (gated.identity): each unique where given.
IDENTITY_FIELDS = ("email", "phone")


class Asset(db.Model):
    """A gated file, stored under ASSET_DIR (never static/), served by signed link only."""

    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]


class Lead(db.Model):
    """One person, one row: keyed by the normalised email address or the mobile number
    (E.164), whichever the person gave; a lead known by one who later gives the other
    stays one lead.

    First touch is set once, when the lead is created; last touch moves with every
    submission, so a marketer sees both what found the person and what brought them back.
    """

    __tablename__ = "leads"
    # The admin list's order (newest first, id breaking ties) and its keyset cursor, alone
    # and after its two equality filters: any page of any stage or source reads one page.
    __table_args__ = (
        # One lead per address and per number; "" (not given) may repeat.
        *(
            Index(
                f"uq_leads_{name}_given",
                name,
                unique=True,
                sqlite_where=text(f"{name} <> ''"),
                postgresql_where=text(f"{name} <> ''"),
            )
            for name in IDENTITY_FIELDS
        ),
        Index("ix_leads_created_at_id", "created_at", "id"),
        Index("ix_leads_stage_created_at_id", "stage", "created_at", "id"),
        Index("ix_leads_source_created_at_id", "source", "created_at", "id"),
        # The lead list's text search (gated/textsearch.py): trigram indexes serve
        # `ILIKE '%…%'` on PostgreSQL; SQLite gets an FTS5 trigram table instead.
        *(
            Index(
                f"ix_leads_{name}_trgm", name, postgresql_using="gin", postgresql_ops={name: "gin_trgm_ops"}
            ).ddl_if(dialect="postgresql")
            for name in ("email", "name", "company")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    name: Mapped[str] = mapped_column(String(120), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    role: Mapped[str] = mapped_column(String(20), default="")
    stage: Mapped[str] = mapped_column(String(20), default="new")
    score: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(120), default="")
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    consent_version: Mapped[str] = mapped_column(String(40), default="")
    consent_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    # The language the person used (the form's page, an import column) and their IANA
    # time zone; "" when not known (mail then goes in the site's language and zone).
    locale: Mapped[str] = mapped_column(String(10), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    first_landing_page: Mapped[str] = mapped_column(String(500), default="")
    first_referrer: Mapped[str] = mapped_column(String(500), default="")
    first_utm_source: Mapped[str] = mapped_column(String(200), default="")
    first_utm_medium: Mapped[str] = mapped_column(String(200), default="")
    first_utm_campaign: Mapped[str] = mapped_column(String(200), default="")
    first_utm_term: Mapped[str] = mapped_column(String(200), default="")
    first_utm_content: Mapped[str] = mapped_column(String(200), default="")
    first_channel: Mapped[str] = mapped_column(String(20), default="direct", index=True)
    first_touch_at: Mapped[datetime | None]

    last_landing_page: Mapped[str] = mapped_column(String(500), default="")
    last_referrer: Mapped[str] = mapped_column(String(500), default="")
    last_utm_source: Mapped[str] = mapped_column(String(200), default="")
    last_utm_medium: Mapped[str] = mapped_column(String(200), default="")
    last_utm_campaign: Mapped[str] = mapped_column(String(200), default="")
    last_utm_term: Mapped[str] = mapped_column(String(200), default="")
    last_utm_content: Mapped[str] = mapped_column(String(200), default="")
    last_channel: Mapped[str] = mapped_column(String(20), default="direct")
    last_touch_at: Mapped[datetime | None]

    tag_rows = relationship(
        "LeadTag", cascade="all, delete-orphan", passive_deletes=True, order_by="LeadTag.tag"
    )
    submissions = relationship(
        "Submission",
        back_populates="lead",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Submission.created_at",
    )

    @property
    def first_name(self) -> str:
        """The given name for a greeting: Chinese names are written family name first."""
        name = (self.name or "").strip()
        if not name:
            return ""
        if " " in name:
            return name.split()[0]
        return name

    def missing_fields(self) -> list[str]:
        """The profile fields this lead has not told us yet, in form order."""
        return [name for name in PROFILE_FIELDS if not getattr(self, name)]

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]


textsearch.install(Lead.__table__)


class LeadTag(db.Model):
    """One tag on a lead (a lead has many): a row each, so a segment's `tags contains`
    is an indexed EXISTS, not a scan of a text column."""

    __tablename__ = "lead_tags"
    __table_args__ = (UniqueConstraint("lead_id", "tag"), Index("ix_lead_tags_tag", "tag"))

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(60))


class Submission(db.Model):
    """One form sent by one lead, with everything as it arrived (for audits and access
    requests). ip and user_agent are purged after SUBMISSION_RETENTION_DAYS.

    `proposed_fields` names the profile fields whose values the lead did not take: a public
    form anyone can fill with anyone's address may only add what the lead lacks, so a
    differing value stays here for staff to see as proposed (gated.leads.merge_profile).
    """

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    form: Mapped[str] = mapped_column(String(20), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="SET NULL"), index=True)
    # The article whose form it was when no asset says so: a gated video's (form "video").
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    proposed_fields: Mapped[list] = mapped_column(JSON, default=list)
    utm: Mapped[dict] = mapped_column(JSON, default=dict)
    referrer: Mapped[str] = mapped_column(String(500), default="")
    landing_page: Mapped[str] = mapped_column(String(500), default="")
    channel: Mapped[str] = mapped_column(String(20), default="direct")
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    lead = relationship("Lead", back_populates="submissions")
    asset = relationship("Asset")
    article = relationship("Article")

    @property
    def gave_email(self) -> bool:
        """Whether this form was sent with an address: only then is its link mailed, and
        its thank-you page says so (a number alone may belong to a lead with one)."""
        return bool((self.fields or {}).get("email"))


class Consent(db.Model):
    """A consent decision as the person saw it: the version and the very text shown, with
    time, IP and user agent (GDPR art. 7, PIPL art. 14)."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"))
    version: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    granted: Mapped[bool]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Download(db.Model):
    """A gated file sent to a lead."""

    __tablename__ = "downloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="SET NULL"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"))
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    asset = relationship("Asset")


class WebhookDelivery(db.Model):
    """One event for the hand-off webhook, written in the lead's transaction and delivered
    later with backoff, so the form never waits on a CRM."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(index=True)
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BlockedSubmission(db.Model):
    """A submission dropped as spam because its honeypot was filled (people never see
    that field): counted, not kept. No address or content is stored, only why and when."""

    __tablename__ = "blocked_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class HeldSubmission(db.Model):
    """A valid submission that looked automated (sent faster than a person types, without
    its form's start time, or without a proof-of-work solution where one is required):
    kept whole, never thanked for, until the visitor confirms on the page that answered
    it or a member of staff releases it; both go through the same capture as a form.
    Purged after HELD_SUBMISSION_DAYS, released or not."""

    __tablename__ = "held_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(20))
    # The white paper a landing form was about ("" for the other forms).
    slug: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254), index=True)
    fields: Mapped[dict] = mapped_column(JSON)
    known_lead_id: Mapped[int | None]
    consent_shown: Mapped[bool] = mapped_column(default=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    referrer: Mapped[str] = mapped_column(String(500), default="")
    landing_page: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    released_at: Mapped[datetime | None]
    # None with released_at set: the visitor confirmed it themselves.
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"))


class UsedChallenge(db.Model):
    """The signature of a proof-of-work challenge whose solution was accepted, kept until
    the challenge expires: a solved payload sent twice is refused, on every web node."""

    __tablename__ = "used_challenges"

    signature: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class EmbedSettings(db.Model):
    """The host origins one form may be embedded on (besides EMBED_ORIGINS, which hold
    for every form), set in the admin. `form` is the embed path: library/<slug>,
    demo-request or newsletter."""

    __tablename__ = "embed_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(200), unique=True)
    origins: Mapped[str] = mapped_column(db.Text, default="")  # one origin per line
    updated_at: Mapped[datetime] = mapped_column(db.DateTime)


class EmbedSighting(db.Model):
    """A site a form was seen on (an allowed origin that loaded or sent it): one row per
    form and origin, touched at most every few minutes per process (gated.embedding)."""

    __tablename__ = "embed_sightings"
    __table_args__ = (db.UniqueConstraint("form", "origin", name="uq_embed_sightings_form_origin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(200))
    first_seen_at: Mapped[datetime] = mapped_column(db.DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(db.DateTime)
    submissions: Mapped[int] = mapped_column(default=0, server_default="0")


class PhoneCode(db.Model):
    """A verification code sent by SMS to a mobile number (gated.phonecodes). Only its
    keyed hash is stored; `attempts` counts wrong tries (the code is locked after
    SMS_CODE_MAX_ATTEMPTS), `used_at` marks the one submission it proved."""

    __tablename__ = "phone_codes"
    __table_args__ = (Index("ix_phone_codes_phone_created_at", "phone", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LeadMerge(db.Model):
    """Lead `merged_id` folded into lead `lead_id` by a staff user (gated.merging), with
    everything needed to undo it: the merged lead's row, the rows that moved and the rows
    that clashed (kept as copies), and the survivor's values before. The ids are plain
    numbers, not foreign keys: the log outlives the merged lead's row, and no merge moves
    another merge's log."""

    __tablename__ = "lead_merges"
    __table_args__ = (
        Index("ix_lead_merges_lead_id", "lead_id"),
        Index("ix_lead_merges_merged_id", "merged_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int]
    merged_id: Mapped[int]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    chosen: Mapped[dict] = mapped_column(JSON, default=dict)
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
