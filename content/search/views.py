"""Public search: the results page, the JSON API and the click beacon."""

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import get_locale

from content.models import KINDS
from content.search import services
from core.extensions import csrf, limiter
from core.security import reads_json
from core.timeutil import utcnow

bp = Blueprint("search", __name__, template_folder="templates")

PER_PAGE = 10
API_MAX_LIMIT = 50


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


def _result_dicts(results, query_id):
    return [
        {
            "slug": hit.slug,
            "kind": hit.kind,
            "title": hit.title,
            "url": hit.url,
            "snippet": str(hit.snippet),
            "category": hit.category,
            "locale": hit.locale,
            "click": services.click_token(
                query_id=query_id,
                text=results.query,
                results=results.total,
                article_id=hit.id,
                rank=(results.page - 1) * results.per_page + rank,
            ),
        }
        for rank, hit in enumerate(results.hits, start=1)
    ]


@bp.get("/search")
def search_page():
    text = request.args.get("q", "")
    kind = _kind()
    page = _int("page", 1, low=1, high=1000)
    results, query_id = services.search_articles(
        text,
        now=utcnow(),
        kind=kind,
        page=page,
        per_page=PER_PAGE,
        with_facets=True,
        record="page",
        ui_locale=_ui_locale(),
    )
    items = list(zip(results.hits, _result_dicts(results, query_id), strict=True))
    return render_template(
        "content/search/results.html", results=results, items=items, kind=kind, kinds=KINDS
    )


@bp.get("/api/search")
@limiter.exempt
def search_api():
    """JSON per DESIGN.md: {"query", "total", "results": [{slug, kind, title, url, snippet}]},
    best first. `typeahead=1` (as-you-type) is not recorded until a result is opened."""
    typeahead = request.args.get("typeahead") == "1"
    results, query_id = services.search_articles(
        request.args.get("q", ""),
        now=utcnow(),
        kind=_kind(),
        page=_int("page", 1, low=1, high=1000),
        per_page=_int("limit", 10, low=1, high=API_MAX_LIMIT),
        record=None if typeahead else "api",
        ui_locale=_ui_locale(),
    )
    body = {
        "query": results.query,
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
    recorded = services.record_click(token, now=utcnow(), locale=_ui_locale())
    return jsonify({"ok": recorded}), 200 if recorded else 400
