"""Page views, recorded from each page's beacon (core.beacon: `navigator.sendBeacon`,
or a <noscript> pixel): a first-party visitor cookie, the visit's place and landing page,
bots and staff left out, and a per-process buffer written in batches.

The page itself sets no cookie and counts nothing, so it is the same bytes for every
visitor and a cache in front (nginx, a CDN) may serve it; the beacon's answer carries the
visitor and visit cookies. Search result clicks are their own requests and are counted
as they arrive (record_click).

Recording must cost a request almost nothing: the view is appended to an in-memory list,
and a background thread per process writes the list every INSIGHTS_FLUSH_SECONDS (or
sooner when INSIGHTS_BATCH_SIZE views wait) and at exit. Anonymous views (nearly all) are
written with one executemany, since ORM objects cost that thread (which shares the GIL
with the request threads) far more per row. A crash loses at most those seconds of page
views; forms, downloads and mail events never go through the buffer (they are stored in
the transaction of the thing itself).

Visitors who send `DNT: 1` or `Sec-GPC: 1` get no cookie; their views are stored without a
visitor id and with visit_seq 0, so they count as page views but not as visits.
"""

import atexit
import itertools
import os
import re
import secrets
import threading
from urllib.parse import quote, unquote

from flask import current_app, request, session
from sqlalchemy import insert

from core.extensions import db
from core.privacy import tracking_refused
from core.signals import page_left, page_seen
from core.timeutil import utcnow
from insights.models import Event

VISITOR_COOKIE = "lodestar_vid"
VISIT_COOKIE = "lodestar_visit"
VISIT_SECONDS = 30 * 60
KEY = "lodestar.insights.buffer"

# User agents of crawlers, link previews, monitors, HTTP libraries and headless browsers.
# Compact on purpose: substrings that cover the crawlers seen in real logs (the patterns
# of the crawler-user-agents and isbot projects), checked once per page view against the
# lowered agent: re.IGNORECASE makes a pattern this size an order of magnitude slower.
BOT_PATTERN = re.compile(
    r"bot\b|bot[/;_-]|crawl|spider|slurp|scrap|archiver|facebookexternalhit|preview|"
    r"mediapartners|headless|phantomjs|lighthouse|pagespeed|pingdom|uptime|monitor|"
    r"validator|check_http|curl/|wget|python-|requests/|aiohttp|httpx|go-http|java/|okhttp|"
    r"axios|node-fetch|undici|libwww|httpclient|feedfetcher|yandex|baiduspider|sogou|"
    r"360spider|bytespider|petalbot|semrush|ahrefs|mj12|dotbot|gptbot|ccbot|claudebot|"
    r"applebot|bingbot|googlebot|duckduckbot|yisouspider"
)

# Endpoints whose GET is a page view, besides the content blueprint's pages.
FORM_ENDPOINTS = {
    "gated.whitepaper": "whitepaper",
    "gated.demo_request": "demo",
    "gated.newsletter": "newsletter",
}
PAGE_ENDPOINTS = frozenset(
    {*FORM_ENDPOINTS, "gated.whitepaper_thanks", "gated.demo_thanks", "gated.newsletter_thanks"}
)
NOT_PAGES = frozenset({"content.sitemap", "content.robots", "content.feed", "content.uploaded"})
SEARCH_ENDPOINT = "search.search_page"
SEARCH_CLICK_ENDPOINT = "search.search_click"


def is_bot(user_agent: str) -> bool:
    """Whether a user agent is a crawler, monitor or script (an empty one is)."""
    return not user_agent or BOT_PATTERN.search(user_agent.lower()) is not None


