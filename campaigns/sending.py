"""A campaign's send, through nurture's queue: the recipients are fixed and their mails
queued in a few set-based statements, then nurture's worker delivers them with every
guarantee it has (claim with lease, suppression checked up to the last moment, rate
limits, DKIM, List-Unsubscribe).

Exactly once per recipient is kept by the database:
- a send starts by an UPDATE of the campaign guarded by its status, so two workers (or
  a worker and the command) cannot both start it;
- the recipients are one INSERT … SELECT into a table unique on (campaign, lead), with
  their place in a random order and the variant of each, fixed there once: in the test
  sample the variants take turns by that place, so each recipient has exactly one;
- their messages are one INSERT … SELECT from the rows with a variant, in the same
  transaction;
- the winner of a test is decided by an UPDATE guarded by `winner IS NULL`; in that same
  transaction the recipients still without a variant get the winner's mail and then the
  winner as their variant.
A message names its campaign and variant in its `template` ("campaign:<id>:<variant>"),
which is how campaigns.render_message knows what it says.
"""

import logging
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import String, and_, case, cast, func, insert, literal, select, update

from campaigns import audience, localhour
from campaigns.models import Campaign, Recipient
from campaigns.services import campaign_template
from campaigns.validation import audience_rules, sample_size
from core.extensions import db
from gated.models import Lead
from nurture import compose, topics
from nurture.models import PRIORITY, Message

log = logging.getLogger(__name__)


class NotStartable(ValueError):
    """The campaign is not a draft or a scheduled send (already started, or cancelled)."""


def start(campaign_id: int, *, now: datetime) -> int:
    """Fix the recipients of a draft or scheduled campaign and queue their mail (for a
    test with a sample under 100%: the sample's only); commits. How many recipients."""
    won = db.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status.in_(("draft", "scheduled")))
        .values(status="sending", started_at=now, updated_at=now)
    ).rowcount
    if won != 1:
        db.session.rollback()
        raise NotStartable(campaign_id)
    campaign = db.session.get(Campaign, campaign_id)
    who = and_(
        audience.condition(audience_rules(campaign.audience, campaign.exclude), now=now),
        topics.leads_receiving(campaign.topic_id),
    )
    # The sample's size from a count first, so that each row's variant is written by the
    # INSERT itself (an UPDATE of every row after it cost as much again). A lead joining
    # between the two statements only moves the sample's edge by one.
    total = db.session.scalar(select(func.count()).select_from(Lead).where(who))
    in_sample = sample_size(total, campaign.sample_percent)
    ranked = select(Lead.id.label("lead_id"), func.row_number().over(order_by=func.random()).label("place"))
    ranked = ranked.where(who).subquery()
    variant = case((ranked.c.place <= in_sample, (ranked.c.place - 1) % len(campaign.variants)), else_=None)
    db.session.execute(
        insert(Recipient).from_select(
            ["campaign_id", "lead_id", "position", "variant"],
            select(literal(campaign.id), ranked.c.lead_id, ranked.c.place, variant),
        )
    )
    # Counted again (psycopg gives no rowcount for INSERT … SELECT): the recipients fixed.
    total = db.session.scalar(select(func.count()).where(Recipient.campaign_id == campaign.id))
    _queue(campaign, Recipient.variant, Recipient.variant.is_not(None), now)
    if in_sample >= total:
        campaign.status = "sent"
    db.session.commit()
    return total


def _queue(campaign: Campaign, variant, which, now: datetime) -> None:
    """One INSERT … SELECT of the messages of the campaign's recipients `which`, each of
    `variant` (a column, or the winner). Each recipient is queued once because the
    callers' sets never meet: the start queues those with a variant, the decision (once,
    guarded) those without."""
    template = literal(campaign_template(campaign.id)) + cast(variant, String)
    chosen = select(Recipient.lead_id).join(Lead, Lead.id == Recipient.lead_id)
    chosen = chosen.where(Recipient.campaign_id == campaign.id, which)
    rows = chosen.with_only_columns(
        literal("campaign"),
        literal(PRIORITY["campaign"]),
        Recipient.lead_id,
        Lead.email,
        literal(campaign.topic_id),
        template,
        literal("queued"),
        localhour.due_at(campaign, now=now, rows=chosen),
        literal(now),
    )
    db.session.execute(
        insert(Message).from_select(
            [
                "kind",
                "priority",
                "lead_id",
                "to_address",
                "topic_id",
                "template",
                "status",
                "next_attempt_at",
                "created_at",
            ],
            rows,
        )
    )


