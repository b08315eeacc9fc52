"""Raw events (one compact row per thing a visitor or lead did) and the daily aggregates
they are rolled up into, so dashboards read a few thousand rows instead of millions."""

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow
from gated.models import Lead

# What an event can be; `ref_id` and `value` mean what the comment says.
EVENT_KINDS = (
    "page_view",  # path; ref_id = article id when the page is an article
    "search",  # value = the query; data = {"results": n}
    "search_click",  # ref_id = the article opened; path = its page
    "page_time",  # path; value = the seconds the page was in view before it was left
    "form_view",  # value = form kind; ref_id = asset id when there is one
    "form_submit",  # value = form kind; ref_id = submission id
    "download",  # ref_id = asset id
    "mail_sent",  # ref_id = message id; value = sequence slug or "transactional"
    "mail_open",  # ref_id = message id
    "mail_click",  # ref_id = message id; value = the clicked URL
    "unsubscribe",  # ref_id = message id when known
    "stage_change",  # value = "old>new"
    "custom",  # value = the event's name; data = its properties (sent through the API)
)

# BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY is the rowid).
EventId = BigInteger().with_variant(Integer(), "sqlite")


class Event(db.Model):
    """A page view, search, form, download or mail event.

    `visitor_id` is the anonymous first-party cookie id; `lead_id` is set once the
    visitor is known (and filled in for the visitor's earlier events when they become
    a lead), so a lead's story starts before the form.

    `visit_seq` is the page's place in its visit (1: the visit landed here, 2: the second
    page, so the visit did not bounce; 0: not counted, e.g. a visitor asking not to be
    tracked); `landing` is the path the visit landed on, for conversion and bounce rates
    per landing page.
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
    visit_seq: Mapped[int] = mapped_column(SmallInteger, default=0)
    landing: Mapped[str] = mapped_column(String(500), default="")


# The event kinds whose `value` the daily aggregates keep (a form kind, a stage change);
# for the others the value (a query, a clicked URL) is left out, or the aggregates would
# be as many rows as the events.
VALUE_KINDS = ("form_view", "form_submit", "stage_change")


# The grains of the daily aggregates, each as small as its figures allow: "total" rows
# count events by kind, value and place in the visit (the funnel);
# "page" rows count page views and submissions by path and channel (content); "landing"
# rows count visits' first and second pages and submissions by landing page and channel
# (bounce and conversion per landing page); the "_channel" twins keep the channel too,
# for figures filtered by one. See insights.rollups._grains.
GRAINS = ("total", "total_channel", "page", "page_channel", "landing", "landing_channel")


class DailyCount(db.Model):
    """How many events of one kind, path, landing page, channel and value happened on a
    day (the site's local day), at one of GRAINS. Written by the rollup; raw events of rolled-up days may
    then be pruned."""

    __tablename__ = "insight_daily"
    __table_args__ = (Index("ix_insight_daily_grain", "grain", "channel", "day", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grain: Mapped[str] = mapped_column(String(20))
    day: Mapped[date]
    kind: Mapped[str] = mapped_column(String(20))
    path: Mapped[str] = mapped_column(String(500), default="")
    landing: Mapped[str] = mapped_column(String(500), default="")
    channel: Mapped[str] = mapped_column(String(20), default="")
    value: Mapped[str] = mapped_column(String(500), default="")
    visit_seq: Mapped[int] = mapped_column(SmallInteger, default=0)
    count: Mapped[int] = mapped_column(default=0)


class RolledUpDay(db.Model):
    """A day whose events are in insight_daily: dashboards read the aggregates for these
    days and the raw events for the days after the last one."""

    __tablename__ = "insight_rolled_up_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    events: Mapped[int] = mapped_column(default=0)
    rolled_up_at: Mapped[datetime] = mapped_column(default=utcnow)


class SentDigest(db.Model):
    """A weekly digest queued to one address for one week (its Monday in the site's zone): running the
    digest again that week sends nothing more unless forced (the key makes two runs at
    once fail rather than both send)."""

    __tablename__ = "insight_sent_digests"
    __table_args__ = (UniqueConstraint("email", "week", name="uq_insight_sent_digests_email_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    week: Mapped[date]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


# New leads per channel for a period (the dashboards' channel table, the digest) read
# this index alone instead of every lead row of the period.
Index("ix_leads_created_channel", Lead.created_at, Lead.first_channel)
