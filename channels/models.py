"""Short links, the partners who share them, their daily counts, the leads they brought
and the advisers' 企业微信 contact QR images.

A short link's counters are kept two ways on purpose: totals on the link (the admin list
reads them without a join) and one row per link and day (the weekly leaderboard sums
them). Both move with one UPDATE and one upsert per visit, never a read-modify-write.
"""

from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.timeutil import utcnow

# utm_content of a visit through a short link: "s-" and the link's code, which is how a
# lead's submission names the link that brought it (channels.sharing.credit_lead).
CONTENT_PREFIX = "s-"


class Partner(db.Model):
    """Someone outside the staff who shares our content (an agency, a reseller, a
    speaker): a name and a contact, no login."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    contact: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShortLink(db.Model):
    """/s/<code>: a path of this site with the utm tags a visit through it gets.

    `channel` becomes utm_source, `campaign` utm_campaign, and utm_medium says how the
    visitor came (a scan of the QR code or a click). A personal share link has a sharer
    (a staff user or a partner) and the article it shares; `share_key` keeps one such
    link per sharer and article."""

    __tablename__ = "short_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    target: Mapped[str] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(60), default="")
    campaign: Mapped[str] = mapped_column(String(120), default="", index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    sharer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    share_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    expires_at: Mapped[datetime | None]
    clicks: Mapped[int] = mapped_column(default=0)
    scans: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner = relationship("User", foreign_keys=[owner_id])
    sharer_user = relationship("User", foreign_keys=[sharer_user_id])
    partner = relationship("Partner")
    article = relationship("Article")

    @property
    def sharer_name(self) -> str:
        if self.sharer_user is not None:
            return self.sharer_user.name or self.sharer_user.email
        return self.partner.name if self.partner is not None else ""

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class LinkDay(db.Model):
    """A link's visits on one day (UTC): the leaderboard's weeks are sums of these."""

    __tablename__ = "short_link_days"

    link_id: Mapped[int] = mapped_column(ForeignKey("short_links.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    clicks: Mapped[int] = mapped_column(default=0)
    scans: Mapped[int] = mapped_column(default=0)


class LinkLead(db.Model):
    """A submission that came through a short link: the credit of its link (and so of
    its sharer). One per submission, however often lead_captured is sent for it."""

    __tablename__ = "short_link_leads"
    __table_args__ = (UniqueConstraint("submission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("short_links.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    link = relationship("ShortLink")


class AdvisorCard(db.Model):
    """A 企业微信 contact QR image of a staff user (an account owner) or of a campaign
    (the utm_campaign its links carry); `shown` counts how often pages showed it."""

    __tablename__ = "advisor_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    campaign: Mapped[str | None] = mapped_column(String(120), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    image: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int]
    height: Mapped[int]
    shown: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User")
