"""Gated assets and leads. (The gated package extends this module: submissions,
consents, downloads.)"""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow

STAGES = ("new", "engaged", "mql", "sql", "customer", "lost")
ROLES = ("decision_maker", "user", "requester", "other")


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


class Lead(db.Model):
    """One person, one row: keyed by the normalised email address."""

    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    role: Mapped[str] = mapped_column(String(20), default="")
    stage: Mapped[str] = mapped_column(String(20), default="new", index=True)
    score: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(120), default="")
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def first_name(self) -> str:
        """The given name for a greeting: Chinese names are written family name first."""
        name = (self.name or "").strip()
        if not name:
            return ""
        if " " in name:
            return name.split()[0]
        return name
