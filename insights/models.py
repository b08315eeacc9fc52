"""Raw events: one compact row per thing a visitor or lead did."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow

# What an event can be; `ref_id` and `value` mean what the comment says.
EVENT_KINDS = (
    "page_view",  # path; ref_id = article id when the page is an article
    "search",  # value = the query; data = {"results": n}
    "search_click",  # value = the query; ref_id = article id
    "form_view",  # value = form kind; ref_id = asset id when there is one
    "form_submit",  # value = form kind; ref_id = submission id
    "download",  # ref_id = asset id
    "mail_sent",  # ref_id = message id; value = sequence slug or "transactional"
    "mail_open",  # ref_id = message id
    "mail_click",  # ref_id = message id; value = the clicked URL
    "unsubscribe",  # ref_id = message id when known
    "stage_change",  # value = "old>new"
)

# BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY is the rowid).
EventId = BigInteger().with_variant(Integer(), "sqlite")


class Event(db.Model):
    """A page view, search, form, download or mail event.

    `visitor_id` is the anonymous first-party cookie id; `lead_id` is set once the
    visitor is known (and filled in for the visitor's earlier events when they become
    a lead), so a lead's story starts before the form.
    """

    __tablename__ = "insight_events"
    __table_args__ = (
        Index("ix_insight_events_kind_at", "kind", "occurred_at"),
        Index("ix_insight_events_lead_at", "lead_id", "occurred_at"),
        Index("ix_insight_events_visitor", "visitor_id"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    visitor_id: Mapped[str | None] = mapped_column(String(32))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(500), default="")
    ref_id: Mapped[int | None]
    value: Mapped[str] = mapped_column(String(500), default="")
    channel: Mapped[str] = mapped_column(String(20), default="")
    data: Mapped[dict | None] = mapped_column(JSON)
