"""What the CRM sync keeps: one link per (CRM, lead) holding the CRM's record id and the
lead's place in the push queue, the runs, a log entry for everything that went somewhere
(or failed, and why), and the signatures of inbound webhooks already taken."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow


class CrmLink(db.Model):
    __tablename__ = "crm_links"
    __table_args__ = (UniqueConstraint("crm", "lead_id"), UniqueConstraint("crm", "record_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    crm: Mapped[str] = mapped_column(String(40))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    # None until the first push creates (or finds) the record.
    record_id: Mapped[str | None] = mapped_column(String(64))
    # A digest of what was last pushed: the same values again are not sent.
    pushed_hash: Mapped[str] = mapped_column(String(64), default="")
    pushed_at: Mapped[datetime | None]
    # Set while the lead waits to be pushed (again); None when in step.
    push_due_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")


class CrmSyncRun(db.Model):
    __tablename__ = "crm_sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    crm: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # push | pull | webhook
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    # pull: the CRM's change time up to which everything was read.
    watermark: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(String(500), default="")


class CrmSyncEntry(db.Model):
    __tablename__ = "crm_sync_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crm_sync_runs.id", ondelete="CASCADE"), index=True)
    crm: Mapped[str] = mapped_column(String(40))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    record_id: Mapped[str] = mapped_column(String(64), default="")
    direction: Mapped[str] = mapped_column(String(10))  # out | in
    # created | updated | unchanged | stage | retry | failed | unknown_record
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class CrmWebhookReceipt(db.Model):
    """A signature already accepted: the same signed request again is a replay."""

    __tablename__ = "crm_webhook_receipts"

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
