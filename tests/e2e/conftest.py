"""Browser fixtures: a real server (werkzeug in a thread) on a free port with a real SMTP
sink and a file SQLite database, driven by Debian's Chromium through Playwright.

Without /usr/bin/chromium these tests skip with the reason (CI installs it and sets
LODESTAR_REQUIRE_BROWSER=1, which turns the skip into a failure).
"""

import os
import shutil
from pathlib import Path

import pytest

from app import create_app
from core.extensions import db
from tests.conftest import TEST_SECRET, LiveServer

CHROMIUM = os.environ.get("LODESTAR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_missing_reason() -> str | None:
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        return f"Chromium not found at {CHROMIUM}: apt-get install chromium to run the browser tests"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _browser_missing_reason()
    if reason:
        if os.environ.get("LODESTAR_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def live_app(tmp_path_factory, smtp_server, browser):
    folder = tmp_path_factory.mktemp("e2e")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'e2e.db'}",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_server.port,
            "MAIL_SUPPRESS_SEND": False,
            "RATELIMIT_ENABLED": False,
            "PAGE_CACHE_TTL": 0,
            "SCORING_RULES_TTL": 0,
            "INDEX_DIR": str(folder / "index"),
            "ASSET_DIR": str(folder / "assets"),
            "UPLOAD_DIR": str(folder / "uploads"),
            "VIDEO_DIR": str(folder / "videos"),
            "OUTBOX_DIR": str(folder / "outbox"),
        }
    )
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture(scope="module")
def live_server(live_app):
    server = LiveServer(live_app)
    live_app.config["SITE_URL"] = server.url
    yield server
    server.stop()
    with live_app.app_context():
        db.engine.dispose()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser, live_server):
    """A phone-sized page (a prospect on a phone)."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    yield page
    context.close()


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source():
    if not AXE.exists():
        reason = (
            f"axe-core not installed at {AXE}: run `npm ci` (or `make test`, which does it when npm exists)"
        )
        if os.environ.get("LODESTAR_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")
