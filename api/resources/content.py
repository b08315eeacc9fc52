"""/api/v1/articles and /api/v1/search: published content for headless sites, through
content's own queries (what the public may see, nothing else)."""

from datetime import datetime

from sqlalchemy import literal, tuple_

from api.auth import requires
from api.blueprints import api_blueprint, keyset_page, parse_cursor
from api.problems import Problem
from api.schemas import (
    ArticleListSchema,
    ArticleQuerySchema,
    ArticleSchema,
    SearchQuerySchema,
    SearchResultSchema,
)
from content.models import Article
from content.public import public_articles
from content.search.services import search_articles
from core.extensions import db
from core.timeutil import utcnow
from core.urls import absolute_url

bp = api_blueprint("api_articles", "/articles", "Articles: published content, for headless sites.")
search_bp = api_blueprint("api_search", "/search", "Search over published content.")


def _with_url(article: Article) -> Article:
    article.url = absolute_url(article.url_path)
    return article


@bp.route("", methods=["GET"])
@requires(bp, "content:read")
@bp.arguments(ArticleQuerySchema, location="query")
@bp.response(200, ArticleListSchema)
def list_articles(args):
    """Published articles, newest first; page with `cursor`."""
    query = public_articles(kind=args.get("kind") or None, locale=args.get("locale") or None, now=utcnow())
    if "cursor" in args:
        at, article_id = parse_cursor(args["cursor"], datetime, int)
        bound = tuple_(literal(at, Article.published_at.type), literal(article_id))
        query = query.where(tuple_(Article.published_at, Article.id) < bound)
    page = keyset_page(query, args["limit"], lambda article: (article.published_at, article.id))
    page["items"] = [_with_url(article) for article in page["items"]]
    return page


@bp.route("/<slug>", methods=["GET"])
@requires(bp, "content:read")
@bp.response(200, ArticleSchema)
@bp.alt_response(404, description="No published article has this slug.")
def get_article(slug: str):
    """One published article with its rendered HTML and its Markdown."""
    article = db.session.scalar(public_articles(now=utcnow()).where(Article.slug == slug[:120]))
    if article is None:
        raise Problem(404, "No published article has this slug.")
    return _with_url(article)


@search_bp.route("", methods=["GET"])
@requires(search_bp, "content:read")
@search_bp.arguments(SearchQuerySchema, location="query")
@search_bp.response(200, SearchResultSchema)
def search(args):
    """Full-text search over published articles, best first (not recorded as a visitor's
    search)."""
    results, _query_id = search_articles(
        args["q"],
        now=utcnow(),
        kind=args.get("kind") or None,
        locale=args.get("locale") or None,
        page=args["page"],
        per_page=args["limit"],
    )
    return {
        "query": results.query,
        "total": results.total,
        "page": results.page,
        "pages": results.pages,
        "results": [
            {
                "slug": hit.slug,
                "kind": hit.kind,
                "title": hit.title,
                "url": hit.url,
                "snippet": str(hit.snippet),
            }
            for hit in results.hits
        ],
    }
