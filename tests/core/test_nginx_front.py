"""deploy/nginx.conf, run for real in front of the app: nginx accepts it, serves
/static/ from disk, keeps a public page and serves it again without asking the app, and
sends a visitor with a page of their own (a known lead) to the app every time.

Without nginx on PATH these tests skip with the reason (Debian: nginx-light, listed in
bench/debian-packages.txt)."""

import shutil
import subprocess
import urllib.request

import pytest

from bench.harness import ROOT, nginx_config, nginx_front
from tests.conftest import LiveServer, free_port
from tests.content.helpers import make_article

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (Debian: apt-get install nginx-light)"
)
# A visitor whose views insights does not track: a tracked browser's first view sets its
# visitor id cookie, and such a response is its own (core.pagecache).
UNTRACKED = {"Sec-GPC": "1"}


def test_nginx_accepts_the_config(tmp_path):
    config = nginx_config(tmp_path, port=free_port(), upstream_port=8000, static_dir=ROOT / "static")
    checked = subprocess.run([NGINX, "-t", "-c", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


@pytest.fixture
def front(make_app, app, tmp_path):
    """nginx with the shipped config in front of the app (werkzeug in a thread)."""
    site = make_app(PAGE_CACHE_ENABLED=False, HTTP_S_MAXAGE=60)
    server = LiveServer(site)
    try:
        with nginx_front(tmp_path, server.url, ROOT / "static") as url, site.app_context():
            yield url
    finally:
        server.stop()


def fetch(url: str, **headers):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        return response.headers, response.read()


def test_a_public_page_is_served_again_from_nginx(front):
    make_article("正文", title="缓存测试", slug="behind-nginx")
    first_headers, first = fetch(f"{front}/help/behind-nginx", **UNTRACKED)
    again_headers, again = fetch(f"{front}/help/behind-nginx", **UNTRACKED)
    assert first_headers["X-Cache-Status"] == "MISS"
    assert again_headers["X-Cache-Status"] == "HIT" and again == first
    assert again_headers["ETag"] == first_headers["ETag"]
    assert again_headers["Content-Security-Policy"]  # the app's headers pass through


def test_a_known_lead_gets_the_cached_page_and_their_own_answer_from_the_app(front):
    """Progressive profiling asks /forms/known, which no cache keeps; the page is everyone's."""
    make_article("正文", title="缓存测试", slug="own-page")
    fetch(f"{front}/help/own-page", **UNTRACKED)
    headers, _body = fetch(f"{front}/help/own-page", Cookie="lodestar_lead=anything", **UNTRACKED)
    assert headers["X-Cache-Status"] == "HIT"
    for _ in range(2):
        headers, _body = fetch(f"{front}/forms/known?kind=whitepaper", Cookie="lodestar_lead=anything")
        assert headers.get("X-Cache-Status") != "HIT"


def test_visitors_with_different_cookies_share_one_cached_page(front):
    """The beacon's visitor id makes every Cookie header differ: nginx keys on the language."""
    make_article("正文", title="缓存测试", slug="shared-page")
    fetch(f"{front}/help/shared-page", Cookie="lodestar_vid=" + "a" * 32, **UNTRACKED)
    headers, _body = fetch(f"{front}/help/shared-page", Cookie="lodestar_vid=" + "b" * 32, **UNTRACKED)
    assert headers["X-Cache-Status"] == "HIT"


def test_static_files_come_from_disk(front):
    headers, body = fetch(f"{front}/static/css/content.css")
    assert body == (ROOT / "static" / "css" / "content.css").read_bytes()
    assert "X-Cache-Status" not in headers  # never through the app
