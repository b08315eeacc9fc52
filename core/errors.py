"""Error pages in the site's look, and JSON errors under /api/.

A visitor never sees a bare stack trace or a Werkzeug default page.
"""

from flask import jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

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
        return render_error(error.code)

    @app.errorhandler(InternalServerError)
    def server_error(error):
        original = getattr(error, "original_exception", None)
        if original is not None:
            app.logger.exception("Unhandled error on %s", request.path, exc_info=original)
        return render_error(500)
