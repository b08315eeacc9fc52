"""Teams: who owns which content, who may write it and who approves it.

Staff belong to one or more teams (产品, 客服, 客户成功, 售前, 市场 by default: the migration
creates them, so a site without the demo has them too). Each kind of article and each
category has an owning team (the category's wins: a 售前 category of help articles
belongs to 售前); an article takes the team of its category or kind when it is created
and keeps it until someone moves it.

The rules, which content.workflow asks before every save and workflow step:
- admins write and approve everything;
- an editor writes articles of the teams they belong to (and articles no team owns); an
  editor in no team at all writes anywhere, as before teams existed, so a site that
  does not use teams works as it did;
- a team's reviewers (members marked reviewer) publish, unpublish and archive its
  articles, as admins do; nobody approves another team's articles.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow

DEFAULT_TEAMS = ("产品", "客服", "客户成功", "售前", "市场")
NAME_MAX = 60


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeamMember(db.Model):
    """A user in a team; `reviewer` members approve the team's articles."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    reviewer: Mapped[bool] = mapped_column(default=False)


class CategoryTeam(db.Model):
    """The team that owns a category (of any kind)."""

    __tablename__ = "category_teams"

    category: Mapped[str] = mapped_column(String(120), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)


class TeamError(Exception):
    """A team change refused; `problems` maps form fields to messages. Nothing is saved."""

    def __init__(self, problems: dict):
        super().__init__("; ".join(str(message) for message in problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class Membership:
    """A user's teams: the ids they write for and the ids they approve for."""

    writes: frozenset
    reviews: frozenset


def membership(user) -> Membership:
    rows = db.session.execute(
        select(TeamMember.team_id, TeamMember.reviewer).where(TeamMember.user_id == user.id)
    ).all()
    return Membership(frozenset(row[0] for row in rows), frozenset(row[0] for row in rows if row[1]))


def all_teams() -> list[Team]:
    return list(db.session.scalars(select(Team).order_by(Team.id)))


def team_names() -> dict[int, str]:
    return dict(db.session.execute(select(Team.id, Team.name)).all())


def ensure_default_teams() -> int:
    """Create the default teams that do not exist yet (for tables built without the
    migrations: tests, `flask demo load` on a fresh schema). Returns how many were made."""
    existing = set(db.session.scalars(select(Team.name)))
    made = [Team(name=name) for name in DEFAULT_TEAMS if name not in existing]
    db.session.add_all(made)
    db.session.commit()
    return len(made)


def may_write(user, team_id: int | None) -> bool:
    """Whether `user` may write an article of that team (None: an unowned article)."""
    if user is None or user.has_role("admin") or team_id is None:
        return True
    writes = membership(user).writes
    return not writes or team_id in writes


def may_approve(user, team_id: int | None) -> bool:
    """Whether `user` may publish, unpublish or archive an article of that team: admins,
    and the reviewers of the article's team."""
    if user is None or user.has_role("admin"):
        return True
    return team_id is not None and team_id in membership(user).reviews


def team_for(kind: str, category: str) -> int | None:
    """The owning team of a new article: its category's team, else its kind's."""
    from content.standards import standard_for

    if category:
        owner = db.session.scalar(select(CategoryTeam.team_id).where(CategoryTeam.category == category))
        if owner is not None:
            return owner
    return standard_for(kind).team_id


def visible_team_ids(user) -> frozenset | None:
    """The teams whose work `user`'s home shows: None for admins (all of it)."""
    if user.has_role("admin"):
        return None
    return membership(user).writes


def save_team(
    team: Team | None, *, name: str, member_ids: list[int], reviewer_ids: list[int], categories: list[str]
) -> Team:
    """Create or change a team: its name, members, reviewers and owned categories, in one
    transaction. A reviewer must be a member; a name must be unique; raises TeamError
    (field -> message) and saves nothing otherwise."""
    from accounts.models import User

    name = (name or "").strip()
    problems = {}
    if not name:
        problems["name"] = _l("Give the team a name.")
    elif len(name) > NAME_MAX:
        problems["name"] = _l("At most %(n)d characters.", n=NAME_MAX)
    else:
        clash = db.session.scalar(select(Team.id).where(Team.name == name))
        if clash is not None and (team is None or clash != team.id):
            problems["name"] = _l("Another team already has this name.")
    members = set(member_ids)
    outsiders = [user_id for user_id in reviewer_ids if user_id not in members]
    if outsiders:
        names = db.session.scalars(select(User.email).where(User.id.in_(outsiders)).order_by(User.email))
        problems["reviewers"] = _l(
            "A reviewer must be a member of the team: %(names)s is not.", names=", ".join(names)
        )
    known = set(db.session.scalars(select(User.id).where(User.id.in_(members), User.active.is_(True))))
    if members - known:
        problems["members"] = _l("Choose active staff members.")
    if problems:
        raise TeamError(problems)
    if team is None:
        team = Team(name=name)
        db.session.add(team)
    team.name = name
    db.session.flush()
    db.session.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
    db.session.add_all(
        TeamMember(team_id=team.id, user_id=user_id, reviewer=user_id in reviewer_ids) for user_id in members
    )
    db.session.execute(delete(CategoryTeam).where(CategoryTeam.team_id == team.id))
    wanted = {category.strip() for category in categories if category.strip()}
    db.session.execute(delete(CategoryTeam).where(CategoryTeam.category.in_(wanted)))
    db.session.add_all(CategoryTeam(category=category, team_id=team.id) for category in sorted(wanted))
    db.session.commit()
    return team


def team_details(team: Team) -> dict:
    """A team's members, reviewers and categories, for its form."""
    rows = db.session.execute(
        select(TeamMember.user_id, TeamMember.reviewer).where(TeamMember.team_id == team.id)
    ).all()
    return {
        "members": [row[0] for row in rows],
        "reviewers": [row[0] for row in rows if row[1]],
        "categories": list(
            db.session.scalars(
                select(CategoryTeam.category)
                .where(CategoryTeam.team_id == team.id)
                .order_by(CategoryTeam.category)
            )
        ),
    }


def set_ownership(article, *, team_id: int | None, owner_id: int | None, user) -> None:
    """Move an article to a team and an owner. The owner must belong to the team, and the
    person doing it must approve for the article's team now (or be an admin); raises
    TeamError and changes nothing otherwise."""
    from accounts.models import User

    if not may_approve(user, article.team_id):
        raise TeamError({"team": _l("Only the team's reviewers or an admin may move this article.")})
    if team_id is not None and db.session.get(Team, team_id) is None:
        raise TeamError({"team": _l("Choose one of the teams.")})
    if owner_id is not None:
        owner = db.session.get(User, owner_id)
        if owner is None or not owner.active:
            raise TeamError({"owner": _l("Choose an active member of staff.")})
        member = db.session.get(TeamMember, (team_id, owner_id)) if team_id else True
        if member is None:
            raise TeamError({"owner": _l("The owner must be a member of the article's team.")})
    article.team_id = team_id
    article.owner_id = owner_id
    db.session.commit()
