"""Topics and each lead's choice of them, sequences, their steps, enrollments, every outgoing message, suppressions, the
worker's heartbeat and the send-rate limit's shared state.

The message table is the queue: a mail exists as a row before it is sent, and a unique
key on (enrollment, step, round) makes a second copy of a nurture step impossible.
"""

import contextlib
import hashlib
from datetime import datetime

import idna
from sqlalchemy import JSON, Double, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.timeutil import utcnow

SEQUENCE_STATUSES = ("draft", "active", "paused", "archived")
TRIGGERS = ("asset", "form", "manual")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ENROLLMENT_STATUSES = ("active", "completed", "exited")
EXIT_REASONS = (
    "unsubscribed",
    "bounced",
    "complained",
    "stage",
    "removed",
    "erased",
    "suppressed",
    "topic_left",
)
# "staff": a mail to our own people (hand-off to sales, digests, escalations), which says
# why they get it and carries nothing meant for prospects (no unsubscribe).
MESSAGE_KINDS = ("transactional", "nurture", "staff", "campaign")
MESSAGE_STATUSES = ("queued", "sending", "sent", "failed", "suppressed", "skipped")
SUPPRESSION_REASONS = ("unsubscribed", "bounced", "complained", "erased", "manual")
# Lower sorts first when claiming: a download link never waits behind a campaign, nor a
# sequence's next step behind a mailing to thousands.
PRIORITY = {"transactional": 0, "staff": 0, "nurture": 1, "campaign": 2}


def normalise_email(email: str) -> str:
    """The address as compared: trimmed, lower-cased, an IDNA (punycode) domain in its
    Unicode form. Leads are stored with the Unicode domain (gated.validation) while mail
    goes out, and comes back in bounces and complaints, with the ASCII one; both must
    give one suppression key. A domain that does not decode is kept as it came."""
    local, at, domain = (email or "").strip().lower().rpartition("@")
    # Only an xn-- label can change, so plain ASCII domains skip the (slower) decoding.
    if at and "xn--" in domain:
        with contextlib.suppress(UnicodeError):  # idna.IDNAError is one
            domain = idna.decode(domain)
    return f"{local}{at}{domain}"


def email_hash(email: str) -> str:
    """The suppression key: sha256 of the normalised address, so an erased person's
    address is not kept while their "never mail me again" is."""
    return hashlib.sha256(normalise_email(email).encode("utf-8")).hexdigest()


class Topic(db.Model):
    """What a marketing mail is about (newsletter, events, product news): every campaign
    and every sequence belongs to one, and a person keeps or leaves each (nurture.topics).
    An `opt_in_only` topic goes only to those who chose it; any other to every lead with
    marketing consent until they leave it."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    opt_in_only: Mapped[bool] = mapped_column(default=False)


class TopicChoice(db.Model):
    """A lead's latest decision about one topic, kept like the form's consent: when, the
    version and text of what they were shown, where (preference page, one-click, form,
    import, admin) and from which address."""

    __tablename__ = "topic_choices"
    __table_args__ = (UniqueConstraint("lead_id", "topic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    subscribed: Mapped[bool]
    source: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Sequence(db.Model):
    """An ordered series of nurture mails with a trigger and a send window."""

    __tablename__ = "sequences"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    trigger_kind: Mapped[str] = mapped_column(String(20), default="manual")
    trigger_value: Mapped[str] = mapped_column(String(120), default="", index=True)
    window_days: Mapped[list] = mapped_column(JSON, default=lambda: list(DAYS))
    window_start: Mapped[str] = mapped_column(String(5), default="00:00")
    window_end: Mapped[str] = mapped_column(String(5), default="24:00")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    hourly_cap: Mapped[int | None]
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN")
    # None only where no topic exists at all (the migration gives every sequence one).
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    topic = relationship("Topic")
    steps = relationship(
        "Step", back_populates="sequence", order_by="Step.position", cascade="all, delete-orphan"
    )


class Step(db.Model):
    """One mail of a sequence. `delay_minutes` counts from the enrollment or from the
    previous step's send; `condition` may skip it (see validation.CONDITIONS)."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("sequence_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    delay_minutes: Mapped[int] = mapped_column(default=0)
    delay_from: Mapped[str] = mapped_column(String(20), default="previous")
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    condition: Mapped[dict | None] = mapped_column(JSON)

    sequence = relationship("Sequence", back_populates="steps")