def figures(campaign: Campaign) -> list[dict]:
    """Per variant: recipients so far, mails sent, opened and clicked."""
    prefix = campaign_template(campaign.id)
    rows = db.session.execute(
        select(
            Message.template,
            func.count(),
            func.count(Message.sent_at),
            func.count(Message.opened_at),
            func.count(Message.clicked_at),
        )
        .where(Message.template.startswith(prefix))
        .group_by(Message.template)
    ).all()
    found = {template[len(prefix) :]: row for template, *row in rows}
    return [
        dict(
            zip(
                ("variant", "queued", "sent", "opened", "clicked"),
                (index, *found.get(str(index), (0, 0, 0, 0))),
                strict=True,
            )
        )
        for index in range(len(campaign.variants))
    ]


def decide(campaign_id: int, *, now: datetime) -> int | None:
    """When the test's wait is over: the winner by the campaign's metric (a tie goes to
    the first variant), queued to every recipient still without a variant; commits.
    The winner's index, or None when it is not time (or it was decided already)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign.status != "sending" or campaign.started_at + timedelta(minutes=campaign.wait_minutes) > now:
        return None
    key = "opened" if campaign.metric == "opens" else "clicked"
    scores = [row[key] for row in figures(campaign)]
    winner = scores.index(max(scores))  # index() finds the first of equals: the control wins a tie
    won = db.session.execute(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.winner.is_(None), Campaign.status == "sending")
        .values(winner=winner, decided_at=now, status="sent", updated_at=now)
    ).rowcount
    if won != 1:
        db.session.rollback()
        return None
    _queue(campaign, literal(winner), Recipient.variant.is_(None), now)
    db.session.execute(
        update(Recipient)
        .where(Recipient.campaign_id == campaign.id, Recipient.variant.is_(None))
        .values(variant=winner)
    )
    db.session.commit()
    return winner


def due(now: datetime) -> None:
    """Start every scheduled campaign whose time has come, and decide every test whose
    wait is over. Each in its own transaction: one campaign's fault (logged) never holds
    the others, nor the delivery pass this runs before."""
    scheduled = db.session.scalars(
        select(Campaign.id).where(Campaign.status == "scheduled", Campaign.send_at <= now)
    ).all()
    testing = db.session.scalars(
        select(Campaign.id).where(Campaign.status == "sending", Campaign.winner.is_(None))
    ).all()
    for action, ids in ((start, scheduled), (decide, testing)):
        for campaign_id in ids:
            try:
                action(campaign_id, now=now)
            except NotStartable:
                continue  # another worker started it first
            except Exception:
                db.session.rollback()
                log.exception("campaign %s: %s failed", campaign_id, action.__name__)


def on_pass_started(sender, now: datetime, **extra) -> None:
    due(now)


def render_message(message):
    """What a campaign's message says: its variant's subject and body (the campaign's
    body when the variant has none), personalised like a sequence step."""
    _kind, campaign_id, variant = message.template.split(":")
    campaign = db.session.get(Campaign, int(campaign_id))
    chosen = campaign.variants[int(variant)]
    content = SimpleNamespace(subject=chosen["subject"], body=chosen.get("body") or campaign.body)
    return compose.compose_step(
        content,
        message.lead,
        message_id=message.id,
        asset_id=None,
        locale=campaign.locale,
        link_tags=link_tags(campaign),
    )


def link_tags(campaign: Campaign) -> dict[str, str]:
    """The utm_* parameters of a campaign's links to the site, so the visits and leads it
    brings are attributed to it (a lead's first and last campaign, the segments' rules);
    CAMPAIGN_UTM_SOURCE = "" leaves links untagged."""
    source = current_app.config["CAMPAIGN_UTM_SOURCE"]
    return {"utm_source": source, "utm_medium": "email", "utm_campaign": campaign.slug} if source else {}
