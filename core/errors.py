"""Error pages in the site's look, and JSON errors under /api/.

A visitor never sees a bare stack trace or a Werkzeug default page.
"""

import contextlib

from flask import jsonify, make_response, render_template, request
from flask.globals import request_ctx
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from core.extensions import db
from core.urls import site_adapter

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Reload the page and try again.")),
    403: (_l("Not allowed"), _l("Your account does not have access to this page.")),
    404: (_l("Page not found"), _l("The page you are looking for does not exist or has moved.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Too large"), _l("What you sent is larger than this site accepts.")),
    415: (_l("Not a form"), _l("This address takes a form, not another kind of content.")),
    422: (_l("Please check the form"), _l("Some of what you entered needs correcting.")),
    429: (_l("Too many requests"), _l("You have made too many requests. Wait a minute and try again.")),
    503: (
        _l("Briefly unavailable"),
        _l("The site could not reach its database, so nothing was saved. Please send it again in a moment."),
    ),
    500: (
        _l("Something went wrong"),
        _l("We could not complete that request. It has been logged; please try again."),
    ),
}


CSRF_MESSAGE = _l("The form expired or was sent from another page. Reload the page and send it again.")


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    if request_ctx.url_adapter is None:
        # A Host header Werkzeug could not bind (or one TRUSTED_HOSTS refuses): the page
        # still links to our stylesheet and pages, as paths on SITE_URL.
        request_ctx.url_adapter = site_adapter()
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": str(title), "message": detail or str(message), "status": code}), code
    return render_template("errors/error.html", code=code, title=title, message=detail or message), code


def init_app(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, str(CSRF_MESSAGE))

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error):
        return render_error(429)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code is None or error.code < 400:
            return error
        response = make_response(render_error(error.code))
        # What the error says in its headers stays: a 416's Content-Range (bytes */size),
        # a 405's Allow.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    def database_unreachable(error):
        """A database that restarts or refuses connections (PostgreSQL's
        OperationalError, SQLite's "database is locked") is a moment's outage, not a bug:
        503 with Retry-After, and a page that says nothing was saved. Other database
        errors stay 500s."""
        if not _is_outage(error):
            raise error
        app.logger.warning("Database unavailable on %s: %s", request.path, error.orig)
        with contextlib.suppress(SQLAlchemyError):
            db.session.rollback()
        response = render_error(503)
        response = app.make_response(response)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(InternalServerError)
    def server_error(error):
        original = getattr(error, "original_exception", None)
        if original is not None:
            app.logger.exception("Unhandled error on %s", request.path, exc_info=original)
        return render_error(500)


def _is_outage(error: OperationalError) -> bool:
    orig = getattr(error, "orig", None)
    if type(orig).__module__.startswith("psycopg"):
        return True
    return "locked" in str(orig) or "unable to open" in str(orig)
