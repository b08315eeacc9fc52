"""Cleaned segment rules (campaigns.rules) as one SQL condition over the leads table.

Nothing here loops over leads: every condition is a column comparison or a correlated
EXISTS over the table that records the behaviour, so the database counts a segment of
100,000 leads as one query (bench/segment_count.py) on SQLite and PostgreSQL alike.

Behaviour is read where it is kept for good: downloads, submissions and mails from their
own tables (never pruned); page views, searches and stage changes from insights' raw
events (kept INSIGHTS_RETENTION_DAYS, so a `within` longer than that sees only what is
kept).
"""

from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)

from accounts.models import User
from campaigns import rules as rule_language
from campaigns.models import Campaign
from core.extensions import db
from core.timeutil import to_naive_utc
from gated.models import Asset, Download, Lead, LeadTag, Submission
from insights.models import Event
from insights.scoring.models import Handoff
from insights.stages import moved_to
from nurture import topics
from nurture.models import Message, Sequence, Topic


def _owner():
    """The email of the sales user of the lead's latest hand-off ("" when none)."""
    latest = (
        select(User.email)
        .join(Handoff, Handoff.owner_id == User.id)
        .where(Handoff.lead_id == Lead.id)
        .order_by(Handoff.created_at.desc(), Handoff.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(latest, "")


COLUMNS = {
    "email": lambda: Lead.email,
    "name": lambda: Lead.name,
    "company": lambda: Lead.company,
    "job_title": lambda: Lead.job_title,
    "phone": lambda: Lead.phone,
    "role": lambda: Lead.role,
    "stage": lambda: Lead.stage,
    "source": lambda: Lead.source,
    "owner": _owner,
    "first_channel": lambda: Lead.first_channel,
    "last_channel": lambda: Lead.last_channel,
    "first_campaign": lambda: Lead.first_utm_campaign,
    "last_campaign": lambda: Lead.last_utm_campaign,
    "score": lambda: Lead.score,
    "created": lambda: Lead.created_at,
    "last_touch": lambda: Lead.last_touch_at,
    "consent": lambda: Lead.marketing_consent,
    "locale": lambda: Lead.locale,
    "timezone": lambda: Lead.timezone,
}


def condition(rules: dict, *, now: datetime) -> ColumnElement[bool]:
    """The SQL condition on Lead of cleaned `rules` at `now` (naive UTC)."""
    [(kind, items)] = rules.items()
    parts = [_item(item, now) for item in items]
    if kind == "all":
        return and_(true(), *parts)
    matched = or_(false(), *parts)
    return matched if kind == "any" else not_(matched)


def members(rules: dict, *, now: datetime) -> Select:
    """The leads of `rules`, oldest first (a stable order for samples and exports)."""
    return select(Lead).where(condition(rules, now=now)).order_by(Lead.id)


def count(rules: dict, *, now: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(Lead).where(condition(rules, now=now)))


def sample(rules: dict, *, now: datetime, limit: int = 10) -> list[Lead]:
    return list(db.session.scalars(members(rules, now=now).limit(limit)))


def _item(item: dict, now: datetime) -> ColumnElement[bool]:
    if "field" in item:
        return _field(item, now)
    if "event" in item:
        return _event(item, now)
    return condition(item, now=now)


def _tags(op: str, value) -> ColumnElement[bool]:
    """Tags are rows (lead_tags), compared without case: an indexed EXISTS."""
    where = [LeadTag.lead_id == Lead.id]
    if op == "contains":
        where.append(func.lower(LeadTag.tag) == value.lower())
    elif op == "in":
        where.append(func.lower(LeadTag.tag).in_([one.lower() for one in value]))
    found = exists().where(*where)
    return not_(found) if op == "exists" and not value else found


def _topic(op: str, slug: str) -> ColumnElement[bool]:
    receives = topics.leads_receiving(select(Topic.id).where(Topic.slug == slug).scalar_subquery())
    return receives if op == "eq" else not_(receives)


def _field(item: dict, now: datetime) -> ColumnElement[bool]:
    field, op, value = item["field"], item["op"], item["value"]
    kind = rule_language.FIELDS[field]
    if kind == "tags":
        return _tags(op, value)
    if kind == "topic":
        return _topic(op, value)
    column = COLUMNS[field]()
    if kind == "time":
        if op == "exists":
            return column.is_not(None) if value else column.is_(None)
        moment = _moment(value, now)
        # Never NULL, so that `not` of it holds for a lead never touched.
        return and_(column.is_not(None), column >= moment if op == "gte" else column <= moment)
    if kind == "text":
        # Compared without case: "ACME" and "Acme" are one company to a marketer.
        column = func.lower(column)
        if op == "exists":
            return column != "" if value else column == ""
        if op == "contains":
            return column.contains(value.lower(), autoescape=True)
        value = [one.lower() for one in value] if op == "in" else value.lower()
    if op == "in":
        return column.in_(value)
    if op == "eq":
        return column == value
    if op == "ne":
        return column != value
    return column >= value if op == "gte" else column <= value


def _moment(value: str, now: datetime) -> datetime:
    minutes = rule_language.relative_time(value)
    if minutes is not None:
        return now - timedelta(minutes=minutes)
    moment = datetime.fromisoformat(value)
    return to_naive_utc(moment) if moment.tzinfo is not None else moment


def _event(item: dict, now: datetime) -> ColumnElement[bool]:
    event = item["event"]
    since = (
        now - timedelta(minutes=rule_language.within_minutes(item["within"])) if "within" in item else None
    )
    if event == "download":
        when, where = Download.created_at, [Download.lead_id == Lead.id]
        if "asset" in item:
            where.append(
                Download.asset_id == select(Asset.id).where(Asset.slug == item["asset"]).scalar_subquery()
            )
    elif event == "form_submit":
        when, where = Submission.created_at, [Submission.lead_id == Lead.id]
        if "form" in item:
            where.append(Submission.form == item["form"])
    elif event in ("mail_sent", "mail_open", "mail_click"):
        column = {"mail_sent": "sent_at", "mail_open": "opened_at", "mail_click": "clicked_at"}[event]
        when = getattr(Message, column)
        where = [Message.lead_id == Lead.id, when.is_not(None)]
        if "mail" in item:
            where.append(_mail(item["mail"]))
    else:
        when, where = Event.occurred_at, [Event.lead_id == Lead.id]
        if event == "page_view":
            where.append(Event.kind == "page_view")
            if "path" in item:
                where.append(Event.path.startswith(item["path"], autoescape=True))
        elif event == "search":
            where.append(Event.kind == "search")
            if "query" in item:
                where.append(func.lower(Event.value).contains(item["query"].lower(), autoescape=True))
        else:  # mql: the stage moved to mql, whatever it came from
            where.append(moved_to("mql"))
    if since is not None:
        where.append(when >= since)
    return exists().where(*where)


def _mail(slug: str) -> ColumnElement[bool]:
    """A mail of the sequence or of the campaign called `slug` (a campaign's messages
    name it in their template: campaigns.services.campaign_template)."""
    campaign = select(Campaign.id).where(Campaign.slug == slug).scalar_subquery()
    return or_(
        Message.sequence_id == select(Sequence.id).where(Sequence.slug == slug).scalar_subquery(),
        Message.template.startswith(literal("campaign:") + cast(campaign, String) + ":"),
    )
