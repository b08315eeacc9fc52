"""The next step after a form: every thank-you page offers a demo (B2B buyers who just
took a white paper are the ones who ask for one) and two pieces to read next, so the
visit does not end at "thank you"."""

from flask import request

from content.models import Article
from content.public import get_public_article, public_articles, related_articles
from core.extensions import db
from core.i18n import visitor_language
from core.timeutil import utcnow

# What moves a buyer towards a demo: proof from customers and what the product does.
NEXT_KINDS = ("case-study", "solution")


def next_reading(article: Article | None, *, locale: str, now, limit: int = 2) -> list[Article]:
    """Up to `limit` public articles to read next: related to `article` first, then the
    newest case studies and solutions in `locale` (the page's language)."""
    picks = related_articles(article, now=now, limit=limit) if article is not None else []
    if len(picks) < limit:
        skip = [a.id for a in picks] + ([article.id] if article is not None else [])
        picks += db.session.scalars(
            public_articles(locale=locale, now=now)
            .where(Article.kind.in_(NEXT_KINDS), Article.id.not_in(skip))
            .limit(limit - len(picks))
        ).all()
    return picks


def thanks_context() -> dict:
    """`next_reading` for gated's thank-you pages (an app context processor: the same
    block on each of them, whatever view renders it); nothing for other pages."""
    if request.blueprint != "gated" or not (request.endpoint or "").endswith("_thanks"):
        return {}
    now = utcnow()
    slug = (request.view_args or {}).get("slug")
    article = get_public_article("whitepaper", slug, now=now) if slug else None
    locale = article.locale if article is not None else visitor_language()
    return {"next_reading": next_reading(article, locale=locale, now=now)}
