"""An edit purges the HTTP cache in front (core.frontcache): PURGE goes to each configured
URL, here a local server that answers as nginx's purge location does and records them."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from content.services import save_article
from tests.core.helpers import services_fields
from tests.factories import make_article


class PurgeFront(BaseHTTPRequestHandler):
    """nginx with proxy_cache_purge: 200 when something was purged, 404 when nothing was
    cached under the key."""

    received: list = []

    def do_PURGE(self):  # noqa: N802 - the method's name is the HTTP verb
        self.received.append((self.command, self.path, self.headers.get("Host")))
        self.send_response(404 if self.path.startswith("/empty") else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def front():
    PurgeFront.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), PurgeFront)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _edit(site, slug):
    with site.app_context():
        article = make_article("第一版", title="清除测试", slug=slug)
        PurgeFront.received.clear()
        save_article(services_fields(article), "第二版", article=article, now=article.updated_at)


def test_an_edit_sends_purge_to_every_configured_url(make_app, app, front):
    port = front.server_address[1]
    site = make_app(FRONT_CACHE_PURGE_URLS=[f"http://127.0.0.1:{port}/*", f"http://localhost:{port}/empty/*"])
    _edit(site, "purged")
    assert PurgeFront.received == [
        ("PURGE", "/*", f"127.0.0.1:{port}"),
        ("PURGE", "/empty/*", f"localhost:{port}"),
    ]


def test_a_front_that_does_not_answer_never_stops_the_edit(make_app, app, front):
    from core import frontcache

    port = front.server_address[1]
    front.shutdown()
    front.server_close()
    site = make_app(FRONT_CACHE_PURGE_URLS=[f"http://127.0.0.1:{port}/*"], FRONT_CACHE_PURGE_TIMEOUT=0.5)
    _edit(site, "unpurged")  # saved, no exception
    with site.app_context():
        assert frontcache.purge(site) == 0


def test_no_purge_url_no_request(make_app, app, front):
    _edit(make_app(), "nothing")
    assert PurgeFront.received == []
