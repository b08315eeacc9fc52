"""Shared fixtures: the app on a real database (SQLite, and PostgreSQL where reachable),
a client per request context, a real SMTP sink, logged-in clients per role.

Every test that uses `app` runs once per database backend; PostgreSQL runs are skipped
with the reason when no server answers (CI always has one).
"""

import contextlib
import contextvars
import os
import re
import socket
import threading
import time
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.serving import make_server

from app import create_app
from core.extensions import db, limiter

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/lodestar_test"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def postgres_url() -> str:
    return os.environ.get("LODESTAR_TEST_DATABASE_URL") or DEFAULT_PG_URL


def ensure_postgres_database(url: str) -> str | None:
    """Create the test database if the server is there. Returns why not, or None."""
    import psycopg

    parts = urlsplit(url.replace("+psycopg", ""))
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {admin} ({str(exc).strip().splitlines()[0]}); set LODESTAR_TEST_DATABASE_URL"
    return None


def require_postgres(url: str) -> str:
    """`url`, its database made if missing; skips the test without a server (fails it
    where LODESTAR_REQUIRE_POSTGRES says one must be there)."""
    reason = ensure_postgres_database(url)
    if reason:
        if os.environ.get("LODESTAR_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    return url


def fresh_postgres_url(suffix: str) -> str:
    """An empty PostgreSQL database of its own beside the test database (dropped and made
    again), for tests that build a schema from nothing. Skips without a server."""
    import psycopg

    base = require_postgres(postgres_url())
    prefix, name = base.rsplit("/", 1)
    fresh = f"{name}_{suffix}"
    admin = prefix.replace("+psycopg", "") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{fresh}"')
    return f"{prefix}/{fresh}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPSink:
    """A real aiosmtpd server on a loopback port that keeps what it receives in memory."""

    def __init__(self):
        self.port = free_port()
        self.messages = []
        self.envelopes = []
        self._lock = threading.Lock()
        self.controller = None
        self.start()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.envelopes.append(envelope)
            self.messages.append(
                message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
            )
        return "250 OK"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    def clear(self):
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()

    def wait_for(self, count: int, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.02)
        return self.messages


def mail_texts(mail) -> tuple[str, str]:
    """The plain-text and HTML bodies of a received mail, with \n line ends."""
    return tuple(
        mail.get_body(preferencelist=(kind,)).get_content().replace("\r\n", "\n")
        for kind in ("plain", "html")
    )


def assert_staff_mail(mail, reason: str) -> None:
    """A mail to staff says why they get it (`reason`, in both parts) and carries none
    of what a prospect's mail does: no unsubscribe link or header, no postal footer."""
    assert mail["List-Unsubscribe"] is None and mail["List-Unsubscribe-Post"] is None
    for body in mail_texts(mail):
        assert reason in body
        assert "退订" not in body and "/u/" not in body and "上海市浦东新区" not in body


def closed_before_written(app):
    """The app with each response read whole and closed before the server writes it.
    Werkzeug's development server closes a response only after draining the socket, and
    a browser that drops the connection meanwhile (navigating away while a static file is
    sent) makes that drain raise first: the file is then left open, and its
    ResourceWarning fails whichever test is running. The site streams nothing."""

    def wsgi(environ, start_response):
        response = app(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            if hasattr(response, "close"):
                response.close()

    return wsgi


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, closed_before_written(app), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def smtp_server():
    sink = SMTPSink()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_sink(smtp_server):
    """The session's SMTP sink, emptied, and running again if a test stopped it."""
    if smtp_server.controller is None:
        smtp_server.start()
    smtp_server.clear()
    yield smtp_server
    if smtp_server.controller is None:
        smtp_server.start()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    return require_postgres(postgres_url())


def settings_for_tests(database_url, tmp_path, smtp_port) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        # Tests empty the rules' table behind the scoring's copy: read them every time.
        "SCORING_RULES_TTL": 0,
        # Tests change rows behind the services' backs; the cache has its own tests.
        "PAGE_CACHE_ENABLED": False,
        # Search by meaning loads a model and embeds in the worker's pass: only the tests
        # about it turn it on (tests/content/search/conftest.py, `meaning`).
        "SEARCH_DENSE": False,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_SUPPRESS_SEND": False,
        "SITE_URL": "http://localhost",
        "SERVER_NAME": None,
        "INDEX_DIR": str(tmp_path / "index"),
        "ASSET_DIR": str(tmp_path / "assets"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "VIDEO_DIR": str(tmp_path / "videos"),
        "OUTBOX_DIR": str(tmp_path / "outbox"),
    }


class IsolatedClient(FlaskClient):
    """A test client whose requests each get their own app context and database session,
    as in production, even while the test holds an app context of its own; afterwards the
    test's session is expired so it reads what the request committed."""

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        from flask import has_app_context

        if has_app_context() and db.session.registry.has():
            db.session.expire_all()
        return response


def empty_tables() -> None:
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    if not tables:
        return
    if db.engine.dialect.name == "postgresql":
        quoted = ", ".join(f'"{name}"' for name in tables)
        db.session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(text(f'DELETE FROM "{name}"'))
    db.session.commit()


@pytest.fixture(scope="session")
def make_app(database_url, tmp_path_factory, smtp_server):
    """Build another app on the test database with some settings changed."""
    built = []

    def build(**overrides):
        settings = settings_for_tests(database_url, tmp_path_factory.mktemp("app"), smtp_server.port)
        settings.update(overrides)
        application = create_app(settings)
        application.test_client_class = IsolatedClient
        built.append(application)
        return application

    build.built = built
    yield build
    # Kept alive until here so no pool is garbage-collected with open connections.
    for application in built:
        with application.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _close_the_pools_of_apps_built_in_the_test(request):
    """An app a test (or its fixture) builds keeps its idle connections in its pool until
    the session ends; dozens of them would pass PostgreSQL's max_connections. Closed at
    the test's end (the app still works: its pool opens connections again when used)."""
    if "make_app" not in request.fixturenames:
        yield
        return
    built = request.getfixturevalue("make_app").built
    before = len(built)
    yield
    for application in built[before:]:
        with application.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def app(make_app):
    application = make_app()
    with application.app_context():
        if db.engine.dialect.name == "postgresql":
            # The database may hold tables this checkout does not know (another branch's,
            # a later revision's) with keys into ours: drop_all would stop at them.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
        db.create_all()
    return application


@pytest.fixture(autouse=True)
def _app_context_and_clean_tables(request):
    """For tests that use the app: an app context during the test, empty tables after."""
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        yield
        db.session.rollback()
        empty_tables()


@pytest.fixture(autouse=True)
def _rate_limits_off_after_each_test():
    """Flask-Limiter's Limiter is one object for every app built here and init_app sets
    its switch: a test that builds an app with limits on would leave them on, with its
    counts, for every test after it (the test settings turn them off)."""
    yield
    limiter.enabled = False


@pytest.fixture
def live_server(app):
    """The app on a real threaded HTTP server on a free port, for requests at once."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def at_once(send, count: int) -> list:
    """Call `send()` from `count` threads at the same moment (behind a barrier) and
    return what each returned. The test's session is rolled back afterwards, so it reads
    what the requests committed."""
    barrier = threading.Barrier(count)
    answers = []

    def run():
        barrier.wait()
        answers.append(send())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    return answers


def post_at_once(url: str, form: dict, count: int) -> list[tuple[int, str]]:
    """POST the form `count` times at the same moment, without following redirects:
    (status, Location) of each answer."""
    import urllib.error
    import urllib.parse
    import urllib.request

    body = urllib.parse.urlencode(form).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def submit():
        try:
            with opener.open(url, data=body, timeout=30) as response:
                return response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.headers.get("Location", "")

    return at_once(submit, count)


def post_json_at_once(url: str, body: dict, headers: dict, count: int) -> list[tuple[int, dict]]:
    """POST `body` as JSON `count` times at the same moment: (status, JSON answer) each."""
    import json
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode()

    def submit():
        request = urllib.request.Request(
            url, data=data, method="POST", headers={**headers, "Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read() or b"{}")

    return at_once(submit, count)


@pytest.fixture
def topics(app):
    """The topics the migrations create (tests build tables with create_all)."""
    from nurture.models import Topic

    made = [
        Topic(slug=slug, name=name)
        for slug, name in (
            ("newsletter", "新闻简报"),
            ("events", "活动与直播"),
            ("product-news", "产品动态"),
            ("follow-up", "资料跟进"),
        )
    ]
    db.session.add_all(made)
    db.session.commit()
    return made


@pytest.fixture
def default_teams(app):
    """The teams and standards per kind the migration creates, {name: Team}."""
    from content.standards import install_default_standards
    from content.teams import all_teams, ensure_default_teams
    from core.timeutil import utcnow

    ensure_default_teams()
    install_default_standards(now=utcnow())
    return {team.name: team for team in all_teams()}


def join_team(team, user, *, reviewer=False) -> None:
    """Put `user` in `team` (a reviewer if told)."""
    from content.teams import TeamMember

    db.session.add(TeamMember(team_id=team.id, user_id=user.id, reviewer=reviewer))
    db.session.commit()


@contextlib.contextmanager
def recorded_statements():
    """The SQL statements sent inside the block, each on one line: what a page or a form
    must keep fixed (the list fills as the block runs)."""
    from sqlalchemy import event as sa_event

    seen = []

    def record(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)


def statements(work) -> int:
    """How many SQL statements `work()` sends (after expiring the session, so nothing
    loaded earlier hides a query): what a set-based page must keep fixed."""
    db.session.expire_all()
    with recorded_statements() as seen:
        work()
    return len(seen)


@pytest.fixture(scope="module")
def cached_app(make_app):
    """An app with the whole-page cache on (the tests' default app has it off)."""
    return make_app(PAGE_CACHE_ENABLED=True, PAGE_CACHE_TTL=3600)


@pytest.fixture
def cached(cached_app, app):
    cached_app.extensions["lodestar.pagecache"].invalidate()
    with cached_app.app_context():
        yield cached_app


@pytest.fixture
def search_index(app):
    """The app's index, emptied of documents left by other tests, syncing on every search."""
    from content.search.state import get_index, state
    from core.timeutil import utcnow

    index = get_index(app)
    index.sync_interval = 0
    # The synonym map read by the last test (whose table was emptied since) is read again
    # now, not a second into this test, between two searches that should give the same.
    state(app).synonyms_checked = float("-inf")
    index.sync(utcnow(), force=True)
    return index


@pytest.fixture
def video_dir(app, tmp_path, monkeypatch):
    """An empty VIDEO_DIR of the test's own, so what a test stores is all that is there."""
    folder = tmp_path / "videos"
    monkeypatch.setitem(app.config, "VIDEO_DIR", str(folder))
    return folder


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def sign_in_session(client, user) -> None:
    """Put a sign-in of `user` into the client's session, as the login page does."""
    from accounts.services import login_key
    from core.timeutil import utcnow

    with client.session_transaction() as session:
        session["_user_id"] = login_key(user, now=utcnow())
        session["_fresh"] = True


@pytest.fixture
def login_as(app):
    """login_as("editor") -> a client signed in as a new user with that role."""
    from tests.factories import UserFactory

    def sign_in(role: str, client=None, **user_fields):
        user = UserFactory(role=role, **user_fields)
        signed_in = client or app.test_client()
        sign_in_session(signed_in, user)
        signed_in.user = user
        return signed_in

    return sign_in


@pytest.fixture
def meaning(app, monkeypatch):
    """Search by meaning on, with the real model (loaded once per process), vectors re-read
    on every search. Returns embed(now=None): the worker's embedding pass."""
    from content.search.state import state
    from content.search.upkeep import embed_pending
    from core.timeutil import utcnow

    monkeypatch.setitem(app.config, "SEARCH_DENSE", True)
    monkeypatch.setattr(state(app).vectors, "every", 0)

    def embed(now=None):
        return embed_pending(now or utcnow())

    return embed


ADMIN_LINK = re.compile(r'href="(/admin/[^"#]*)"')
NOT_A_PAGE = re.compile(r"\.(csv|json)(\?|$)|/export|/download|/preview")


def admin_pages(
    get, start: str = "/admin/", limit: int = 250, *, one_per_kind: bool = False
) -> dict[str, str]:
    """Every admin page a signed-in user reaches by following links from `start`: {path:
    HTML}. `get(path)` returns (status, content type, text). Exports and downloads are
    not pages; of the links to one path with different queries (filters, page 2) the
    first is followed, so the walk covers each page once. `one_per_kind`: one page per
    path with its numbers taken out (one article, one lead), for a walk in a browser."""
    from html import unescape

    def key_of(link: str) -> str:
        path = link.split("?")[0]
        return re.sub(r"\d+", "N", path) if one_per_kind else path

    seen, queue, pages = {key_of(start)}, [start], {}
    while queue and len(pages) < limit:
        path = queue.pop(0)
        status, content_type, text = get(path)
        if status != 200 or not content_type.startswith("text/html"):
            continue
        pages[path] = text
        for link in ADMIN_LINK.findall(text):
            link = unescape(link)
            key = key_of(link)
            if key not in seen and not NOT_A_PAGE.search(link):
                seen.add(key)
                queue.append(link)
    return pages


def rule_url(rule, number: int = 1, numbers=None) -> str:
    """A URL the rule matches: `number` for its integer parts (or only those named in
    `numbers`), the first choice of an any(…) part, and some text for the others."""
    from werkzeug.routing import AnyConverter, IntegerConverter

    def value(name):
        converter = rule._converters.get(name)
        if isinstance(converter, IntegerConverter) and (numbers is None or name in numbers):
            return number
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)[0]
        return "x"

    return rule.build({name: value(name) for name in rule.arguments}, append_unknown=False)[1]


WEBHOOK_SECRET = "hook-secret"


@pytest.fixture(scope="module")
def running_receiver():
    from tests.factories import WebhookReceiver

    running = WebhookReceiver()
    yield running
    running.stop()


@pytest.fixture
def receiver(app, running_receiver):
    """The lead webhook pointed at a real local receiver, signed with WEBHOOK_SECRET."""
    running_receiver.requests.clear()
    running_receiver.fail_next = 0
    app.config.update(LEAD_WEBHOOK_URL=running_receiver.url, LEAD_WEBHOOK_SECRET=WEBHOOK_SECRET)
    yield running_receiver
    app.config.update(LEAD_WEBHOOK_URL="", LEAD_WEBHOOK_SECRET="")
