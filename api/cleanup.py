"""Forgetting idempotency answers once API_IDEMPOTENCY_HOURS have passed (a job of the
worker's pass), so the table holds only what a client may still retry."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete

from api.models import IdempotencyRecord
from core.extensions import db


def forget_old_answers(now: datetime, stop=None) -> dict:
    """Delete the answers older than the setting; returns {"forgotten": n}."""
    horizon = now - timedelta(hours=current_app.config["API_IDEMPOTENCY_HOURS"])
    result = db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < horizon))
    db.session.commit()
    return {"forgotten": result.rowcount or 0}
