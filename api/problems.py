"""Every error of the API as `application/problem+json` (RFC 9457): a `type`, a `title`
(translated), the `status`, a `detail`, and for invalid input `errors` by location and
field, as webargs reports them (`{"json": {"email": ["…"]}}`).

These handlers sit on the API's blueprints only; the rest of the site keeps its pages.
"""

from flask import current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException, InternalServerError

MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: _l("Bad request"),
    401: _l("An API key is needed"),
    403: _l("This key lacks the scope"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("A request with this idempotency key is still running"),
    413: _l("Too large"),
    415: _l("Send JSON"),
    422: _l("The request has invalid fields"),
    429: _l("Too many requests for this key"),
    500: _l("Something went wrong"),
}


class Problem(HTTPException):
    """An error the API answers with, raised anywhere under the API's views."""

    def __init__(self, status: int, detail: str = "", *, errors: dict | None = None, headers=None):
        super().__init__(description=detail)
        self.code = status
        self.errors = errors
        self.extra_headers = dict(headers or {})


def problem_response(status: int, detail: str = "", *, errors=None, headers=None):
    body = {
        "type": "about:blank",
        "title": str(TITLES.get(status, TITLES[500])),
        "status": status,
        "detail": detail or str(TITLES.get(status, TITLES[500])),
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = MEDIA_TYPE
    response.headers.extend(headers or {})
    return response


def _detail(error: HTTPException) -> str:
    # Werkzeug's own descriptions are English prose about browsers; ours are set on purpose.
    return error.description if isinstance(error, Problem) else ""


def handle_http_exception(error: HTTPException):
    if isinstance(error, RateLimitExceeded):
        return problem_response(429, str(error.description), headers={"Retry-After": "60"})
    if isinstance(error, InternalServerError):
        return handle_unexpected(getattr(error, "original_exception", None) or error)
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = getattr(error, "errors", None) or data.get("messages")
    if code == 400 and errors and "json" in errors:
        # webargs says 400 for a body that is not JSON; 400 stays, with its reason.
        errors = {"json": ["The body is not valid JSON."]}
    headers = dict(getattr(error, "extra_headers", {}) or {})
    headers.update(data.get("headers") or {})
    return problem_response(code, _detail(error), errors=errors, headers=headers)


def handle_unexpected(error: Exception):
    current_app.logger.exception("Unhandled API error on %s", request.path, exc_info=error)
    from core.extensions import db

    db.session.rollback()
    return problem_response(500)


def outside_routes(error: HTTPException):
    """A 404 or 405 raised by routing, before any blueprint is known: problem+json under
    /api/v1/, the site's own page elsewhere (as core's handler answers)."""
    from core.errors import render_error

    if request.path.startswith("/api/v1/"):
        allowed = getattr(error, "valid_methods", None)
        return problem_response(error.code, headers={"Allow": ", ".join(allowed)} if allowed else None)
    return render_error(error.code)


def init_blueprint(bp) -> None:
    # By class and by code: Flask prefers a handler registered for the error's code on
    # the app (core's 429 and 500 pages) over one for its base class on the blueprint.
    for error in (HTTPException, RateLimitExceeded, InternalServerError):
        bp.register_error_handler(error, handle_http_exception)
    bp.register_error_handler(Exception, handle_unexpected)
