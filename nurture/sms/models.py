"""One outgoing text message per row, written in the transaction that asked for it and
sent later by the worker, like mail: nothing is lost when the provider is down.

`params` are the template's values. Those named in `secret_params` (a verification
code) are in the row only until the text is sent or given up, then blanked: a code is
never readable in the outbox, an export or a backup after its few minutes of use.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow

SMS_STATUSES = ("queued", "sending", "sent", "failed")


class SmsMessage(db.Model):
    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    to_number: Mapped[str] = mapped_column(String(20), index=True)
    template: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    secret_params: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    # A text not worth sending after this (a code past its validity).
    expires_at: Mapped[datetime | None]
    provider: Mapped[str] = mapped_column(String(20), default="")
    provider_id: Mapped[str] = mapped_column(String(100), default="")
    error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]
