"""A whole-page cache for public GET pages, per process.

An article page costs a few milliseconds of queries and Jinja; the same page from memory
costs what a bare Flask route does. A page is served from the cache while the site's
content generation (registered by the packages, e.g. the articles' count and newest
`updated_at`) is unchanged; the generation is checked at most every PAGE_CACHE_TTL
seconds, so an edit shows within that time on every web node.

Public pages carry no CSRF token (their forms are checked by Origin, see
core.security.csrf_by_origin), no cookie (page views and campaign landings are told by the
page's beacon, core.beacon) and nothing of the visitor's (a lead form's referrer is added
by its script when sent, a known visitor's fields come from /forms/known), so a page is the
same bytes for every anonymous visitor.
Staff who are signed in, visitors with flashed messages and visitors carrying a cookie
the view names (`vary_cookies`) always get a fresh render.

A page of 1 KB or more is also kept gzip-compressed, for the browsers that ask for it.

A repeat hit is answered before Flask (core.repeathits, in front of the app): the finished
response of a cached page (its hooks' headers included) is kept under the request's URL,
host, scheme, Accept-Language and Accept-Encoding, and handed out while the content
generation was checked less than PAGE_CACHE_TTL ago; a request with a cookie, an
Authorization, an Origin or a conditional header, and every request once the generation
is due for a check, goes through Flask as before.

The same pages tell an HTTP cache in front (nginx, a CDN: deploy/nginx.conf) that it may
serve them: `Cache-Control: public` with HTTP_MAX_AGE, HTTP_S_MAXAGE and
HTTP_STALE_WHILE_REVALIDATE, a strong ETag of the page's bytes and `304 Not Modified` on
`If-None-Match`; a page of one visitor's own is `private, no-store`. With PAGE_FILES_DIR,
such a page is also written as a file that the nginx front sends itself (core.pagefiles).
"""

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import wraps

from flask import current_app, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.http import quote_etag

from core import pagefiles

KEY = "lodestar.pagecache"


class PageCache:
    def __init__(self, *, max_entries: int, ttl: float):
        self.max_entries = max_entries
        self.ttl = ttl
        self.entries: OrderedDict = OrderedDict()
        self.generation_sources = []
        self.lock = threading.Lock()
        self.generation = None
        self.checked_at = float("-inf")
        # Counts the times every page was forgotten: a response rendered before one is
        # not kept after it (RepeatHits).
        self.epoch = 0

    def current_epoch(self) -> int:
        """The epoch, once the content generation is re-read from the database (at most
        every `ttl` s; a new one forgets every page). Every forgetting (an edit, a new
        generation) moves it: what is made from the pages' content after this call may be
        kept only while the epoch is still the one returned."""
        moment = time.monotonic()
        if moment - self.checked_at >= self.ttl:
            generation = tuple(source() for source in self.generation_sources)
            with self.lock:
                if generation != self.generation:
                    self.entries.clear()
                    self.epoch += 1
                    self.generation = generation
                self.checked_at = moment
        return self.epoch

    def invalidate(self) -> None:
        """Forget every page now (a change made in this process)."""
        with self.lock:
            self.entries.clear()
            self.epoch += 1
            self.checked_at = float("-inf")

    def fresh(self) -> bool:
        """Whether the generation was checked less than `ttl` seconds ago."""
        return time.monotonic() - self.checked_at < self.ttl

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key, entry) -> None:
        with self.lock:
            self.entries[key] = entry
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)


