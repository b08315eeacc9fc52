"""Writing articles: save one (with a revision every time) and apply a workflow action in
the same transaction, the editor's list and its bulk actions, delete.

Who may take which action is content.workflow's; what the public sees, content.public;
readers' feedback, content.feedback. Every service commits its own transaction and then
sends `article_changed`; the search index and the gated package listen.
"""

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only

from content import freshness, notices, signals, slugs, standards, teams, video
from content.bounds import TooComplex
from content.documents import FIELD_NAMES, DocumentError, Problem, slugify
from content.models import Article, Revision
from content.public import LISTING_COLUMNS
from content.rendering import Rendered, render_markdown
from content.workflow import ACTIONS, ContentError, NotReady, check
from core.extensions import db

# Article attributes that front matter and the editor set (everything but the body).
EDITABLE = tuple(FIELD_NAMES.values())


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


def _ready_to_publish(
    fields: dict, article: Article | None, rendered: Rendered | None, ticked: list[str], *, on_form: bool
) -> None:
    """What a publish needs by its kind's standard (content.standards): the required
    fields and headings (DocumentError, each beside its field), then the reviewer's
    checklist (`ticked`). A checklist ticked `on_form` (a new article's, on the editor's
    form) left short is one more problem beside that checklist, told with the others;
    else (an existing article's is ticked on its review panel) NotReady."""
    values = {name: fields.get(name, getattr(article, name, None)) for name in standards.REQUIRABLE}
    standard = standards.standard_for(fields.get("kind") or article.kind)
    headings = rendered.headings if rendered is not None else article.headings
    problems = standards.missing_parts(standard, values, headings)
    left = standards.unticked(standard, ticked)
    message = _l("Tick the reviewer's checklist before publishing: %(items)s.", items="、".join(left))
    if left and on_form:
        problems.append(Problem(message, None, "checklist"))
    if problems:
        raise DocumentError(problems)
    if left:
        raise NotReady(message)


def _ticked_on_the_form(fields: dict, checklist, user, team_id: int | None) -> list[str]:
    """The items of a new article's checklist its writer ticked on the editor's form, in
    the standard's order: only a reviewer of the article's team (or an admin) ticks."""
    if checklist is None or user is None or not teams.may_approve(user, team_id):
        return []
    chosen = set(checklist)
    return [item for item in standards.standard_for(fields.get("kind", "")).checklist if item in chosen]


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
    checklist: list[str] | None = None,
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
    the writer. `checklist`: the reviewer's checklist items ticked on a new article's
    form (kept on the draft, and what its publish needs); an existing article's is ticked
    on its review panel.
    """
    step = ACTIONS[action]
    check(user, article, step)
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
    ticked = _ticked_on_the_form(fields, checklist, user, team_id) if new else list(article.checklist or [])
    if step.target == "published" and user is not None:
        _ready_to_publish(fields, article, rendered, ticked, on_form=new and checklist is not None)
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
            checklist=ticked or None,
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


def delete_article(article: Article) -> None:
    """Delete an article and its revisions (admins only, checked by the caller)."""
    article_id, slug = article.id, article.slug
    db.session.delete(article)
    db.session.commit()
    signals.article_deleted.send(current_app._get_current_object(), article_id=article_id, slug=slug)


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