class PageViewBuffer:
    """Page views waiting to be written, per process."""

    def __init__(self, app):
        self.app = app
        self.rows: list[dict] = []
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.thread = None
        self.pid = os.getpid()
        self.stopping = False

    def add(self, row: dict) -> None:
        config = self.app.config
        with self.lock:
            if self.pid != os.getpid():  # forked (gunicorn): the parent's rows are not ours
                self.rows, self.thread, self.pid = [], None, os.getpid()
            self.rows.append(row)
            if len(self.rows) > config["INSIGHTS_BUFFER_MAX"]:
                del self.rows[: len(self.rows) - config["INSIGHTS_BUFFER_MAX"]]
            full = len(self.rows) >= config["INSIGHTS_BATCH_SIZE"]
            start = self.thread is None and config["INSIGHTS_FLUSH_SECONDS"] > 0
            if start:
                self.thread = threading.Thread(target=self._run, name="insights-flusher", daemon=True)
        if start:
            self.thread.start()
        if full:
            self.wake.set()

    def take(self) -> list[dict]:
        with self.lock:
            rows, self.rows = self.rows, []
        return rows

    def clear(self) -> None:
        self.take()

    def assign_lead(self, visitor_id: str, lead_id: int) -> None:
        """Give waiting views of a visitor who just became a lead the lead's id."""
        with self.lock:
            for row in self.rows:
                if row["visitor_id"] == visitor_id and row["lead_id"] is None:
                    row["lead_id"] = lead_id

    def forget_lead(self, lead_id: int) -> None:
        with self.lock:
            self.rows = [row for row in self.rows if row["lead_id"] != lead_id]

    def flush(self) -> int:
        """Write the waiting views now (in an app context of their own)."""
        rows = self.take()
        if rows:
            with self.app.app_context():
                store_views(rows)
        return len(rows)

    def _run(self) -> None:
        while not self.stopping:
            self.wake.wait(self.app.config["INSIGHTS_FLUSH_SECONDS"])
            self.wake.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the thread
                self.app.logger.exception("Writing page views failed; they are dropped")


def store_views(rows: list[dict]) -> None:
    """Store page views in their order: a run of anonymous views with one executemany,
    a run of leads' views through events.store_batch, which scores each (event_recorded)."""
    from insights.events import store_batch

    for of_leads, run in itertools.groupby(rows, key=lambda row: row["lead_id"] is not None):
        if of_leads:
            store_batch(list(run))
        else:
            db.session.execute(insert(Event.__table__), list(run))
            db.session.commit()


def buffer(app=None) -> PageViewBuffer:
    return (app or current_app).extensions[KEY]


def flush(app=None) -> int:
    """Write the process's waiting page views now; returns how many."""
    return buffer(app).flush()


def read_visit() -> tuple[int, str, str]:
    """(pages seen so far, channel, landing path) of the current visit, or (0, "", "")."""
    raw = request.cookies.get(VISIT_COOKIE, "")
    seq, _sep, rest = raw.partition(".")
    channel, _sep, landing = rest.partition(".")
    if not seq.isdigit():
        return 0, "", ""
    return int(seq), channel[:20], unquote(landing)[:500]


def visitor_id() -> str | None:
    """The visitor cookie's id when it looks like one of ours."""
    value = request.cookies.get(VISITOR_COOKIE, "")
    return value if len(value) == 32 and value.isalnum() else None


def cookie_lead_id() -> int | None:
    """The lead of the signed progressive-profiling cookie (no query: the id is signed)."""
    from gated.visitor import COOKIE, lead_id_from_cookie

    return lead_id_from_cookie(request.cookies.get(COOKIE))


def _entrance_channel(args, referrer: str, full_path: str) -> str:
    if not args and not referrer:
        return "direct"  # classify_channel's answer without campaign, click id or referrer
    from gated.attribution import classify_channel
    from gated.capture import site_hosts
    from gated.models import UTM_FIELDS

    return classify_channel(
        {name: args.get(name, "") for name in UTM_FIELDS},
        referrer,
        full_path,
        partner_domains=current_app.config["PARTNER_DOMAINS"],
        site_hosts=site_hosts(),
    )


def _kind_of_page(endpoint: str, blueprint: str) -> str | None:
    if endpoint == SEARCH_ENDPOINT:
        return "search"
    if endpoint in PAGE_ENDPOINTS or (blueprint == "content" and endpoint not in NOT_PAGES):
        return "page_view"
    return None


def _counted() -> bool:
    """Whether this request's browser is a visitor we count (not staff, not a bot)."""
    return "_user_id" not in session and not is_bot(request.user_agent.string)


