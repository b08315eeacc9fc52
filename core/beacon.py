"""The page beacon: what a public page's own response must not do for one visitor
(set a cookie, count the view) happens in a request of its own, so the page stays the
same bytes for everyone and any cache in front may serve it.

    POST /beacon      sent by static/js/beacon.js with `navigator.sendBeacon`:
                      u = the page's path and query, r = document.referrer; and once
                      more when the page is hidden or left, with e=leave and s = the
                      seconds it was in view (page_left: time on page)
    GET  /beacon.gif  the <noscript> pixel of the same page (base.html): the page is its
                      Referer (same origin), the visitor's own referrer is unknown

Either answers with no content (a 1×1 GIF for the pixel) and the cookies the receivers of
`page_seen` set on it. Packages subscribe in their init_app: gated keeps a campaign landing
for the visit, insights counts the page view. A page of another site, or a URL that is no
page of ours, is answered and ignored.
"""

import base64
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from core.extensions import csrf
from core.security import from_another_site
from core.signals import page_left, page_seen

bp = Blueprint("beacon", __name__)
# A page in view longer than this is a tab left open, not reading time.
MAX_SECONDS = 1800
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@dataclass(frozen=True)
class Page:
    """The page a beacon speaks of: what a page's own request would have told."""

    path: str
    query: str
    args: MultiDict
    referrer: str
    endpoint: str

    @property
    def full_path(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def blueprint(self) -> str:
        return self.endpoint.rpartition(".")[0]


def page_of(url: str, referrer: str) -> Page | None:
    """The page of our own at `url` (a path with its query), or None."""
    if not url.startswith("/") or url.startswith("//") or "\\" in url or len(url) > 2000:
        return None
    parts = urlsplit(url)
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, _values = adapter.match(parts.path, method="GET")
    except HTTPException:  # no page of ours, or a redirect to one
        return None
    return Page(
        parts.path,
        parts.query,
        MultiDict(parse_qsl(parts.query, keep_blank_values=True)),
        referrer[:2000],
        endpoint,
    )


def _answer(page: Page | None, response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    if page is not None:
        page_seen.send(current_app._get_current_object(), page=page, response=response)
    return response


@bp.post("/beacon")
@csrf.exempt
def beacon():
    """A page's script says it was seen (no token: a view counted is all it can do; a
    page of another site is refused by its Origin / Sec-Fetch-Site)."""
    if from_another_site():
        return current_app.response_class(status=403)
    page = page_of(request.form.get("u", ""), request.form.get("r", ""))
    if request.form.get("e") == "leave":
        return _left(page, request.form.get("s", ""))
    return _answer(page, current_app.response_class(status=204))


def _left(page: Page | None, seconds: str):
    """The leave ping: how long the page was in view (a number of seconds or nothing)."""
    response = current_app.response_class(status=204)
    response.headers["Cache-Control"] = "no-store"
    if page is not None and seconds.isascii() and seconds.isdigit() and len(seconds) <= 7:
        page_left.send(current_app._get_current_object(), page=page, seconds=min(int(seconds), MAX_SECONDS))
    return response


@bp.get("/beacon.gif")
def pixel():
    """The same for a browser without JavaScript, from the page's <noscript> image."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    own = (
        not from_another_site()
        and parts.netloc.lower() == request.host.lower()
        or (f"{parts.scheme}://{parts.netloc}".lower() == current_app.config["SITE_URL"].rstrip("/").lower())
    )
    page = None
    if own:
        page = page_of(parts.path + (f"?{parts.query}" if parts.query else ""), "")
    return _answer(page, current_app.response_class(PIXEL, mimetype="image/gif"))
