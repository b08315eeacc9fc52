"""What the public may see: the published articles (by kind, language, category), one of
them by slug, its related articles and translations, the help centre's groups, and the
value that changes whenever a public page may change (the page caches' key).

Published means status "published" with a publication time that has come: a scheduled
article appears by time alone.
"""

from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import lazyload, load_only

from content.models import KIND_PREFIX, Article
from core.extensions import db

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


def content_generation(*, now: datetime) -> tuple:
    """A value that changes whenever any public page may change: the number of articles,
    the newest change, and how many are public at `now` (scheduled ones appear by time)."""
    public = (Article.status == "published") & (Article.published_at <= now)
    row = db.session.execute(
        select(func.count(Article.id), func.max(Article.updated_at), func.count(Article.id).filter(public))
    ).one()
    return tuple(row)


def titles_by_path(paths) -> dict[str, str]:
    """The title of each article among `paths` (public paths such as /help/reset-password;
    others are left out): one statement, however many paths."""
    wanted: dict[str, str] = {}
    kinds = {prefix: kind for kind, prefix in KIND_PREFIX.items()}
    for path in set(paths or ()):
        parts = str(path or "").strip("/").split("/")
        if len(parts) == 2 and parts[0] in kinds and parts[1]:
            wanted[parts[1]] = kinds[parts[0]]
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Article.kind, Article.slug, Article.title).where(Article.slug.in_(wanted))
    ).all()
    return {f"/{KIND_PREFIX[kind]}/{slug}": title for kind, slug, title in rows if wanted.get(slug) == kind}
