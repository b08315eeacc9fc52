"""deploy/nginx.conf, run for real in front of the app: nginx accepts it, serves
/static/ from disk, keeps a public page and serves it again without asking the app, and
sends a visitor with a page of their own (a known lead) to the app every time.

Without nginx on PATH these tests skip with the reason (Debian: nginx-light; `make
bench-deps` installs it, bench/debian-packages.txt)."""

import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import LiveServer, free_port
from tests.content.helpers import make_article

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (Debian: apt-get install nginx-light)"
)
# A visitor whose views insights does not track: a tracked browser's first view sets its
# visitor id cookie, and such a response is its own (core.pagecache).
UNTRACKED = {"Sec-GPC": "1"}


def local_config(tmp_path: Path, *, port: int, upstream: int) -> Path:
    """The shipped file with its machine paths and ports pointed at this test's."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    for production, here in [
        ("/run/nginx-lodestar.pid", str(tmp_path / "nginx.pid")),
        ("/var/log/nginx/lodestar-", str(tmp_path / "log-")),
        ("/var/cache/nginx/lodestar", str(tmp_path / "cache")),
        ("/srv/lodestar/static/", f"{ROOT / 'static'}/"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
    ]:
        assert production in text, production
        text = text.replace(production, here)
    config = tmp_path / "nginx.conf"
    config.write_text(text)
    return config


def test_nginx_accepts_the_config(tmp_path):
    checked = subprocess.run(
        [NGINX, "-t", "-c", str(local_config(tmp_path, port=free_port(), upstream=8000))],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


@pytest.fixture
def front(make_app, app, tmp_path):
    """nginx with the shipped config in front of the app (werkzeug in a thread)."""
    site = make_app(PAGE_CACHE_ENABLED=False, HTTP_S_MAXAGE=60)
    server = LiveServer(site)
    port = free_port()
    config = local_config(tmp_path, port=port, upstream=server.server.server_port)
    nginx = subprocess.Popen([NGINX, "-c", str(config), "-g", "daemon off; master_process off;"])
    try:
        for _attempt in range(200):  # until nginx listens
            assert nginx.poll() is None, "nginx stopped"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/content.css").close()
                break
            except OSError:
                time.sleep(0.05)
        with site.app_context():
            yield f"http://127.0.0.1:{port}", site
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        server.stop()


def fetch(url: str, **headers):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
        return response.headers, response.read()


def test_a_public_page_is_served_again_from_nginx(front):
    url, _site = front
    make_article("正文", title="缓存测试", slug="behind-nginx")
    first_headers, first = fetch(f"{url}/help/behind-nginx", **UNTRACKED)
    again_headers, again = fetch(f"{url}/help/behind-nginx", **UNTRACKED)
    assert first_headers["X-Cache-Status"] == "MISS"
    assert again_headers["X-Cache-Status"] == "HIT" and again == first
    assert again_headers["ETag"] == first_headers["ETag"]
    assert again_headers["Content-Security-Policy"]  # the app's headers pass through


def test_a_known_lead_always_reaches_the_app(front):
    url, _site = front
    make_article("正文", title="缓存测试", slug="own-page")
    fetch(f"{url}/help/own-page", **UNTRACKED)
    headers, _body = fetch(f"{url}/help/own-page", Cookie="lodestar_lead=anything", **UNTRACKED)
    assert headers["X-Cache-Status"] == "BYPASS"


def test_static_files_come_from_disk(front):
    url, _site = front
    headers, body = fetch(f"{url}/static/css/content.css")
    assert body == (ROOT / "static" / "css" / "content.css").read_bytes()
    assert "X-Cache-Status" not in headers  # never through the app
