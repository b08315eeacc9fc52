"""Public search: the results page, the JSON API and the click beacon.

Both answer in the visitor's language (one language per page): the page shows the other
language's best hits apart, under "Also in English" / "Also in Chinese"; the API takes
`locale=zh-CN|en|all` to ask for another.
"""

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import get_locale

from content.models import KINDS, LOCALES, other_locale
from content.search import learning
from content.search.analytics import click_token, record_click
from content.search.services import search_articles
from core.extensions import csrf, limiter
from core.i18n import visitor_language
from core.pagecache import cached_page
from core.security import reads_json
from core.timeutil import utcnow

bp = Blueprint("search", __name__, template_folder="templates")

PER_PAGE = 10
API_MAX_LIMIT = 50
# How many of the other language's hits the results page shows apart.
ALSO_LIMIT = 5


def _int(name: str, default: int, *, low: int, high: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except (TypeError, ValueError):
        return default
    return max(low, min(value, high))


def _kind() -> str:
    kind = request.args.get("kind", "")
    return kind if kind in KINDS else ""


def _ui_locale() -> str:
    return str(get_locale() or "")


def _visit() -> str:
    return learning.visit_key(
        current_app.secret_key, request.remote_addr or "", request.headers.get("User-Agent", ""), utcnow()
    )


def _result_dicts(results, query_id, *, first_rank: int = 1):
    return [
        {
            "slug": hit.slug,
            "kind": hit.kind,
            "title": hit.title,
            "url": hit.url,
            "snippet": str(hit.snippet),
            "category": hit.category,
            "locale": hit.locale,
            "click": click_token(
                query_id=query_id,
                text=results.query,
                results=results.total,
                article_id=hit.id,
                rank=(results.page - 1) * results.per_page + rank,
            ),
        }
        for rank, hit in enumerate(results.hits, start=first_rank)
    ]


@bp.get("/search")
def search_page():
    """Results for a query are the searcher's own (the search is recorded, each result
    carries its click token); the page without one is everyone's, so a cache may keep it."""
    if not request.args.get("q", "").strip():
        return _search_without_query()
    return _search()


def _search():
    text = request.args.get("q", "")
    kind = _kind()
    page = _int("page", 1, low=1, high=1000)
    locale = visitor_language()
    results, query_id = search_articles(
        text,
        now=utcnow(),
        kind=kind,
        locale=locale,
        page=page,
        per_page=PER_PAGE,
        with_facets=True,
        record="page",
        ui_locale=_ui_locale(),
        visit=_visit(),
    )
    items = list(zip(results.hits, _result_dicts(results, query_id), strict=True))
    also, also_items = None, []
    if results.query and page == 1:
        also, _also_id = search_articles(
            text, now=utcnow(), kind=kind, locale=other_locale(locale), per_page=ALSO_LIMIT
        )
        # Ranked after this language's hits, so a click on one tells the report so.
        also_items = list(
            zip(also.hits, _result_dicts(also, query_id, first_rank=results.total + 1), strict=True)
        )
    return render_template(
        "content/search/results.html",
        results=results,
        items=items,
        also=also,
        also_items=also_items,
        also_locale=other_locale(locale),
        kind=kind,
        kinds=KINDS,
    )


_search_without_query = cached_page(_search)


@bp.get("/api/search")
@limiter.exempt
def search_api():
    """JSON as docs/SEARCH.md documents it: {"query", "total", "results": [{slug, kind,
    title, url, snippet}]}, best first, in the visitor's language unless `locale` (zh-CN, en, all) says otherwise.
    `typeahead=1` (as-you-type) is not recorded until a result is opened."""
    typeahead = request.args.get("typeahead") == "1"
    locale = request.args.get("locale", "")
    if locale not in (*LOCALES, "all"):
        locale = visitor_language()
    results, query_id = search_articles(
        request.args.get("q", ""),
        now=utcnow(),
        kind=_kind(),
        locale=None if locale == "all" else locale,
        page=_int("page", 1, low=1, high=1000),
        per_page=_int("limit", 10, low=1, high=API_MAX_LIMIT),
        record=None if typeahead else "api",
        ui_locale=_ui_locale(),
        visit=_visit(),
    )
    body = {
        "query": results.query,
        "locale": locale,
        "total": results.total,
        "page": results.page,
        "pages": results.pages,
        "suggestion": results.suggestion,
        "results": _result_dicts(results, query_id),
    }
    return jsonify(body)


def _post_limit():
    return current_app.config["PUBLIC_POST_RATE_LIMIT"]


@bp.post("/api/search/click")
@reads_json
@csrf.exempt
@limiter.limit(_post_limit)
def search_click():
    """The beacon sent when a result is opened: {"token": …} (JSON or form). The signed
    token names the search and the article, so a click cannot be forged."""
    data = request.get_json(silent=True) if request.is_json else None
    token = (data or {}).get("token") if isinstance(data, dict) else request.form.get("token")
    recorded = record_click(token, now=utcnow(), locale=_ui_locale(), visit=_visit())
    return jsonify({"ok": recorded}), 200 if recorded else 400
