"""Segments: named, saved audiences. A segment keeps its rules, not its members, so who
is in it is decided by the leads' data at the moment it is read."""

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow


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
