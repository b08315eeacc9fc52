"""Resend to non-openers: a campaign's follow-up, `resend_after_minutes` after its first
mails were all queued (at the start, or at the test's decision), to the recipients who
were sent the campaign and opened none of its mail, with `resend_subject` and the body
of the variant each of them got.

Exactly once per recipient, like the send itself: the follow-up starts with an UPDATE
guarded by `resend_queued_at IS NULL`, and its messages are one INSERT … SELECT in the
same transaction that also leaves out anyone who already has one. They go through
nurture's queue as campaign mail ("campaign:<id>:resend"), so suppressions, unsubscribes,
rate limits and cancelling the campaign apply to them as to the first mail.
"""

import logging
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import and_, exists, literal, select, update
from sqlalchemy.orm import aliased

from campaigns import sending
from campaigns.models import Campaign, Recipient
from campaigns.services import campaign_template
from core.extensions import db
from nurture import compose
from nurture.models import Message

log = logging.getLogger(__name__)
RESEND = "resend"


def resend_template(campaign_id: int) -> str:
    return campaign_template(campaign_id) + RESEND


def due_at(campaign: Campaign) -> datetime | None:
    """When the follow-up goes: after the wait, counted from when every first mail was
    queued (the test's decision, or the start)."""
    base = campaign.decided_at or campaign.started_at
    if not campaign.resend_after_minutes or base is None:
        return None
    return base + timedelta(minutes=campaign.resend_after_minutes)


def queue_resend(campaign_id: int, *, now: datetime) -> int | None:
    """Queue the follow-up to the non-openers once; commits. How many were queued, or
    None when it is not time (or it was queued already)."""
    campaign = db.session.get(Campaign, campaign_id)
    when = due_at(campaign) if campaign is not None else None
    if when is None or when > now or campaign.status != "sent" or campaign.resend_queued_at:
        return None
    won = db.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.resend_queued_at.is_(None), Campaign.status == "sent")
        .values(resend_queued_at=now, updated_at=now)
    ).rowcount
    if won != 1:
        db.session.rollback()
        return None
    prefix = campaign_template(campaign.id)
    template = resend_template(campaign.id)
    first = aliased(Message)
    mine = and_(first.lead_id == Recipient.lead_id, first.template.startswith(prefix))
    was_sent = exists().where(mine, first.sent_at.is_not(None), first.template != template)
    opened = exists().where(mine, first.opened_at.is_not(None))
    resent = exists().where(mine, first.template == template)
    # The template is "campaign:<id>:" + "resend", as sending writes "campaign:<id>:<variant>".
    sending._queue(campaign, literal(RESEND), and_(was_sent, ~opened, ~resent), now)
    db.session.commit()
    return db.session.scalar(select(db.func.count()).where(Message.template == template))


def due(now: datetime) -> None:
    """Queue every follow-up whose time has come, each in its own transaction."""
    waiting = db.session.scalars(
        select(Campaign.id).where(
            Campaign.status == "sent",
            Campaign.resend_after_minutes.is_not(None),
            Campaign.resend_queued_at.is_(None),
        )
    ).all()
    for campaign_id in waiting:
        try:
            queue_resend(campaign_id, now=now)
        except Exception:
            db.session.rollback()
            log.exception("campaign %s: the resend to non-openers failed", campaign_id)


def on_pass_started(sender, now: datetime, **extra) -> None:
    due(now)


def render_message(message):
    """A campaign message: the follow-up (its own subject, the body of the recipient's
    variant), or the first mail as campaigns.sending renders it."""
    if not message.template.endswith(":" + RESEND):
        return sending.render_message(message)
    campaign_id = int(message.template.split(":")[1])
    campaign = db.session.get(Campaign, campaign_id)
    variant = db.session.scalar(
        select(Recipient.variant).where(
            Recipient.campaign_id == campaign_id, Recipient.lead_id == message.lead.id
        )
    )
    chosen = campaign.variants[variant or 0]
    content = SimpleNamespace(subject=campaign.resend_subject, body=chosen.get("body") or campaign.body)
    return compose.compose_step(
        content,
        message.lead,
        message_id=message.id,
        asset_id=None,
        locale=campaign.locale,
        link_tags=sending.link_tags(campaign),
    )