class SequenceRevision(db.Model):
    """One saved change of a sequence from the journey editor: who, when, what changed
    (`changes`: codes with step numbers, put in words by nurture.revisions) and the
    whole sequence after it as its YAML export gives it (`snapshot`)."""

    __tablename__ = "sequence_revisions"
    __table_args__ = (UniqueConstraint("sequence_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id", ondelete="CASCADE"))
    number: Mapped[int]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    changes: Mapped[list] = mapped_column(JSON, default=list)
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)

    user = relationship("User")


class Enrollment(db.Model):
    """A lead's way through one sequence. `position` is the next step to send;
    `round` grows on a deliberate re-enrollment so its mails are new rows."""

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("lead_id", "sequence_id"),
        Index("ix_enrollments_due", "status", "next_send_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    exit_reason: Mapped[str] = mapped_column(String(40), default="")
    position: Mapped[int] = mapped_column(default=0)
    round: Mapped[int] = mapped_column(default=1)
    next_send_at: Mapped[datetime | None] = mapped_column(index=True)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sent_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(40), default="")
    # When the lead first became an MQL (or went straight past it) while enrolled: the
    # journey counts, per step, the leads that qualified after getting it.
    qualified_at: Mapped[datetime | None]
    # The asset whose download enrolled the lead: {{ download_url }} links to it.
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="SET NULL"))

    lead = relationship("Lead")
    sequence = relationship("Sequence")


class Message(db.Model):
    """Every outgoing mail, from queued to sent (or failed, suppressed, skipped)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "step_id", "round"),
        Index("ix_messages_claim", "status", "priority", "next_attempt_at"),
        # The per-recipient caps (nurture/caps.py) count an address's recent mail.
        Index("ix_messages_recipient", "to_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(default=1)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    sequence_id: Mapped[int | None] = mapped_column(
        ForeignKey("sequences.id", ondelete="SET NULL"), index=True
    )
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    step_id: Mapped[int | None] = mapped_column(ForeignKey("steps.id", ondelete="SET NULL"), index=True)
    round: Mapped[int | None]
    # A marketing mail's topic (its sequence's or campaign's), fixed when it is queued.
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    template: Mapped[str] = mapped_column(String(200), default="")
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    subject: Mapped[str] = mapped_column(String(998), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str] = mapped_column(String(120), default="")
    message_id: Mapped[str] = mapped_column(String(250), default="", index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    opened_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    open_count: Mapped[int] = mapped_column(default=0)
    click_count: Mapped[int] = mapped_column(default=0)
    unsubscribed_at: Mapped[datetime | None]
    bounced_at: Mapped[datetime | None]

    lead = relationship("Lead")
    step = relationship("Step")
    sequence = relationship("Sequence")
    enrollment = relationship("Enrollment")
    topic = relationship("Topic")


class Suppression(db.Model):
    """An address never to be mailed again, kept only as its hash."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkerHeartbeat(db.Model):
    """One row per worker name: when it last ran and what it did in total."""

    __tablename__ = "worker_heartbeats"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    last_tick_at: Mapped[datetime] = mapped_column(default=utcnow)
    ticks: Mapped[int] = mapped_column(default=0)
    sent: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)


class SendRate(db.Model):
    """What every worker sending through one SMTP provider has taken of its rate limits
    (nurture/ratelimit.py): the next free send slot, in seconds on the database's clock,
    and the mails reserved in the last hour as [[seconds, mails], ...] by the tick's time."""

    __tablename__ = "send_rates"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(255), unique=True)
    next_slot: Mapped[float] = mapped_column(Double, default=0.0)
    hour: Mapped[list] = mapped_column(JSON, default=list)
