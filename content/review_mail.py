"""The weekly review reminder: each owner and team member with published articles due
for review (overdue, or due within two weeks) gets one mail a week listing them, sent by
the worker's first pass of the week (or `flask content review-mail`).

Exactly once per week: a row per (week, address) in review_mails, written in the same
transaction as the queued mails, under a unique key, and a row with an empty address
marks the week's run as done, so later passes of the worker do nothing until Monday
(UTC) and two workers at the same moment queue the week's mails once between them.
"""

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import Date, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from content import freshness, signals
from content.teams import TeamMember
from core.extensions import db
from core.timeutil import utcnow

TEMPLATE = "content/email/review_due"
WEEK_DONE = ""


class ReviewMail(db.Model):
    __tablename__ = "review_mails"
    __table_args__ = (UniqueConstraint("week", "email", name="uq_review_mails_week_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[date] = mapped_column(Date)
    email: Mapped[str] = mapped_column(String(254), default="")
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


def week_of(now: datetime) -> date:
    return now.date() - timedelta(days=now.weekday())


def _recipients(rows: list[freshness.DueArticle]) -> dict[str, list[freshness.DueArticle]]:
    """Each active editor's or admin's share of the queue: the articles they own and
    those of their teams."""
    from accounts.models import User

    members: dict[int, set[int]] = {}
    for team_id, user_id in db.session.execute(select(TeamMember.team_id, TeamMember.user_id)):
        members.setdefault(team_id, set()).add(user_id)
    people = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.active.is_(True), User.role.in_(("admin", "editor")))
        )
    }
    shares: dict[str, list[freshness.DueArticle]] = {}
    for row in rows:
        readers = set(members.get(row.article.team_id, ())) | {row.article.owner_id}
        for user_id in readers:
            if user_id in people:
                shares.setdefault(people[user_id].email, []).append(row)
    return shares


def _item(row: freshness.DueArticle) -> dict:
    return {
        "title": row.article.title,
        "path": f"/admin/content/{row.article.id}",
        "due": row.due.date().isoformat(),
        "overdue": row.overdue,
    }


def send_review_mail(*, now: datetime) -> tuple[int, bool]:
    """Queue this week's reminders, unless this week's were queued already. Returns
    (mails queued, whether this call did the week's run)."""
    week = week_of(now)
    if db.session.scalar(select(ReviewMail.id).where(ReviewMail.week == week, ReviewMail.email == WEEK_DONE)):
        return 0, False
    shares = _recipients(freshness.review_queue(now=now))
    locale = current_app.config["DEFAULT_LOCALE"].replace("_", "-")
    app = current_app._get_current_object()
    for address, rows in sorted(shares.items()):
        context = {"week": week.isoformat(), "items": [_item(row) for row in rows], "locale": locale}
        signals.staff_mail_requested.send(app, to=address, template=TEMPLATE, context=context, now=now)
        db.session.add(ReviewMail(week=week, email=address, sent_at=now))
    db.session.add(ReviewMail(week=week, email=WEEK_DONE, sent_at=now))
    try:
        db.session.commit()
    except IntegrityError:
        # Another worker did the week's run at the same moment: its mails stand, ours go.
        db.session.rollback()
        return 0, False
    return len(shares), True


def weekly_job(now: datetime, stop=None) -> dict:
    """The worker's job (core.hooks.add_background_job): the week's run, once."""
    queued, ran = send_review_mail(now=now)
    return {"review_mails": queued} if ran else {}
