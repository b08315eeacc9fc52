"""What a campaign did, per variant (and its resend to non-openers), counted by the
database in a few grouped queries over nurture's message log: sent, delivered, opened,
clicked, unsubscribed (from the campaign's topic), bounced and complained; clicks per
link (the click map); and what it brought within a window after the send started: the
recipients who opened it and then became MQL (insights' definition of reaching a stage,
insights.stages.moved_to) and those who clicked it and then sent a form (a download, a
demo request…).

Clicks per link and complaints come from nurture's signals (mail_clicked with the link's
address, mail_complained) as rows of campaign_mail_events, written only for campaign mail.
"""

import html
import re
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, insert, literal, select

from campaigns.models import Campaign, MailEvent
from campaigns.services import campaign_template
from core.extensions import db
from core.timeutil import utcnow
from gated.models import Submission
from insights.models import Event
from insights.stages import moved_to
from nurture.models import Message

WINDOWS = (7, 30, 90)  # days after the send's start that the "brought" figures look at
DEFAULT_WINDOW = 30
FIGURES = (
    "queued",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "unsubscribed",
    "bounced",
    "complained",
    "mqls",
    "influenced",
)


def _complained(message_id):
    return exists().where(MailEvent.message_id == message_id, MailEvent.kind == "complaint")


def _rows(where, started_at: datetime | None, window_days: int):
    """One row per message template (a campaign's variant, or its resend) matching
    `where`, with every figure as a column."""
    start = started_at or datetime(1970, 1, 1)
    end = start + timedelta(days=window_days)
    complained = _complained(Message.id)
    became_mql = exists().where(
        Event.lead_id == Message.lead_id, moved_to("mql"), Event.occurred_at >= start, Event.occurred_at < end
    )
    sent_form = exists().where(
        Submission.lead_id == Message.lead_id, Submission.created_at >= start, Submission.created_at < end
    )

    def leads_where(condition):
        return func.count(func.distinct(case((condition, Message.lead_id), else_=None)))

    return db.session.execute(
        select(
            Message.template,
            func.count(),
            func.count(Message.sent_at),
            func.count(case((and_(Message.sent_at.is_not(None), Message.bounced_at.is_(None)), 1))),
            func.count(Message.opened_at),
            func.count(Message.clicked_at),
            func.count(Message.unsubscribed_at),
            func.count(case((and_(Message.bounced_at.is_not(None), ~complained), 1))),
            func.count(case((complained, 1))),
            leads_where(and_(Message.opened_at.is_not(None), became_mql)),
            leads_where(and_(Message.clicked_at.is_not(None), sent_form)),
        )
        .where(where)
        .group_by(Message.template)
    ).all()


def variant_figures(campaign: Campaign, *, window_days: int = DEFAULT_WINDOW) -> list[dict]:
    """Per variant (in order), then the resend when it has one: the figures, with
    "label" the variant's index (0…) or "resend" and "subject"."""
    prefix = campaign_template(campaign.id)
    found = {
        template[len(prefix) :]: dict(zip(FIGURES, row, strict=True))
        for template, *row in _rows(Message.template.startswith(prefix), campaign.started_at, window_days)
    }
    empty = dict.fromkeys(FIGURES, 0)
    out = [
        {"label": index, "subject": variant["subject"], **found.get(str(index), empty)}
        for index, variant in enumerate(campaign.variants)
    ]
    if campaign.resend_after_minutes:
        out.append({"label": "resend", "subject": campaign.resend_subject, **found.get("resend", empty)})
    return out


def totals(rows: list[dict]) -> dict:
    return {name: sum(row[name] for row in rows) for name in FIGURES}


def comparison(*, window_days: int = DEFAULT_WINDOW) -> list[dict]:
    """Every started campaign's totals, newest first, for the comparison page (one
    grouped query per campaign: each has its own window, from its own start)."""
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.started_at.is_not(None)).order_by(Campaign.started_at.desc())
    ).all()
    return [
        {"campaign": campaign, **totals(variant_figures(campaign, window_days=window_days))}
        for campaign in campaigns
    ]


def link_clicks(campaign: Campaign) -> dict[str, dict[str, int]]:
    """Per variant label ("0", "1", "resend") and link address: clicks."""
    prefix = campaign_template(campaign.id)
    rows = db.session.execute(
        select(Message.template, MailEvent.url, func.count())
        .join(Message, Message.id == MailEvent.message_id)
        .where(MailEvent.kind == "click", Message.template.startswith(prefix))
        .group_by(Message.template, MailEvent.url)
    )
    clicks: dict[str, dict[str, int]] = {}
    for template, url, count in rows:
        clicks.setdefault(template[len(prefix) :], {})[url] = count
    return clicks


LINK = re.compile(r'(<a\b[^>]*\bhref="([^"]*)"[^>]*>.*?</a>)', re.DOTALL | re.IGNORECASE)
BADGE = (
    "display:inline-block;margin-left:6px;padding:1px 8px;border-radius:10px;background:#fde68a;"
    "color:#111827;font:600 12px/1.6 sans-serif;"
)


def click_map(counts: dict[str, int], label):
    """What annotates a rendered mail: after each link, a badge with its clicks."""

    def annotate(mail_html: str) -> str:
        def badge(match) -> str:
            clicks = counts.get(html.unescape(match.group(2)), 0)
            return f'{match.group(1)}<span style="{BADGE}">{html.escape(label(clicks))}</span>'

        return LINK.sub(badge, mail_html)

    return annotate


def on_clicked(sender, message_id=None, url="", **extra) -> None:
    """A click on a campaign's mail, kept with the link's address (one INSERT … SELECT
    that writes nothing for other mail)."""
    _record(message_id, "click", url or "")


def on_complained(sender, message_id=None, **extra) -> None:
    _record(message_id, "complaint", "")


def _record(message_id, kind: str, url: str) -> None:
    if message_id is None:
        return
    db.session.execute(
        insert(MailEvent).from_select(
            ["message_id", "kind", "url", "occurred_at"],
            select(Message.id, literal(kind), literal(url), literal(utcnow())).where(
                Message.id == message_id, Message.template.startswith("campaign:")
            ),
        )
    )
