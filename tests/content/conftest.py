"""The browser fixtures of tests/e2e, for the editor's browser test here."""

from tests.e2e.conftest import browser, live_app, live_server, page  # noqa: F401
