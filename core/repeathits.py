"""Repeat hits answered before Flask: the finished response of a cached page (core.pagecache),
kept under the request's URL, host, scheme, Accept-Language and Accept-Encoding and handed
out while the content generation is fresh; and, with page files on, the page left as a
file for the nginx front (core.pagefiles)."""

from core import pagefiles
from core.pagecache import CONDITIONAL_HEADERS, KEPT, KEY, REPEATABLE
from core.security import has_nul_in_headers

# A request carrying one of these may be answered differently from the page (a session,
# staff, a cross-origin form's CORS headers, a 304): Flask answers it.
OWN_REQUEST = ("HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_ORIGIN", *CONDITIONAL_HEADERS)


class RepeatHits:
    """WSGI middleware answering a cached page's repeat GET with the response Flask gave
    the first time, without running Flask (routing, the session, the hooks): on two cores
    that is most of what a cached page costs. Only a response that cached_page marked as
    everyone's, with status 200, no cookie and a public Cache-Control, is kept; it is
    served only while the content generation is fresh (see the module docstring)."""

    def __init__(self, wsgi_app, flask_app):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app

    def __call__(self, environ, start_response):
        cache = self.flask_app.extensions.get(KEY)
        if (
            cache is None
            or environ.get("REQUEST_METHOD") != "GET"
            or "HTTP_HOST" not in environ
            or not self.flask_app.config["PAGE_CACHE_ENABLED"]
        ):
            return self.wsgi_app(environ, start_response)
        files = self.flask_app.extensions.get(pagefiles.KEY)
        # Only a request without these is answered from memory; with page files on, the
        # others (a visitor id cookie) still leave their page as a file for the front.
        own = any(name in environ for name in OWN_REQUEST)
        if own and files is None:
            return self.wsgi_app(environ, start_response)
        key = (
            "repeat",
            environ.get("wsgi.url_scheme"),
            environ["HTTP_HOST"],
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ACCEPT_LANGUAGE", ""),
            environ.get("HTTP_ACCEPT_ENCODING", ""),
        )
        if not own and cache.fresh():
            kept = cache.get(key)
            # A NUL in a header is refused by the app (core.security) even on a cached page.
            if kept is not None and not has_nul_in_headers(environ):
                status, headers, body, page, file_name = kept
                if file_name is not None:
                    files.write(cache.epoch, key, file_name, page)
                    headers = (*headers, pagefiles.MARK)
                start_response(status, list(headers))
                return [body]
        started = {"file": None}

        def remember(status, headers, exc_info=None):
            started["status"], started["headers"] = status, headers
            epoch = environ.get(REPEATABLE)
            if files is not None and epoch is not None and epoch == cache.epoch and _everyones(started):
                started["file"] = files.takes(environ, headers)
                if started["file"] is not None:
                    files.write(epoch, (key, environ.get("HTTP_COOKIE")), started["file"], environ[KEPT])
                    headers = [*headers, pagefiles.MARK]
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, remember)
        epoch = environ.get(REPEATABLE)
        if own or epoch is None or not _everyones(started):
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if epoch == cache.epoch:
            cache.put(
                key, (started["status"], tuple(started["headers"]), body, environ[KEPT], started["file"])
            )
        return [body]


def _everyones(started: dict) -> bool:
    if not started.get("status", "").startswith("200 "):
        return False
    names = {name.lower(): value for name, value in started["headers"]}
    return "set-cookie" not in names and names.get("cache-control", "").startswith("public")


def serve_repeats(app) -> None:
    """Put RepeatHits in front of the app (inside any proxy fix, which must see the
    request first: call before core.security.init_app)."""
    app.wsgi_app = RepeatHits(app.wsgi_app, app)
