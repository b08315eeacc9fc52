"""How many transactional mails one address may get: at most MAIL_PER_RECIPIENT_PER_HOUR
in any hour and MAIL_PER_RECIPIENT_PER_DAY in any day (0: no limit), whoever asks and
from whatever IP.

Every form that mails the address typed into it (the download link, the demo request's
receipt, the double opt-in confirmation, a fresh link, the help assistant's receipt) is a
way to send mail to someone else's address; the per-IP rate limits do not stop twenty
posts from twenty addresses, or two hundred from one. The form still stores the lead and
shows what it shows (the download link is on the thank-you page); only the mail is not
queued: it is kept as a skipped message whose error says why, so the admin's message log
shows it.

The count is the address's transactional messages of the last hour and day in the
database (those skipped here not counted), so every web node shares it. On PostgreSQL a
transaction-scoped advisory lock on the address makes concurrent requests for one address
count and add one after the other; SQLite writes one transaction at a time anyway.

Mail to staff (notifications, the digest, a test of a step) is not capped: its addresses
are ours, its number follows the business, and dropping a hand-off mail would lose a lead.
"""

import hashlib
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, text

from core.extensions import db
from nurture.models import Message

# Stored in English like every message error; the admin shows it translated.
CAPPED = "not sent: the address has had its transactional mails for the "
WINDOWS = (
    ("hour", "MAIL_PER_RECIPIENT_PER_HOUR", timedelta(hours=1)),
    ("day", "MAIL_PER_RECIPIENT_PER_DAY", timedelta(days=1)),
)


def refusal(address: str, *, now: datetime) -> str | None:
    """Inside the caller's transaction: the reason a transactional mail to `address`
    (normalised) may not be queued at `now`, or None when it may."""
    config = current_app.config
    limits = [(name, config[key], length) for name, key, length in WINDOWS if config[key] > 0]
    if not limits or not address:
        return None
    _lock(address)
    for name, limit, length in limits:
        sent = db.session.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.to_address == address,
                Message.created_at > now - length,
                Message.kind == "transactional",
                Message.status != "skipped",
            )
        )
        if sent >= limit:
            return f"{CAPPED}{name} ({limit})"
    return None


def _lock(address: str) -> None:
    """Hold the address's advisory lock until the transaction ends (PostgreSQL only)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(address.encode("utf-8")).digest()[:8], "big", signed=True)
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
