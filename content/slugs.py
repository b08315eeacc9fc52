"""Slugs: readable words, renames, and the permanent redirects every old slug keeps.

An article's slug may change after it exists; each slug it leaves behind becomes a
SlugRedirect row, so a link or a search engine's copy of the old URL answers 301 with the
new one. A slug belongs to one article at a time: an article that takes a slug (new, or
renamed) takes it from any redirect too, since the live article must win. The history
travels with the article in export/import (front matter `old_slugs`).
"""

import re
from datetime import datetime

from flask import abort, redirect
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.timeutil import utcnow

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


class SlugRedirect(db.Model):
    """A slug an article had before: its old URL redirects to the article's current one."""

    __tablename__ = "article_slug_redirects"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    old_slug: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlugTaken(Exception):
    """The slug asked for is another article's current slug."""


def words(text: str) -> list[str]:
    """The words of a title, Chinese split by jieba (the search index's tokenizer, so no
    second dictionary is loaded). The index keeps its domain terms whole ("线索评分");
    a slug reads better per word, so such a term is cut into its two-character words
    when each of them is a word of the dictionary."""
    from content.search.analysis import jieba_tokenizer

    tokenizer = jieba_tokenizer()
    out = []
    for word in tokenizer.cut(text):
        word = word.strip()
        if not word:
            continue
        pairs = [word[i : i + 2] for i in range(0, len(word), 2)]
        if (
            len(word) >= 4
            and len(word) % 2 == 0
            and _CJK_RUN.fullmatch(word)
            and all(tokenizer.has_word(pair) for pair in pairs)
        ):
            out.extend(pairs)
        else:
            out.append(word)
    return out


def history(article_id: int) -> list[str]:
    """The article's old slugs, oldest first."""
    return list(
        db.session.scalars(
            select(SlugRedirect.old_slug)
            .where(SlugRedirect.article_id == article_id)
            .order_by(SlugRedirect.created_at, SlugRedirect.id)
        )
    )


def claim(slug: str) -> None:
    """Add to the session: `slug` is some article's live slug now, so no redirect keeps it."""
    db.session.execute(delete(SlugRedirect).where(SlugRedirect.old_slug == slug))


def rename(article, new_slug: str, *, now: datetime) -> None:
    """Add to the session (the caller commits): the article moves to `new_slug` and its
    current slug becomes a redirect. Raises SlugTaken for another article's live slug."""
    from content.models import Article

    if new_slug == article.slug:
        return
    other = db.session.scalar(select(Article.id).where(Article.slug == new_slug, Article.id != article.id))
    if other is not None:
        raise SlugTaken(new_slug)
    claim(new_slug)
    db.session.add(SlugRedirect(article_id=article.id, old_slug=article.slug, created_at=now))
    article.slug = new_slug


def replace_history(article, old_slugs: list[str], *, now: datetime) -> None:
    """Add to the session: the article's redirects become exactly `old_slugs` (an import
    of an exported file), leaving out any slug that is an article's live slug."""
    from content.models import Article

    live = (
        set(db.session.scalars(select(Article.slug).where(Article.slug.in_(old_slugs))))
        if old_slugs
        else set()
    )
    db.session.execute(delete(SlugRedirect).where(SlugRedirect.article_id == article.id))
    keep = [slug for slug in dict.fromkeys(old_slugs) if slug not in live and slug != article.slug]
    if keep:
        db.session.execute(delete(SlugRedirect).where(SlugRedirect.old_slug.in_(keep)))
    db.session.flush()
    for slug in keep:
        db.session.add(SlugRedirect(article_id=article.id, old_slug=slug, created_at=now))


def public_article_or_redirect(kind: str, slug: str, *, now: datetime):
    """The public article at /<kind prefix>/<slug>; for an old slug of a public article, a
    301 to its current URL; otherwise 404."""
    from content.models import Article
    from content.public import get_public_article

    article = get_public_article(kind, slug, now=now)
    if article is not None:
        return article
    moved = db.session.scalar(
        select(Article)
        .join(SlugRedirect, SlugRedirect.article_id == Article.id)
        .where(SlugRedirect.old_slug == slug)
    )
    if moved is not None and moved.is_public(now):
        abort(redirect(moved.url_path, code=301))
    abort(404)
