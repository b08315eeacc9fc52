"""A lead's stage (new, engaged, MQL, SQL…): one lead, many at once from the list, or
inside another service's transaction; each move sends lead_stage_changed and queues the
webhook."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from core.extensions import db
from gated import signals, webhooks
from gated.leads import NotFound
from gated.models import STAGES, Lead


def change_stage(lead_id: int, new: str, *, now: datetime) -> Lead:
    """Move a lead to another stage; sends lead_stage_changed and queues the webhook."""
    if new not in STAGES:
        raise ValueError(new)
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("lead")
    if set_stage(lead, new, now=now):
        db.session.commit()
    return lead


def change_stages(lead_ids: list[int], new: str, *, now: datetime) -> int:
    """Move many leads (the list's bulk action) to `new` in one transaction, each with its
    signal and webhook as one move would; the number that moved."""
    if new not in STAGES:
        raise ValueError(new)
    moved = 0
    for lead in db.session.scalars(select(Lead).where(Lead.id.in_(lead_ids)).order_by(Lead.id)):
        moved += set_stage(lead, new, now=now)
    db.session.commit()
    return moved


def set_stage(lead: Lead, new: str, *, now: datetime) -> bool:
    """Inside the caller's transaction: the stage, its signal and webhook. False if the
    lead was in that stage already."""
    old = lead.stage
    if old == new:
        return False
    lead.stage = new
    lead.updated_at = now
    signals.lead_stage_changed.send(current_app._get_current_object(), lead_id=lead.id, old=old, new=new)
    webhooks.enqueue("lead.stage_changed", lead, now=now, extra={"old_stage": old, "new_stage": new})
    return True