DEFAULTS = {
    "PAGE_CACHE_ENABLED": True,
    "PAGE_CACHE_TTL": 1.0,
    "PAGE_CACHE_MAX_ENTRIES": 2000,
    # What a browser (max-age) and a shared cache in front (s-maxage, e.g. nginx's
    # micro-cache or a CDN) may keep a public page for, in seconds, and how long past that
    # a shared cache may serve it while it asks again (stale-while-revalidate).
    "HTTP_MAX_AGE": 60,
    "HTTP_S_MAXAGE": 10,
    "HTTP_STALE_WHILE_REVALIDATE": 30,
    # URLs to send `PURGE` to when content changes (core.frontcache), e.g. nginx's
    # purge location (deploy/nginx.conf): "http://127.0.0.1/purge/".
    "FRONT_CACHE_PURGE_URLS": [],
    "FRONT_CACHE_PURGE_TIMEOUT": 2.0,
    # A folder the nginx front on this machine serves pages from as files
    # (core.pagefiles, deploy/nginx.conf); empty: none, the micro-cache serves them.
    "PAGE_FILES_DIR": "",
    # Files one process writes per ten-second window, at most (each Accept-Language
    # value is a file of its own).
    "PAGE_FILES_MAX": 5000,
}


def init_app(app) -> None:
    from core.config import apply_defaults

    apply_defaults(app, DEFAULTS)
    app.extensions[KEY] = PageCache(
        max_entries=int(app.config["PAGE_CACHE_MAX_ENTRIES"]), ttl=float(app.config["PAGE_CACHE_TTL"])
    )
    pagefiles.init_app(app)
    # Registered before the packages' hooks, so it runs after them (Flask runs
    # after_request hooks in reverse): it sees the cookies they set.
    app.after_request(_never_share_a_cookie)


def _never_share_a_cookie(response):
    """A public page that leaves with a cookie (a language chosen by ?lang=, "Not you?"
    forgetting the lead cookie) is for this visitor only: no shared cache may keep it and
    hand the cookie to someone else. Page views and campaign landings set theirs on the
    page's beacon (core.beacon), never on the page."""
    if "Set-Cookie" in response.headers and response.cache_control.public:
        response.headers["Cache-Control"] = "private, no-cache"
    return response


def add_generation_source(app, source) -> None:
    """`source()` returns a small hashable value that changes whenever cached pages may
    have changed; it runs in an app context."""
    app.extensions[KEY].generation_sources.append(source)


def _same_for_everyone(vary_cookies) -> bool:
    """Whether this GET is an anonymous visitor's, who sees what every other one does."""
    if request.method != "GET":
        return False
    cookies = request.cookies
    if not cookies:
        # No session, no remember-me cookie: an anonymous visitor without flashed
        # messages, known without loading the session or the user.
        return True
    return (
        "_flashes" not in session
        and not any(name in cookies for name in vary_cookies)
        and not current_user.is_authenticated
    )


def remembered(key, make):
    """`make()`, kept in this process until the content generation changes (like a cached
    page, so as fresh): for what a POST needs to know of a page, e.g. the white paper
    behind a landing form. `make` returns plain values (never ORM objects, which belong
    to one request's session); None is remembered too."""
    cache = current_app.extensions.get(KEY)
    if cache is None or not current_app.config["PAGE_CACHE_ENABLED"]:
        return make()
    epoch = cache.current_epoch()
    entry = cache.get(("remembered", key))
    if entry is None:
        entry = (make(),)
        if cache.epoch == epoch:  # nothing was forgotten while it was made
            cache.put(("remembered", key), entry)
    return entry[0]


def public_cache_control() -> str:
    config = current_app.config
    return (
        f"public, max-age={int(config['HTTP_MAX_AGE'])}, s-maxage={int(config['HTTP_S_MAXAGE'])}, "
        f"stale-while-revalidate={int(config['HTTP_STALE_WHILE_REVALIDATE'])}"
    )


# Request headers that can make a GET's answer other than the page itself (304, 412, 206).
CONDITIONAL_HEADERS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_RANGE",
)


# Pages smaller than this go as they are: gzip's own bytes and work are not worth it.
GZIP_MIN_BYTES = 1024
COMPRESSIBLE = ("text/", "application/xml", "application/json", "application/rss+xml", "application/atom+xml")


@dataclass(frozen=True)
class KeptPage:
    """A page as the cache keeps it, as it is and gzip-compressed (None: not worth it),
    each with every header an HTTP cache in front needs."""

    body: bytes
    headers: list
    gzipped: bytes | None = None
    gzipped_headers: list | None = None


