"""Segments, topics, campaigns and each campaign's recipients.

A segment keeps its rules, not its members, so who is in it is decided by the leads' data
at the moment it is read. A campaign's recipients, on the contrary, are fixed when its
send starts: one row per lead (unique), with the variant that lead gets, so a person can
never receive two variants or the same campaign twice.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.timeutil import utcnow
from nurture.models import Topic  # noqa: F401 - topics are nurture's (every mail has one); named here too


class Segment(db.Model):
    """An audience by rules (campaigns.rules): all / any / not over lead fields and
    behaviour, evaluated in one SQL query whenever it is used."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    rules: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


CAMPAIGN_STATUSES = ("draft", "scheduled", "sending", "sent", "cancelled")
METRICS = ("opens", "clicks")


class Campaign(db.Model):
    """A one-off mailing to an audience (segments, minus exclusions), with one subject
    or a test of several variants.

    `audience` and `exclude` are lists of {"segment": slug} or {"rules": {...}};
    `variants` is a list of {"subject", "body"}, the first the control that wins a tie.
    With sample_percent under 100 the variants go to that share of the audience and,
    `wait_minutes` after the start, the winner by `metric` goes to the rest."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    audience: Mapped[list] = mapped_column(JSON)
    exclude: Mapped[list] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text, default="")
    variants: Mapped[list] = mapped_column(JSON)
    sample_percent: Mapped[int] = mapped_column(default=100)
    wait_minutes: Mapped[int] = mapped_column(default=0)
    metric: Mapped[str] = mapped_column(String(10), default="opens")
    send_at: Mapped[datetime | None]
    local_time: Mapped[str] = mapped_column(String(5), default="")
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    started_at: Mapped[datetime | None]
    winner: Mapped[int | None]
    decided_at: Mapped[datetime | None]
    # Resend to non-openers: `resend_after_minutes` after every first mail is queued,
    # those who opened none of the campaign's mail get `resend_subject` (campaigns.resend).
    resend_after_minutes: Mapped[int | None]
    resend_subject: Mapped[str] = mapped_column(String(300), default="")
    resend_queued_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    topic = relationship("Topic")


class Recipient(db.Model):
    """A lead a campaign's send took in, and the variant it gets (None: waiting for
    the A/B test's winner)."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (UniqueConstraint("campaign_id", "lead_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    variant: Mapped[int | None]


class MailEvent(db.Model):
    """A click of a link (with where it led, for the report's click map) or a complaint
    about a campaign's mail, as nurture's signals report them."""

    __tablename__ = "campaign_mail_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
