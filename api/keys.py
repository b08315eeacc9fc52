"""API keys: created (the secret returned once), found from a Bearer token, revoked.

A token reads `lsk_<8 characters>_<secret>`; its first part is the key's prefix, stored
in clear and unique, so a token is found by one indexed lookup and then checked against
the stored hash in constant time.
"""

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from api.audit import audit
from api.models import SCOPES, ApiKey
from core.extensions import db

TOKEN = re.compile(r"^(lsk_[A-Za-z0-9]{8})_([A-Za-z0-9_-]{20,100})$")
EXPIRY = re.compile(r"^(\d{1,4})([dh])$")


class KeyRefused(ValueError):
    """A key that cannot be made as asked (unknown scope, bad expiry, no name)."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(text: str | list[str]) -> list[str]:
    """The scopes of "a,b" or a list, each known; KeyRefused naming the unknown ones."""
    items = text.split(",") if isinstance(text, str) else list(text)
    scopes = sorted({item.strip() for item in items if item.strip()})
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise KeyRefused(f"unknown scope {', '.join(unknown)}; use {', '.join(SCOPES)}")
    if not scopes:
        raise KeyRefused(f"give at least one scope of {', '.join(SCOPES)}")
    return scopes


def parse_expiry(text: str | None) -> timedelta | None:
    """ "90d" or "12h" as a duration; empty is no expiry."""
    if not text:
        return None
    match = EXPIRY.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise KeyRefused("expiry must look like 90d or 12h")
    number = int(match.group(1))
    return timedelta(days=number) if match.group(2) == "d" else timedelta(hours=number)


def create_key(
    name: str, scopes: list[str], *, now: datetime, expires_in: timedelta | None = None, user=None
) -> tuple[ApiKey, str]:
    """A new key and its token (shown once; only its hash is kept). Commits."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise KeyRefused("a key needs a name of at most 120 characters")
    scopes = parse_scopes(scopes)
    prefix = "lsk_" + "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(8))
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=_digest(secret),
        scopes=scopes,
        created_by_id=getattr(user, "id", None),
        created_at=now,
        expires_at=now + expires_in if expires_in else None,
    )
    db.session.add(key)
    db.session.commit()
    audit(
        "api.key_create",
        f"api_key:{key.id}",
        {"name": key.name, "prefix": prefix, "scopes": scopes, "expires_at": _iso(key.expires_at)},
        user=user,
    )
    return key, f"{prefix}_{secret}"


def revoke_key(key: ApiKey, *, now: datetime, user=None) -> bool:
    """Revoke a key at once; False if it was revoked already. Commits."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = now
    db.session.commit()
    audit("api.key_revoke", f"api_key:{key.id}", {"name": key.name, "prefix": key.prefix}, user=user)
    return True


def find_key(prefix_or_id: str) -> ApiKey | None:
    """A key by its prefix (lsk_…) or its number, as staff name it on the command line."""
    if prefix_or_id.isdigit() and int(prefix_or_id) < 2**31:
        return db.session.get(ApiKey, int(prefix_or_id))
    return db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix_or_id))


def authenticate(token: str, *, now: datetime) -> ApiKey | None:
    """The active key of a Bearer token, or None (unknown, wrong secret, revoked,
    expired). Records its last use, at most once a minute per key, in its own commit."""
    match = TOKEN.match(token or "")
    if not match:
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == match.group(1)))
    if key is None or not hmac.compare_digest(key.secret_hash, _digest(match.group(2))):
        return None
    if not key.is_active(now):
        return None
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        db.session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
        key.last_used_at = now
    # Ends the read so each write starts a fresh transaction (SQLite's writer lock).
    db.session.commit()
    return key


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
