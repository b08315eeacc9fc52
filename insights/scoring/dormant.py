"""The dormant pool: `flask insights dormant` (daily from cron) decays idle scores and
moves leads idle for SCORING_DORMANT_DAYS here; any new activity brings one back (engine)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from core.extensions import db
from gated.models import Lead
from insights.scoring.engine import config, decay
from insights.scoring.models import LeadScoring


def sweep(*, now: datetime) -> dict:
    """Decay every scored lead to `now` and move leads idle for SCORING_DORMANT_DAYS to
    the dormant pool. Returns {"decayed", "dormant"}."""
    cutoff = now - timedelta(days=config("SCORING_DORMANT_DAYS"))
    counts = {"decayed": 0, "dormant": 0}
    days = [d for d in (config("SCORING_DECAY_DAYS"), config("SCORING_DORMANT_DAYS")) if d > 0]
    idle_since = now - timedelta(days=min(days or [0]))
    rows = db.session.execute(
        select(LeadScoring, Lead)
        .join(Lead, Lead.id == LeadScoring.lead_id)
        .where(LeadScoring.last_activity_at <= idle_since)
    ).all()
    for state, lead in rows:
        if decay(lead, state, now):
            counts["decayed"] += 1
        if state.dormant_at is None and state.last_activity_at < cutoff:
            state.dormant_at = now
            counts["dormant"] += 1
    db.session.commit()
    return counts


def dormant_leads(limit: int = 200):
    return db.session.execute(
        select(Lead, LeadScoring)
        .join(LeadScoring, LeadScoring.lead_id == Lead.id)
        .where(LeadScoring.dormant_at.is_not(None))
        .order_by(LeadScoring.dormant_at.desc())
        .limit(limit)
    ).all()
