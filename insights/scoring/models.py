"""Scoring rules, each lead's score changes (the reasons), its scoring state and its
hand-offs to sales."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow

RULE_KINDS = ("action", "fit")
# What an action rule matches in the event (a substring of path or value, ref_id equal).
ACTION_FIELDS = ("", "path", "value", "ref_id")
# What a fit rule matches on the lead: comma-separated keywords (role, email domain: equal;
# job title, company: contained), case-insensitive.
FIT_FIELDS = ("role", "job_title", "email_domain", "company")
OUTCOMES = ("pending", "accepted", "rejected")
# Why sales return a lead (the desk's preset reasons); "other" comes with text.
RETURN_REASONS = ("not_a_fit", "no_budget", "wrong_contact", "customer", "duplicate", "other")


class ScoreRule(db.Model):
    """Points for an event (action rule) or for who the lead is (fit rule). Negative
    points lower the score (a free-mail domain, an unsubscribe)."""

    __tablename__ = "score_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10), default="action")
    event_kind: Mapped[str] = mapped_column(String(20), default="")
    field: Mapped[str] = mapped_column(String(20), default="")
    pattern: Mapped[str] = mapped_column(String(500), default="")
    points: Mapped[int] = mapped_column(default=0)
    daily_cap: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScoreChange(db.Model):
    """One reason of a lead's score: a rule's points for an event, a fit, or decay."""

    __tablename__ = "score_changes"
    __table_args__ = (Index("ix_score_changes_lead_at", "lead_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("score_rules.id", ondelete="SET NULL"))
    event_id: Mapped[int | None]
    reason: Mapped[str] = mapped_column(String(200), default="")
    points: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LeadScoring(db.Model):
    """A scored lead's state: its last activity (for decay and the dormant pool), the
    decay steps applied since, and when it went dormant."""

    __tablename__ = "lead_scoring"

    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    last_activity_at: Mapped[datetime | None]
    decay_steps: Mapped[int] = mapped_column(default=0)
    dormant_at: Mapped[datetime | None] = mapped_column(index=True)
    returned_at: Mapped[datetime | None]


class Handoff(db.Model):
    """A lead handed to a sales user when it crossed the MQL threshold, and the outcome."""

    __tablename__ = "lead_handoffs"
    __table_args__ = (Index("ix_lead_handoffs_owner_at", "owner_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    score: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    outcome: Mapped[str] = mapped_column(String(10), default="pending")
    # Words: a preset reason's label or what sales typed for "other"; the code beside it.
    reason: Mapped[str] = mapped_column(String(500), default="")
    reason_code: Mapped[str] = mapped_column(String(20), default="", server_default="")
    note: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    decided_at: Mapped[datetime | None]
    # When the missed response promise was mailed to the team's lead (once).
    escalated_at: Mapped[datetime | None]
