"""The weekly digest mail to marketers: new leads, MQLs, top content and channels,
searches with no results, each compared with the week before. Queued through nurture's
mail queue like every other mail (one message per marketer, no lead attached), once per
address and week (insight_sent_digests)."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.localtime import day_of, site_zone
from insights import dashboards, stages
from insights.models import SentDigest

TEMPLATE = "insights/email/digest"
DIGEST_ROLES = ("marketer", "admin")
TOP = 5


def _change(now_value: int, before: int) -> dict:
    return {"now": now_value, "before": before, "delta": now_value - before}


def _new_leads(filters: dashboards.Filters) -> int:
    return sum(stages.new_leads(*filters.period, by=()).values())


def _mqls(filters: dashboards.Filters) -> int:
    return stages.stages_reached(*filters.period).get(("mql",), 0)


def figures(*, now: datetime) -> dict:
    """The digest's figures for the seven days before `now`'s day in the site's zone
    (JSON values only, as a queued mail's context must be)."""
    until = day_of(now, site_zone()) - timedelta(days=1)
    week = dashboards.Filters(until - timedelta(days=6), until)
    before = week.before()
    channels_before = {row["channel"]: row["leads"] for row in dashboards.channels(before).rows}
    return {
        "since": week.since.isoformat(),
        "until": week.until.isoformat(),
        "leads": _change(_new_leads(week), _new_leads(before)),
        "mqls": _change(_mqls(week), _mqls(before)),
        "channels": [
            {"channel": row["channel"], **_change(row["leads"], channels_before.get(row["channel"], 0))}
            for row in dashboards.channels(week).rows[:TOP]
        ],
        "content": [
            {"title": row["title"], "path": row["path"], "leads": row["leads"], "assisted": row["assisted"]}
            for row in dashboards.top_content(week, limit=TOP).rows
        ],
        "searches": [
            {"query": row["query"], "searches": row["searches"]}
            for row in dashboards.zero_result_searches(week, limit=TOP).rows
        ],
    }


def recipients() -> list[str]:
    """The addresses of active staff who read the figures (marketers and admins)."""
    from accounts.models import User

    return list(
        db.session.scalars(
            select(User.email).where(User.active.is_(True), User.role.in_(DIGEST_ROLES)).order_by(User.id)
        )
    )


def send_digest(*, now: datetime, force: bool = False) -> tuple[int, int]:
    """Queue this week's digest to every marketer and admin who has not had it this week
    (`force`: to all of them again). Returns (queued, skipped as already sent)."""
    from nurture.mailqueue import add_mail

    today = day_of(now, site_zone())
    week = today - timedelta(days=today.weekday())
    sent = {
        record.email: record
        for record in db.session.scalars(select(SentDigest).where(SentDigest.week == week))
    }
    everyone = recipients()
    addresses = [address for address in everyone if force or address not in sent]
    if addresses:
        context = figures(now=now)
        context["locale"] = current_app.config["DEFAULT_LOCALE"].replace("_", "-")
        for address in addresses:
            add_mail(to=address, template=TEMPLATE, context=context, now=now, kind="staff")
            record = sent.get(address) or SentDigest(email=address, week=week)
            record.sent_at = now
            db.session.add(record)
    try:
        db.session.commit()
    except IntegrityError:
        # The mails and their records commit together: a second run at the same time fails
        # on the unique key and queues nothing.
        db.session.rollback()
        raise
    return len(addresses), len(everyone) - len(addresses)