def record_page(_app, page, response, **_ignored):
    """page_seen (core.beacon): store the page view (or search) a page's beacon reports,
    and give the visitor their id and visit cookies on the beacon's answer."""
    kind = _kind_of_page(page.endpoint, page.blueprint)
    if kind is None or not _counted():
        return
    refused = tracking_refused()
    seq, channel, landing = (0, "", "") if refused else read_visit()
    visitor = None if refused else visitor_id()
    new_visitor = not refused and visitor is None
    if new_visitor:
        visitor = secrets.token_hex(16)
    if refused:
        channel = _entrance_channel(page.args, page.referrer, page.full_path)
    elif seq == 0:
        channel, landing = _entrance_channel(page.args, page.referrer, page.full_path), page.path[:500]
    seq = min(seq + 1, 3) if not refused else 0
    row = _row(kind, visitor, None if refused else cookie_lead_id(), page.path, seq, channel, landing)
    if kind == "search":
        row["value"] = page.args.get("q", "")[:200]
    store = buffer()
    store.add(row)
    form = FORM_ENDPOINTS.get(page.endpoint)
    if form:
        store.add({**row, "kind": "form_view", "value": form, "visit_seq": 0})
    if refused:
        return
    secure = request.is_secure
    if new_visitor:
        response.set_cookie(
            VISITOR_COOKIE,
            visitor,
            max_age=current_app.config["INSIGHTS_VISITOR_COOKIE_DAYS"] * 86400,
            httponly=True,
            samesite="Lax",
            secure=secure,
        )
    response.set_cookie(
        VISIT_COOKIE,
        f"{seq}.{channel}.{quote(landing[:200], safe='/')}",
        max_age=VISIT_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=secure,
    )


def _row(kind, visitor, lead_id, path, seq, channel, landing, *, ref_id=None, value="") -> dict:
    # Every row has the same keys: the buffer writes a run of them with one executemany.
    return {
        "kind": kind,
        "occurred_at": utcnow(),
        "visitor_id": visitor,
        "lead_id": lead_id,
        "path": path[:500],
        "ref_id": ref_id,
        "value": value,
        "channel": channel,
        "visit_seq": seq,
        "landing": landing,
    }


def _clicked_article() -> tuple[int | None, str]:
    """The article a search click opened (id, public path), from its signed token."""
    from content.models import Article
    from content.search.analytics import click_payload

    data = request.get_json(silent=True) if request.is_json else request.form
    token = data.get("token") if hasattr(data, "get") else None
    clicked = click_payload(token)
    article = db.session.get(Article, clicked[1]) if clicked else None
    return (article.id, article.url_path) if article is not None else (None, request.path)


def record_click(response):
    """after_request: a click on a search result (a request of its own) with the visitor
    and visit the beacon's cookies name; it sets no cookie. The event names the article
    opened (ref_id, and its page as path), so the view that follows is a search entrance."""
    if request.endpoint != SEARCH_CLICK_ENDPOINT or request.method == "GET":
        return response
    if response.status_code != 200 or not _counted():
        return response
    refused = tracking_refused()
    _seq, channel, landing = (0, "", "") if refused else read_visit()
    visitor = None if refused else visitor_id()
    article_id, path = _clicked_article()
    buffer().add(
        _row(
            "search_click",
            visitor,
            None if refused else cookie_lead_id(),
            path,
            0,
            channel,
            landing,
            ref_id=article_id,
        )
    )
    return response


def record_leave(_app, page, seconds, **_ignored):
    """page_left (core.beacon): how long an article or other page was in view, as a
    page_time event (value: the seconds). Sets no cookie and counts no view."""
    if _kind_of_page(page.endpoint, page.blueprint) != "page_view" or not _counted():
        return
    refused = tracking_refused()
    visitor = None if refused else visitor_id()
    buffer().add(_row("page_time", visitor, None, page.path, 0, "", "", value=str(seconds)))


def init_app(app) -> None:
    app.extensions[KEY] = store = PageViewBuffer(app)
    app.after_request(record_click)
    page_seen.connect(record_page, sender=app, weak=False)
    page_left.connect(record_leave, sender=app, weak=False)

    def flush_at_exit():
        store.stopping = True
        try:
            store.flush()
        except Exception:  # noqa: BLE001 - the database may be gone at exit
            app.logger.exception("Writing page views at exit failed")

    if not app.testing:
        atexit.register(flush_at_exit)
