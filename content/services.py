"""What the content package does: save articles (with a revision every time), move them
through the editorial workflow, restore revisions, record reader feedback, and find what
the public may see.

Role rules (the editor and these functions agree): editors and admins write; an editor
saves drafts and articles in review and sends drafts to review; only an admin publishes,
unpublishes, archives, or changes an article that is already published or archived, so
nothing reaches readers without a second pair of eyes. Callers without a user (the
importer, the demo loader) act for the operator and are not checked.

Every service commits its own transaction and then sends `article_changed`; the search
index and the gated package listen.
"""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload, load_only

from content import freshness, notices, signals, slugs, standards, teams, video
from content.bounds import TooComplex
from content.documents import FIELD_NAMES, DocumentError, Problem, slugify
from content.models import Article, Feedback, Revision
from content.rendering import Rendered, render_markdown
from core.extensions import db

# Article attributes that front matter and the editor set (everything but the body).
EDITABLE = tuple(FIELD_NAMES.values())
# What list pages need: the stored HTML stays in the database.
LISTING_COLUMNS = (
    Article.id,
    Article.kind,
    Article.slug,
    Article.locale,
    Article.translation_key,
    Article.title,
    Article.summary,
    Article.category,
    Article.tags,
    Article.status,
    Article.featured,
    Article.published_at,
    Article.updated_at,
    Article.reading_minutes,
)


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


def _check(user, article: Article | None, action: Action) -> None:
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


def _new_article_team(fields: dict, user, chosen: int | None = None) -> int | None:
    """The team a new article belongs to (`chosen` ahead, by a plan, else its category's
    or kind's); refuses a team the writer is not in (the problem shown beside the
    category, else the kind)."""
    team_id = (
        chosen if chosen is not None else teams.team_for(fields.get("kind", ""), fields.get("category") or "")
    )
    if not teams.may_write(user, team_id):
        name = teams.team_names().get(team_id, "")
        field = "category" if fields.get("category") else "kind"
        raise DocumentError(
            [
                Problem(
                    _l(
                        "This belongs to the team %(team)s: choose a kind or category of your team.",
                        team=name,
                    ),
                    None,
                    field,
                )
            ]
        )
    return team_id


def _ready_to_publish(fields: dict, article: Article | None, rendered: Rendered | None) -> None:
    """What a publish needs by its kind's standard (content.standards): the required
    fields and headings (DocumentError, each beside its field), then the reviewer's
    checklist (NotReady)."""
    values = {name: fields.get(name, getattr(article, name, None)) for name in standards.REQUIRABLE}
    standard = standards.standard_for(fields.get("kind") or article.kind)
    headings = rendered.headings if rendered is not None else article.headings
    problems = standards.missing_parts(standard, values, headings)
    if problems:
        raise DocumentError(problems)
    left = standards.unticked(standard, article.checklist if article is not None else ())
    if left:
        raise NotReady(
            _l("Tick the reviewer's checklist before publishing: %(items)s.", items="、".join(left))
        )


