"""Review-by dates: when a published article should be checked again, the queue of what
is due, and "verify" (someone confirmed it is still right, with an optional note kept in
the article's verification history).

An article's review date is `review_by`: set by hand in the editor, else on publishing
through the workflow (the publish date plus its kind's interval) and on each verify (that
day plus the interval). An article without one (imported as published, or from before
review dates) is due its kind's interval after its last verification, else its publish
date: computed, never stored, so an import stays idempotent. Months are calendar months: 31 August plus six months is 28 (or 29) February.

The queue holds published articles due within DUE_SOON or overdue. Signals other
packages register (add_queue_signal: help articles the assistant offered that visitors
said did not help, pages people left to search again) lift an article in it: each one
counts as SIGNAL_DAYS days overdue. Both are set-based queries: one for the due
articles, one UNION ALL of every signal's counts for them.
"""

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Mapped, mapped_column

from content.models import KINDS, Article
from core.extensions import db
from core.timeutil import utcnow

DUE_SOON = timedelta(days=14)
SIGNAL_DAYS = 30
SIGNAL_WINDOW = timedelta(days=90)
NOTE_MAX = 500
EXTENSION = "lodestar.review_signals"
# A month's end clamps the day by up to three days (31 August + 6 months = 28 February).
CLAMP_SLACK = timedelta(days=4)


class Verification(db.Model):
    """Someone confirmed the article is still right."""

    __tablename__ = "article_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(String(NOTE_MAX), default="")


@dataclass(frozen=True)
class QueueSignal:
    name: str
    label: object
    counts: Callable[[datetime], object]


@dataclass
class DueArticle:
    article: Article
    due: datetime
    overdue: bool
    days_overdue: float = 0.0
    signals: dict = field(default_factory=dict)

    @property
    def priority(self) -> float:
        return sum(self.signals.values()) * SIGNAL_DAYS + self.days_overdue


class VerifyError(Exception):
    pass


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus calendar months, the day clamped to the target month's last."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def add_queue_signal(app, name: str, label, counts: Callable[[datetime], object]) -> None:
    """Let a package lift articles in the review queue: `counts(since)` returns a select
    of (article_id, hits) since that time; `label` (lazy-translatable) names the signal
    for staff. The assistant and search register theirs in their init_app."""
    app.extensions.setdefault(EXTENSION, []).append(QueueSignal(name, label, counts))


def queue_signals(app) -> list[QueueSignal]:
    return app.extensions.get(EXTENSION, [])


def review_months() -> dict[str, int]:
    from content.standards import standard_for

    return {kind: standard_for(kind).review_months for kind in KINDS}


def due_date(article: Article, months: int | None = None) -> datetime | None:
    """When a published article is due for review (None: not published)."""
    if article.review_by is not None:
        return article.review_by
    base = article.verified_at or article.published_at
    if article.status != "published" or base is None:
        return None
    return add_months(base, months if months is not None else review_months()[article.kind])


def _due_condition(horizon: datetime, months: dict[str, int]):
    """Due by `horizon`: the stored review date, or for articles without one, the last
    verification (else the publish date) a kind's interval before it. Calendar months
    are not a fixed length, so the second half keeps CLAMP_SLACK more (a superset) and
    review_queue keeps the rows whose due_date is really by `horizon`."""
    cutoff = case(
        *(
            (Article.kind == kind, add_months(horizon, -number) + CLAMP_SLACK)
            for kind, number in months.items()
        ),
        else_=add_months(horizon, -12) + CLAMP_SLACK,
    )
    base = func.coalesce(Article.verified_at, Article.published_at)
    return or_(
        Article.review_by <= horizon,
        and_(Article.review_by.is_(None), base.is_not(None), base <= cutoff),
    )


def review_queue(
    *, now: datetime, team_ids=None, owner_id: int | None = None, overdue_only: bool = False
) -> list[DueArticle]:
    """Published articles due within DUE_SOON (or overdue only), of `team_ids` (None:
    every team) or owned by `owner_id` (either matches when both are given), highest
    priority first."""
    months = review_months()
    horizon = now if overdue_only else now + DUE_SOON
    query = select(Article).where(Article.status == "published", _due_condition(horizon, months))
    mine = []
    if team_ids is not None:
        mine.append(Article.team_id.in_(list(team_ids)))
    if owner_id is not None:
        mine.append(Article.owner_id == owner_id)
    if mine:
        query = query.where(or_(*mine))
    rows = [
        DueArticle(article, due, due <= now, max(0.0, (now - due).total_seconds() / 86400))
        for article in db.session.scalars(query)
        if (due := due_date(article, months[article.kind])) is not None and due <= horizon
    ]
    counts = signal_counts([row.article.id for row in rows], now=now)
    for row in rows:
        row.signals = counts.get(row.article.id, {})
    return sorted(rows, key=lambda row: (-row.priority, row.due, row.article.id))


def signal_counts(article_ids: list[int], *, now: datetime) -> dict[int, dict[str, int]]:
    """{article_id: {signal: hits}} over SIGNAL_WINDOW, in one query."""
    signals = queue_signals(current_app)
    if not article_ids or not signals:
        return {}
    parts = []
    for signal in signals:
        source = signal.counts(now - SIGNAL_WINDOW).subquery()
        article_id, hits = source.c
        parts.append(
            select(
                article_id.label("article_id"), literal(signal.name).label("signal"), hits.label("hits")
            ).where(article_id.in_(article_ids))
        )
    combined = union_all(*parts).subquery()
    rows = db.session.execute(
        select(combined.c.article_id, combined.c.signal, func.sum(combined.c.hits)).group_by(
            combined.c.article_id, combined.c.signal
        )
    )
    found: dict[int, dict[str, int]] = {}
    for article_id, name, hits in rows:
        if hits:
            found.setdefault(int(article_id), {})[name] = int(hits)
    return found


def signal_labels() -> dict[str, object]:
    return {signal.name: signal.label for signal in queue_signals(current_app)}


def is_due(article: Article, now: datetime) -> bool:
    """Published and past its review date (what the staff-only flag shows)."""
    if article.status != "published":
        return False
    due = due_date(article)
    return due is not None and due <= now


def set_first_review_date(article: Article, now: datetime) -> None:
    """On publishing: an article without a review date gets its kind's interval."""
    if article.review_by is None:
        months = review_months()[article.kind]
        article.review_by = add_months(article.published_at or now, months)


def verify(article: Article, *, user, note: str = "", now: datetime) -> Verification:
    """Record that `user` checked the article: it is verified today and next due its
    kind's interval from now. Only published articles, by someone who may write for the
    article's team; raises VerifyError otherwise (nothing saved)."""
    from content.teams import may_write

    if article.status != "published":
        raise VerifyError(_l("Only a published article can be verified."))
    if not (user.has_role("editor") and may_write(user, article.team_id)):
        raise VerifyError(_l("Only the article's team or an admin may verify it."))
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise VerifyError(_l("The note may be %(n)d characters at most.", n=NOTE_MAX))
    article.verified_at = now
    article.review_by = add_months(now, review_months()[article.kind])
    verification = Verification(article_id=article.id, user_id=user.id, verified_at=now, note=note)
    db.session.add(verification)
    db.session.commit()
    return verification


def history(article_id: int, *, limit: int = 10) -> list[Verification]:
    return list(
        db.session.scalars(
            select(Verification)
            .where(Verification.article_id == article_id)
            .order_by(Verification.verified_at.desc(), Verification.id.desc())
            .limit(limit)
        )
    )
