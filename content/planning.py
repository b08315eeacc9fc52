"""Planned pieces: what a team means to write (a title, kind, team, owner, target date and
the campaign or launch it serves) before any text exists, moved on the calendar, and
turned into a draft that starts from its kind's template.

Who plans what follows content.teams: admins plan for every team, an editor for the
teams they write for (an editor in no team for any, as they write anywhere). A plan is
refused, with a message per field and nothing saved, for a past target date, an owner
outside the team, an unknown kind or a team the planner does not write for. "Past" is
before today in the site's zone: the day the calendar shows as today.
"""

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from content import teams
from content.models import KINDS, Article
from core.extensions import db
from core.timeutil import utcnow

TITLE_MAX = 300
SERVES_MAX = 200
IDEA_MAX = 200
# How far ahead a plan may go: a calendar, not a wish list (and every date it shows has
# a day after it).
YEARS_AHEAD = 5


class PlannedPiece(db.Model):
    """A piece a team means to write by `target_date`; `article_id` once it is started."""

    __tablename__ = "planned_pieces"
    __table_args__ = (Index("ix_planned_pieces_team_target", "team_id", "target_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    kind: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    target_date: Mapped[date] = mapped_column(Date, index=True)
    # The campaign or product launch the piece serves, in the planner's words: campaigns
    # sit above content, so content keeps no key into them.
    serves: Mapped[str] = mapped_column(String(SERVES_MAX), default="")
    # Where the idea came from ("search:<query>", content.ideas), so the list of what to
    # write next marks the ideas already planned.
    idea: Mapped[str] = mapped_column(String(IDEA_MAX), default="", index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlanError(Exception):
    """A plan refused; `problems` maps form fields to messages. Nothing is saved."""

    def __init__(self, problems: dict):
        super().__init__("; ".join(str(message) for message in problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class PlanInput:
    """What a planner typed (strings from a form, or values from code)."""

    title: str
    kind: str
    team_id: int | None
    owner_id: int | None
    target_date: str | date | None
    serves: str = ""
    idea: str = ""


def may_plan(user, team_id: int | None) -> bool:
    """Whether `user` may plan (and move, and start) a piece of that team."""
    return team_id is not None and user.has_role("editor") and teams.may_write(user, team_id)


def latest_day(today: date) -> date:
    return today.replace(year=today.year + YEARS_AHEAD, day=min(today.day, 28))


def parse_day(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _check_day(value, today: date, problems: dict) -> date | None:
    day = parse_day(value)
    if day is None:
        problems["target_date"] = _l("Give the target date as a date (YYYY-MM-DD).")
    elif day < today:
        problems["target_date"] = _l("The target date has passed: choose today or a later day.")
    elif day > latest_day(today):
        problems["target_date"] = _l("Plan at most %(n)d years ahead.", n=YEARS_AHEAD)
    return day


def _check(data: PlanInput, *, user, today: date) -> dict:
    from accounts.models import User

    problems = {}
    title = (data.title or "").strip()
    if not title:
        problems["title"] = _l("Give the piece a working title.")
    elif len(title) > TITLE_MAX:
        problems["title"] = _l("At most %(n)d characters.", n=TITLE_MAX)
    if data.kind not in KINDS:
        problems["kind"] = _l("Choose one of the kinds listed.")
    if data.team_id is None or db.session.get(teams.Team, data.team_id) is None:
        problems["team"] = _l("Choose one of the teams.")
    elif not may_plan(user, data.team_id):
        problems["team"] = _l("You plan only for the teams you write for.")
    if data.owner_id is not None and "team" not in problems:
        owner = db.session.get(User, data.owner_id)
        member = db.session.get(teams.TeamMember, (data.team_id, data.owner_id))
        if owner is None or not owner.active or member is None:
            problems["owner"] = _l("The owner must be an active member of the team.")
    _check_day(data.target_date, today, problems)
    if len((data.serves or "").strip()) > SERVES_MAX:
        problems["serves"] = _l("At most %(n)d characters.", n=SERVES_MAX)
    return problems


def save_plan(
    plan: PlannedPiece | None, data: PlanInput, *, user, today: date, now: datetime
) -> PlannedPiece:
    """Create or change a planned piece. Raises PlanError (field -> message) and saves
    nothing on bad input or when `user` may not plan for the team (the old one too, when
    a plan changes teams)."""
    if plan is not None and not may_plan(user, plan.team_id):
        raise PlanError({"team": _l("You plan only for the teams you write for.")})
    problems = _check(data, user=user, today=today)
    if plan is not None and plan.article_id is not None:
        problems["title"] = _l("This piece is started: change its draft instead.")
    if problems:
        raise PlanError(problems)
    if plan is None:
        plan = PlannedPiece(created_by=user.id, created_at=now, idea=(data.idea or "")[:IDEA_MAX])
        db.session.add(plan)
    plan.title, plan.kind, plan.team_id = data.title.strip(), data.kind, data.team_id
    plan.owner_id, plan.target_date = data.owner_id, parse_day(data.target_date)
    plan.serves, plan.updated_at = (data.serves or "").strip(), now
    db.session.commit()
    return plan


def reschedule(plan: PlannedPiece, target_date, *, user, today: date, now: datetime) -> PlannedPiece:
    """Move a plan to another day (the calendar's drag, or its date field). Raises
    PlanError for a past or malformed date, a started piece, or a team not the user's."""
    problems: dict = {}
    day = None
    if not may_plan(user, plan.team_id):
        problems["team"] = _l("You plan only for the teams you write for.")
    elif plan.article_id is not None:
        problems["target_date"] = _l("This piece is started: change its draft instead.")
    else:
        day = _check_day(target_date, today, problems)
    if problems:
        raise PlanError(problems)
    plan.target_date, plan.updated_at = day, now
    db.session.commit()
    return plan


def start_draft(plan: PlannedPiece, *, user, now: datetime) -> Article:
    """Turn a plan into a draft article: the plan's title, kind, team and owner, its body
    the kind's template; the plan is marked started and links to it. A plan already
    started gives its draft back (a second click makes no second article). Raises
    PlanError when `user` may not plan for the team, DocumentError from the save."""
    from content.documents import article_defaults
    from content.services import save_article
    from content.standards import standard_for

    if not may_plan(user, plan.team_id):
        raise PlanError({"team": _l("You plan only for the teams you write for.")})
    if plan.article_id is not None:
        started = db.session.get(Article, plan.article_id)
        if started is not None:
            return started
    fields = {**article_defaults(), "title": plan.title, "kind": plan.kind}
    article = save_article(
        fields,
        standard_for(plan.kind).template,
        user=user,
        now=now,
        team_id=plan.team_id,
        owner_id=plan.owner_id,
        note="planned",
    )
    plan.article_id, plan.started_at, plan.updated_at = article.id, now, now
    db.session.commit()
    return article


def plans_between(first: date, last: date, *, team_ids=None) -> list[PlannedPiece]:
    """The plans with a target date from `first` to `last` (inclusive), of `team_ids`
    (None: every team), by date."""
    query = select(PlannedPiece).where(PlannedPiece.target_date >= first, PlannedPiece.target_date <= last)
    if team_ids is not None:
        query = query.where(PlannedPiece.team_id.in_(list(team_ids)))
    return list(db.session.scalars(query.order_by(PlannedPiece.target_date, PlannedPiece.id)))


def planned_ideas(keys: list[str]) -> dict[str, PlannedPiece]:
    """{idea key: its plan} for the ideas already planned."""
    if not keys:
        return {}
    rows = db.session.scalars(select(PlannedPiece).where(PlannedPiece.idea.in_(keys)))
    return {plan.idea: plan for plan in rows}