def _cache_entry(body: bytes, content_type) -> KeptPage:
    """The page's headers, made once when the page is rendered rather than on every hit:
    public, a strong ETag of its bytes (so any edit changes it; the compressed copy, a
    representation of its own, has its own), and Vary on what the language comes from
    (?lang= is in the URL; the lang cookie and Accept-Language are not) and, with a
    compressed copy, Accept-Encoding. The copy is compressed here, once, so a browser's
    hit (every browser asks for gzip) costs no compression, here or in nginx."""
    etag = hashlib.blake2b(body, digest_size=16).hexdigest()
    compressible = len(body) >= GZIP_MIN_BYTES and (content_type or "").startswith(COMPRESSIBLE)
    common = [
        ("Content-Type", content_type),
        ("Cache-Control", public_cache_control()),
        ("Vary", ("Accept-Encoding, " if compressible else "") + "Accept-Language, Cookie"),
    ]
    plain = [*common, ("ETag", quote_etag(etag))]
    if not compressible:
        return KeptPage(body, plain)
    return KeptPage(
        body,
        plain,
        gzip.compress(body, compresslevel=6, mtime=0),
        [*common, ("Content-Encoding", "gzip"), ("ETag", quote_etag(etag + "-gzip"))],
    )


def _takes_gzip(accepted) -> bool:
    """gzip named with a quality above 0 (not through `*`: the front keys its copies on
    the name, deploy/nginx.conf)."""
    return any(value.lower() == "gzip" and quality > 0 for value, quality in accepted)


def _http_cached(page: KeptPage):
    """The cached page, compressed for a browser that takes gzip; 304 on a matching
    If-None-Match (and what else make_conditional answers), looked at only when the
    request carries one of those headers."""
    if page.gzipped is not None and _takes_gzip(request.accept_encodings):
        response = current_app.response_class(page.gzipped, headers=page.gzipped_headers)
    else:
        response = current_app.response_class(page.body, headers=page.headers)
    environ = request.environ
    if any(name in environ for name in CONDITIONAL_HEADERS):
        response.make_conditional(request)
    return response


def cached_page(view=None, *, vary_cookies=()):
    """Serve a public GET view from the page cache and with HTTP caching headers (see the
    module docstring). A visitor who sees a page of their own (signed-in staff, a flashed
    message, a cookie in `vary_cookies`) gets it fresh, and `private, no-store`."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not _same_for_everyone(vary_cookies):
                response = make_response(view(*args, **kwargs))
                if request.method == "GET":
                    response.headers["Cache-Control"] = "private, no-store"
                return response
            cache = current_app.extensions.get(KEY)
            if cache is None or not current_app.config["PAGE_CACHE_ENABLED"]:
                cache = epoch = entry = None
            else:
                # A page rendered while something was forgotten may show it: not kept.
                epoch = cache.current_epoch()
                key = (request.host, request.full_path, str(get_locale()))
                entry = cache.get(key)
            if entry is None:
                response = make_response(view(*args, **kwargs))
                if response.status_code != 200 or response.is_streamed or "Set-Cookie" in response.headers:
                    return response
                entry = _cache_entry(response.get_data(), response.headers.get("Content-Type"))
                if cache is not None and cache.epoch == epoch:
                    cache.put(key, entry)
            if cache is not None and cache.epoch == epoch:
                request.environ[REPEATABLE] = epoch
                request.environ[KEPT] = entry
            return _http_cached(entry)

        return wrapper

    return decorator(view) if view is not None else decorator


# The environ key by which cached_page tells RepeatHits that this response is everyone's
# page of the current generation (its value: the cache's epoch when the page was looked
# up, before any rendering).
REPEATABLE = "lodestar.pagecache.epoch"
# ...and the KeptPage it was served from (both copies, for core.pagefiles).
KEPT = "lodestar.pagecache.page"