def unique_slug(base: str, *, exclude_id: int | None = None) -> str:
    """`base`, or `base-2`, `base-3`… whichever no other article uses."""
    base = base or "article"
    query = select(Article.slug).where(or_(Article.slug == base, Article.slug.like(f"{base}-%")))
    if exclude_id:
        query = query.where(Article.id != exclude_id)
    taken = set(db.session.scalars(query))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def snapshot(article: Article) -> dict:
    """Every editable field as JSON-friendly values (what a revision keeps)."""
    values = {}
    for name in EDITABLE:
        value = getattr(article, name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    return values


def changed_fields(article: Article, fields: dict, body_md: str) -> list[str]:
    """The attributes a save would change (an empty list: nothing to do)."""
    changed = [
        name for name in EDITABLE if name in fields and getattr(article, name) != _normal(name, fields[name])
    ]
    if article.body_md != body_md:
        changed.append("body_md")
    return changed


def _normal(name: str, value):
    if name in ("tags",):
        return list(value or [])
    if name in ("translation_key",):
        return value or None
    return value


def render_body(body_md: str) -> Rendered:
    """An article body rendered with the site's settings (frame hosts, size bound);
    raises TooComplex for a body past the bounds."""
    config = current_app.config
    return render_markdown(
        body_md, frame_hosts=config["CSP_FRAME_HOSTS"], max_bytes=config["MARKDOWN_MAX_BYTES"]
    )


def _rendered_transcript(fields: dict, article: Article | None) -> Rendered | None:
    """A video's transcript rendered and sanitised as a body is, when it changes (None:
    keep what is stored). Refuses (DocumentError beside the field) a transcript past the
    Markdown bounds and a video's file and player link together."""
    conflicts = video.conflicts({"video_file": getattr(article, "video_file", ""), **fields})
    if conflicts:
        raise DocumentError([Problem(message, None, key) for key, message in conflicts])
    source = fields.get("transcript_md")
    if source is None or (
        article is not None and source == article.transcript_md and article.transcript_html
    ):
        return None
    try:
        return render_body(source)
    except TooComplex as exc:
        raise DocumentError([Problem(exc.message, None, "transcript")]) from None


def save_article(
    fields: dict,
    body_md: str,
    *,
    article: Article | None = None,
    user=None,
    action: str = "save",
    now: datetime,
    note: str = "",
    comment: str = "",
    team_id: int | None = None,
    owner_id: int | None = None,
) -> Article:
    """Create or update an article and apply a workflow action, in one transaction with
    one revision row (who, when, what changed).

    `fields` are Article attributes as validate_fields returns them. A new article gets
    a unique slug from its slug field or title; an existing one moves to a new slug when
    `fields` asks, and its old slug redirects (content.slugs). `status`
    in `fields` is honoured only for callers without a user (the importer). Raises
    NotAllowed, InvalidTransition or DocumentError (a slug another article has, a body
    past the Markdown bounds). `team_id` and `owner_id` give a new article the team and
    owner chosen ahead (a planned piece, content.planning) instead of its kind's team and
    the writer.
    """
    step = ACTIONS[action]
    _check(user, article, step)
    fields = dict(fields)
    new = article is None
    rendered = None
    if new or article.body_md != body_md or not article.body_html:
        # Before anything is added to the session: a refused body leaves nothing behind.
        try:
            rendered = render_body(body_md)
        except TooComplex as exc:
            raise DocumentError([Problem(exc.message, None, "body")]) from None
    transcript = _rendered_transcript(fields, article)
    team_id = _new_article_team(fields, user, team_id) if new and user is not None else None
    if step.target == "published" and user is not None:
        _ready_to_publish(fields, article, rendered)
    if new:
        requested = fields.get("slug") or ""
        if (
            requested
            and user is not None
            and db.session.scalar(select(Article.id).where(Article.slug == requested))
        ):
            raise DocumentError(
                [
                    Problem(
                        _l("slug '%(slug)s' is already used by another article", slug=requested), None, "slug"
                    )
                ]
            )
        slug = unique_slug(requested or slugify(fields.get("title", "")) or fields.get("kind", "article"))
        article = Article(
            slug=slug,
            created_at=now,
            owner_id=owner_id or (user.id if user is not None else None),
            team_id=team_id
            if user is not None
            else teams.team_for(fields.get("kind", ""), fields.get("category") or ""),
            status="draft",
        )
        slugs.claim(slug)
        db.session.add(article)
    requested = fields.pop("slug", None)
    old_slugs = fields.pop("old_slugs", None)
    renamed = not new and bool(requested) and requested != article.slug
    if renamed:
        try:
            slugs.rename(article, requested, now=now)
        except slugs.SlugTaken:
            message = _l("slug '%(slug)s' is already used by another article", slug=requested)
            raise DocumentError([Problem(message, None, "slug")]) from None
    if user is not None:
        fields.pop("status", None)
    changed = ["created"] if new else changed_fields(article, fields, body_md)
    if renamed:
        changed.append("slug")
    for name, value in fields.items():
        if name in EDITABLE:
            setattr(article, name, _normal(name, value))
    if rendered is not None:
        article.body_md = body_md
        article.body_html = rendered.html
        article.toc_html = rendered.toc_html
        article.body_text = rendered.text
        article.reading_minutes = rendered.reading_minutes
        article.headings = rendered.headings
        article.faq = rendered.faq
    if transcript is not None:
        article.transcript_html, article.transcript_text = transcript.html, transcript.text
    if step.target:
        article.status = step.target
        changed.append(step.name)
    if article.status == "published" and article.published_at is None:
        article.published_at = now
    if step.target == "published":
        freshness.set_first_review_date(article, now)
    if step.target:
        article.checklist = []  # each approval is ticked afresh
    article.updated_at = now
    try:
        db.session.flush()
        if old_slugs is not None:
            slugs.replace_history(article, old_slugs, now=now)
        if step.target:
            notices.add_notices(article, step.name, actor=user, comment=comment, now=now)
        db.session.add(
            Revision(
                article_id=article.id,
                author_id=user.id if user is not None else None,
                created_at=now,
                note=(note or ", ".join(str(change) for change in changed) or "saved")[:200],
                title=article.title,
                body_md=article.body_md,
                fields=snapshot(article),
            )
        )
        db.session.commit()
    except IntegrityError:
        # Two people created the same slug at the same moment: the second one is told.
        db.session.rollback()
        if not new:
            raise
        message = _l("slug '%(slug)s' is already used by another article", slug=article.slug)
        raise DocumentError([Problem(message, None, "slug")]) from None
    signals.article_changed.send(current_app._get_current_object(), article_id=article.id)
    return article


def transition(article: Article, action: str, *, user, now: datetime) -> Article:
    """Apply a workflow action (submit, publish, unpublish, archive) without other changes."""
    return save_article({}, article.body_md, article=article, user=user, action=action, now=now)


def record_feedback(article_id: int, helpful: bool, comment: str = "", *, now: datetime) -> Feedback:
    """Record a reader's yes/no (and comment, trimmed to 2,000 characters)."""
    feedback = Feedback(
        article_id=article_id, helpful=helpful, comment=(comment or "").strip()[:2000], created_at=now
    )
    db.session.add(feedback)
    db.session.commit()
    return feedback


def feedback_counts(article_id: int) -> dict:
    rows = db.session.execute(
        select(Feedback.helpful, func.count())
        .where(Feedback.article_id == article_id)
        .group_by(Feedback.helpful)
    )
    counts = {"yes": 0, "no": 0}
    for helpful, count in rows:
        counts["yes" if helpful else "no"] = count
    return counts


def delete_article(article: Article) -> None:
    """Delete an article and its revisions (admins only, checked by the caller)."""
    article_id, slug = article.id, article.slug
    db.session.delete(article)
    db.session.commit()
    signals.article_deleted.send(current_app._get_current_object(), article_id=article_id, slug=slug)


# The public side -------------------------------------------------------------------------


def _is_public(now: datetime):
    return (Article.status == "published") & Article.published_at.is_not(None) & (Article.published_at <= now)


def public_articles(
    *, kind: str | None = None, locale: str | None = None, category: str | None = None, now: datetime
) -> Select:
    """A select of what the public may see, newest first, without the stored HTML."""
    query = (
        select(Article)
        .where(_is_public(now))
        .options(load_only(*LISTING_COLUMNS), lazyload(Article.owner))
        .order_by(Article.published_at.desc(), Article.id.desc())
    )
    if kind:
        query = query.where(Article.kind == kind)
    if locale:
        query = query.where(Article.locale == locale)
    if category is not None:
        query = query.where(Article.category == category)
    return query


def has_public_articles(*, kind: str | None = None, locale: str, now: datetime) -> bool:
    """Whether the public may see anything of that kind (any kind: None) in `locale`."""
    query = select(Article.id).where(_is_public(now), Article.locale == locale)
    if kind:
        query = query.where(Article.kind == kind)
    return db.session.scalar(query.limit(1)) is not None


def get_public_article(kind: str, slug: str, *, now: datetime) -> Article | None:
    """The published article of that kind and slug, or None (draft, scheduled, absent…)."""
    return db.session.scalar(
        select(Article).where(Article.kind == kind, Article.slug == slug, _is_public(now))
    )


def related_articles(article: Article, *, now: datetime, limit: int = 4) -> list[Article]:
    """The related articles an editor chose (the public ones, in their order), then public
    articles that share the category or tags, best match first, up to `limit` in all."""
    chosen_slugs = list(article.related or [])
    chosen = []
    if chosen_slugs:
        found = {
            other.slug: other
            for other in db.session.scalars(
                public_articles(locale=article.locale, now=now).where(
                    Article.slug.in_(chosen_slugs), Article.id != article.id
                )
            )
        }
        chosen = [found[slug] for slug in chosen_slugs if slug in found]
    limit = max(limit, len(chosen))
    if len(chosen) >= limit:
        return chosen
    picked = {other.id for other in chosen}
    candidates = db.session.scalars(
        public_articles(locale=article.locale, now=now)
        .where(
            Article.id != article.id, or_(Article.category == article.category, Article.kind == article.kind)
        )
        .limit(60)
    ).all()
    tags = set(article.tags or [])

    def score(other):
        return (other.category == article.category and bool(article.category)) * 2 + len(
            tags & set(other.tags or [])
        )

    ranked = sorted((c for c in candidates if score(c) > 0 and c.id not in picked), key=score, reverse=True)
    return [*chosen, *ranked][:limit]


def related_choices(article: Article | None, locale: str) -> list[tuple[str, str]]:
    """(slug, title) of the published articles an editor may choose as related: the same
    language, this article excluded, by title."""
    query = (
        select(Article.slug, Article.title)
        .where(Article.status == "published", Article.locale == locale)
        .order_by(Article.title)
    )
    if article is not None:
        query = query.where(Article.id != article.id)
    return [(row.slug, row.title) for row in db.session.execute(query)]


def translations_of(article: Article, *, now: datetime) -> list[Article]:
    """The same article in other locales (same translation_key), public ones only."""
    if not article.translation_key:
        return []
    return db.session.scalars(
        public_articles(now=now).where(
            Article.translation_key == article.translation_key, Article.id != article.id
        )
    ).all()


def help_categories(*, locale: str | None, now: datetime) -> list[tuple[str, list[Article]]]:
    """Public help articles grouped by category, categories A→Z (uncategorised last)."""
    groups: dict[str, list[Article]] = {}
    query = public_articles(kind="help", locale=locale, now=now).order_by(None).order_by(Article.title)
    for article in db.session.scalars(query):
        groups.setdefault(article.category, []).append(article)
    return sorted(groups.items(), key=lambda item: (item[0] == "", item[0]))


def editor_articles(
    *,
    q: str = "",
    kind: str = "",
    status: str = "",
    owner_id: int | None = None,
    team_id: int | None = None,
    stale: bool = False,
    now: datetime,
) -> Select:
    """The editor's list: every article, filtered (`q`: words of the title or the slug),
    recently changed first."""
    query = select(Article).options(
        load_only(*LISTING_COLUMNS, Article.review_by, Article.owner_id, Article.team_id)
    )
    if q:
        query = query.where(
            or_(Article.title.contains(q, autoescape=True), Article.slug.contains(q.lower(), autoescape=True))
        )
    if kind:
        query = query.where(Article.kind == kind)
    if status:
        query = query.where(Article.status == status)
    if owner_id:
        query = query.where(Article.owner_id == owner_id)
    if team_id:
        query = query.where(Article.team_id == team_id)
    if stale:
        query = query.where(Article.review_by.is_not(None), Article.review_by <= now)
    return query.order_by(Article.updated_at.desc(), Article.id.desc())


def bulk_transition(article_ids: list[int], action: str, *, user, now: datetime) -> tuple[int, int]:
    """The editor list's bulk action (publish, archive) on each article in turn, with the
    same checks as one at a time; (how many changed, how many could not)."""
    done = refused = 0
    for article in db.session.scalars(
        select(Article).where(Article.id.in_(article_ids)).order_by(Article.id)
    ):
        try:
            transition(article, action, user=user, now=now)
            done += 1
        except (ContentError, DocumentError):
            db.session.rollback()
            refused += 1
    return done, refused


def is_stale(article: Article, now: datetime) -> bool:
    return article.review_by is not None and article.review_by <= now


def content_generation(*, now: datetime) -> tuple:
    """A value that changes whenever any public page may change: the number of articles,
    the newest change, and how many are public at `now` (scheduled ones appear by time)."""
    public = (Article.status == "published") & (Article.published_at <= now)
    row = db.session.execute(
        select(func.count(Article.id), func.max(Article.updated_at), func.count(Article.id).filter(public))
    ).one()
    return tuple(row)
