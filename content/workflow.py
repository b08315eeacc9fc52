"""Who may do what to an article: the editorial workflow's actions (save, send to review,
return, publish, unpublish, archive), the statuses each starts from, and the roles that
may take it.

Role rules (the editor and content.services agree): editors and admins write; an editor
saves drafts and articles in review and sends drafts to review; only an admin publishes,
unpublishes, archives, or changes an article that is already published or archived, so
nothing reaches readers without a second pair of eyes. Editors write their teams'
articles only, and a team's reviewers approve as admins do (content.teams). Callers
without a user (the importer, the demo loader) act for the operator and are not checked.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from content import teams
from content.models import Article


class ContentError(Exception):
    """Something a user asked for that cannot be done; the message says why."""


class NotAllowed(ContentError):
    pass


class InvalidTransition(ContentError):
    pass


class NotReady(ContentError):
    """A publish refused until the reviewer's checklist is ticked."""


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: frozenset
    target: str
    roles: tuple[str, ...]


ACTIONS = {
    action.name: action
    for action in (
        Action(
            "save", _l("Save"), frozenset({"draft", "in_review", "published", "archived"}), "", ("editor",)
        ),
        Action("submit", _l("Send to review"), frozenset({"draft"}), "in_review", ("editor",)),
        Action("return", _l("Return to the author"), frozenset({"in_review"}), "draft", ("admin",)),
        Action("publish", _l("Publish"), frozenset({"draft", "in_review"}), "published", ("admin",)),
        Action("unpublish", _l("Unpublish"), frozenset({"published", "archived"}), "draft", ("admin",)),
        Action(
            "archive", _l("Archive"), frozenset({"draft", "in_review", "published"}), "archived", ("admin",)
        ),
    )
}


# Only admins change what readers may already see.
ADMIN_ONLY_STATUSES = {"published", "archived"}


def can_edit(user, article: Article | None) -> bool:
    """Editors write their teams' articles (content.teams); what readers may already see
    only admins and the article's team reviewers change."""
    if user is None:
        return True
    if not user.has_role("editor"):
        return False
    if article is None:
        return True
    if not teams.may_write(user, article.team_id):
        return False
    return article.status not in ADMIN_ONLY_STATUSES or teams.may_approve(user, article.team_id)


def _may(user, article: Article | None, action: Action) -> bool:
    if user is None:
        return True
    if action.roles == ("admin",):
        # Approval: admins, and the reviewers of the article's team.
        return user.has_role("admin") or (
            user.has_role("editor") and article is not None and teams.may_approve(user, article.team_id)
        )
    return user.has_role(*action.roles)


def allowed_actions(user, article: Article | None) -> list[Action]:
    """The buttons a user sees for an article (None: a new one)."""
    status = article.status if article else "draft"
    return [
        action
        for action in ACTIONS.values()
        if status in action.sources and can_edit(user, article) and _may(user, article, action)
    ]


def check(user, article: Article | None, action: Action) -> None:
    status = article.status if article else "draft"
    if status not in action.sources:
        raise InvalidTransition(
            _l("An article that is %(status)s cannot be %(action)s.", status=status, action=action.name)
        )
    if action not in allowed_actions(user, article):
        if article is not None and not teams.may_write(user, article.team_id):
            raise NotAllowed(
                _l(
                    "This article belongs to another team: only its members write it and its reviewers publish it."
                )
            )
        raise NotAllowed(_l("Your role may not do this: ask an admin to publish, unpublish or archive."))
