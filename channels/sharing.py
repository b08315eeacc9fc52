"""全员营销: every staff member and every named partner gets a personal short link to any
article; visits and leads through it are credited to the sharer.

The credit travels as the visit's utm_content (s-<code>, channels.links), so it reaches
the submission like any utm tag; when gated stores the submission (lead_captured, inside
its transaction) credit_lead records which link brought it. The leaderboard and a
sharer's own figures are set-based sums of the day rows and those credits.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from channels.links import new_code
from channels.models import CONTENT_PREFIX, LinkDay, LinkLead, Partner, ShortLink
from channels.sitedays import day_start
from content.models import Article
from core.extensions import db
from core.schema import upsert_insert
from gated.models import Submission

STAFF_CHANNEL = "staff"
PARTNER_CHANNEL = "partner"
SHARE_CAMPAIGN = "share"


class PartnerError(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def save_partner(name: str, contact: str, *, now: datetime) -> Partner:
    """Name a partner (unique name). Raises PartnerError; stores nothing then."""
    name, contact = (name or "").strip(), (contact or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Enter the partner's name.")
    elif len(name) > 120:
        errors["name"] = _("At most %(num)d characters.", num=120)
    elif db.session.scalar(select(Partner.id).where(Partner.name == name)) is not None:
        errors["name"] = _("A partner of this name exists.")
    if len(contact) > 200:
        errors["contact"] = _("At most %(num)d characters.", num=200)
    if errors:
        raise PartnerError(errors)
    partner = Partner(name=name, contact=contact, created_at=now)
    db.session.add(partner)
    db.session.commit()
    return partner


def share_link(
    article: Article, *, now: datetime, user_id: int | None = None, partner_id: int | None = None
) -> ShortLink:
    """The personal link of a staff user or a partner to an article, made on first use.
    Two requests at once make one link: the share key is unique and the insert yields."""
    key = f"u{user_id}:a{article.id}" if user_id else f"p{partner_id}:a{article.id}"
    found = db.session.scalar(select(ShortLink).where(ShortLink.share_key == key))
    if found is not None:
        return found
    while True:
        code = new_code()
        inserted = db.session.execute(
            upsert_insert(db.session.get_bind(), ShortLink.__table__)
            .values(
                code=code,
                target=article.url_path,
                channel=STAFF_CHANNEL if user_id else PARTNER_CHANNEL,
                campaign=SHARE_CAMPAIGN,
                owner_id=user_id,
                sharer_user_id=user_id,
                partner_id=partner_id,
                article_id=article.id,
                share_key=key,
                clicks=0,
                scans=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
        ).rowcount
        db.session.commit()
        found = db.session.scalar(select(ShortLink).where(ShortLink.share_key == key))
        if inserted or found is not None:
            return found


def credit_lead(sender, *, submission_id=None, lead_id=None, **_extra) -> None:
    """lead_captured receiver (inside gated's transaction): a submission whose utm_content
    names one of our links is credited to it, once."""
    if submission_id is None:
        return
    submission = db.session.get(Submission, submission_id)
    content = str((submission.utm or {}).get("utm_content") or "") if submission is not None else ""
    if not content.startswith(CONTENT_PREFIX):
        return
    link_id = db.session.scalar(select(ShortLink.id).where(ShortLink.code == content[len(CONTENT_PREFIX) :]))
    if link_id is None:
        return
    db.session.execute(
        upsert_insert(db.session.get_bind(), LinkLead.__table__)
        .values(
            link_id=link_id,
            lead_id=submission.lead_id,
            submission_id=submission.id,
            created_at=submission.created_at,
        )
        .on_conflict_do_nothing(index_elements=["submission_id"])
    )


def credits_of(lead_id: int) -> list[LinkLead]:
    """The links that brought a lead's submissions, oldest first."""
    return db.session.scalars(
        select(LinkLead).where(LinkLead.lead_id == lead_id).order_by(LinkLead.created_at, LinkLead.id)
    ).all()


def week_start(day: date) -> date:
    """The Monday of `day`'s week (days are the site's: channels.sitedays)."""
    return day - timedelta(days=day.weekday())


@dataclass
class Standing:
    """One line of a leaderboard: a sharer (or an article) and its figures."""

    key: tuple
    label: str
    visits: int = 0
    leads: int = 0
    article_id: int | None = None


def _visits(group, *, start: date, end: date, where=()):
    return db.session.execute(
        select(*group, func.sum(LinkDay.clicks + LinkDay.scans))
        .join(ShortLink, ShortLink.id == LinkDay.link_id)
        .where(LinkDay.day >= start, LinkDay.day < end, *where)
        .group_by(*group)
    ).all()


def _leads(group, *, start: date, end: date, where=()):
    return db.session.execute(
        select(*group, func.count(func.distinct(LinkLead.lead_id)))
        .join(ShortLink, ShortLink.id == LinkLead.link_id)
        .where(
            LinkLead.created_at >= day_start(start),
            LinkLead.created_at < day_start(end),
            *where,
        )
        .group_by(*group)
    ).all()


def _standings(group, labels, *, start, end, where=()) -> list[Standing]:
    rows: dict[tuple, Standing] = {}
    for *key, visits in _visits(group, start=start, end=end, where=where):
        rows.setdefault(tuple(key), Standing(tuple(key), "")).visits = int(visits or 0)
    for *key, leads in _leads(group, start=start, end=end, where=where):
        rows.setdefault(tuple(key), Standing(tuple(key), "")).leads = int(leads or 0)
    for standing in rows.values():
        standing.label = labels(standing.key)
    return sorted(rows.values(), key=lambda s: (-s.leads, -s.visits, s.label))


def sharer_board(*, start: date, days: int = 7, article_id: int | None = None) -> list[Standing]:
    """The sharers of the `days` from `start`, most leads first (then visits)."""
    from accounts.models import User

    where = [ShortLink.share_key.is_not(None)]
    if article_id is not None:
        where.append(ShortLink.article_id == article_id)
    group = (ShortLink.sharer_user_id, ShortLink.partner_id)
    users = {u.id: u.name or u.email for u in db.session.scalars(select(User))}
    partners = {p.id: p.name for p in db.session.scalars(select(Partner))}

    def label(key):
        user_id, partner_id = key
        return (
            users.get(user_id, "") if user_id else _("%(name)s (partner)", name=partners.get(partner_id, ""))
        )

    return _standings(group, label, start=start, end=start + timedelta(days=days), where=where)


def content_board(*, start: date, days: int = 7) -> list[Standing]:
    """The articles shared in the `days` from `start`, by leads then visits."""
    where = [ShortLink.share_key.is_not(None)]
    titles = dict(
        db.session.execute(
            select(Article.id, Article.title).where(
                Article.id.in_(select(ShortLink.article_id).where(ShortLink.share_key.is_not(None)))
            )
        ).all()
    )
    board = _standings(
        (ShortLink.article_id,),
        lambda key: titles.get(key[0], ""),
        start=start,
        end=start + timedelta(days=days),
        where=where,
    )
    for standing in board:
        standing.article_id = standing.key[0]
    return board


def figures_of_user(user_id: int, *, today: date) -> dict:
    """A sharer's own figures: this week's and all-time visits and leads."""
    where = [ShortLink.sharer_user_id == user_id]
    start = week_start(today)
    week = _standings(
        (ShortLink.sharer_user_id,), str, start=start, end=start + timedelta(days=7), where=where
    )
    ever = _standings(
        (ShortLink.sharer_user_id,), str, start=date(2000, 1, 1), end=today + timedelta(days=1), where=where
    )
    links = db.session.scalar(select(func.count()).select_from(ShortLink).where(*where))
    this_week = week[0] if week else Standing((), "")
    all_time = ever[0] if ever else Standing((), "")
    return {
        "links": links or 0,
        "week_visits": this_week.visits,
        "week_leads": this_week.leads,
        "visits": all_time.visits,
        "leads": all_time.leads,
    }
