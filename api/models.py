"""API keys and the answers kept for idempotent writes.

A key's secret is shown once and stored only as its SHA-256 (a 32-byte random secret
needs no slow hash: there is nothing to guess); its prefix stays readable so staff can
tell keys apart. An idempotency record holds the first answer to a write sent with an
`Idempotency-Key`, unique per (key, idempotency key), so a retry gets that answer again.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow

SCOPES = (
    "leads:read",
    "leads:write",
    "events:write",
    "content:read",
    "campaigns:read",
    "campaigns:write",
)


class ApiKey(db.Model):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(20), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def label(self) -> str:
        """How the key names itself as an actor (audit details, sync logs)."""
        return f"api-key:{self.prefix} ({self.name})"


class IdempotencyRecord(db.Model):
    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    # None while the first request is still running.
    status_code: Mapped[int | None]
    body: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
