"""deploy/nginx.conf, run for real in front of the app: nginx accepts it, serves
/static/ from disk, keeps a public page and serves it again without asking the app,
replaces it with the edited page once it is older than s-maxage (with its open file
cache on), and sends a visitor with a page of their own (a known lead) to the app every
time. With page files (core.pagefiles) it sends the file the app wrote, per language and
compressed, never to staff or for a query string, and follows an edit and the window.

Without nginx on PATH these tests skip with the reason (Debian: nginx-light, listed in
bench/debian-packages.txt)."""

import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from bench.harness import ROOT, nginx_config, nginx_front
from tests.conftest import LiveServer, free_port
from tests.factories import make_article

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


def front_of(site, folder):
    """nginx with the shipped config in front of `site` (werkzeug in a thread)."""
    server = LiveServer(site)
    try:
        with nginx_front(folder, server.url, ROOT / "static") as url, site.app_context():
            yield url
    finally:
        server.stop()


@pytest.fixture
def front(make_app, app, tmp_path):
    yield from front_of(make_app(PAGE_CACHE_ENABLED=False, HTTP_S_MAXAGE=60), tmp_path)


@pytest.fixture
def short_front(make_app, app, tmp_path):
    """Pages the front may keep for one second."""
    yield from front_of(make_app(PAGE_CACHE_ENABLED=False, HTTP_S_MAXAGE=1), tmp_path)


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


def test_static_files_from_nginx_carry_the_apps_security_headers(front, app):
    """The app sends its security headers on /static/; nginx serving the files itself
    must send the same ones (a CSP and nosniff on every script and image)."""
    from core.security import security_headers

    with app.test_client().get("/static/css/content.css") as from_app:
        sent_by_app = from_app.headers
    headers, _body = fetch(f"{front}/static/css/content.css")
    for name, value in security_headers(app):
        assert sent_by_app[name] == value
        assert headers[name] == value, name


def test_an_edited_page_replaces_the_kept_one_after_s_maxage(short_front):
    """nginx keeps cache files open between hits (open_file_cache) and replaces a file
    when it refreshes the entry: every hit after the refresh is the edited page."""
    from sqlalchemy import text

    from core.extensions import db

    make_article("第一版正文", title="缓存测试", slug="front-edit")
    url = f"{short_front}/help/front-edit"
    fetch(url, **UNTRACKED)
    headers, body = fetch(url, **UNTRACKED)
    assert headers["X-Cache-Status"] == "HIT" and "<p>第一版正文</p>" in body.decode()
    db.session.execute(text("UPDATE articles SET body_html = '<p>第二版正文</p>' WHERE slug = 'front-edit'"))
    db.session.commit()
    deadline = time.monotonic() + 10
    while "<p>第二版正文</p>" not in fetch(url, **UNTRACKED)[1].decode():
        assert time.monotonic() < deadline, "the edited page never replaced the kept one"
        time.sleep(0.2)
    for _ in range(5):
        headers, body = fetch(url, **UNTRACKED)
        assert "<p>第二版正文</p>" in body.decode() and "<p>第一版正文</p>" not in body.decode()
    assert headers["X-Cache-Status"] == "HIT"


def test_browsers_that_take_gzip_get_the_apps_compressed_copy_from_the_cache(front):
    import gzip

    make_article("正文" * 400, title="缓存测试", slug="front-gzip")
    url = f"{front}/help/front-gzip"
    fetch(url, **UNTRACKED)
    plain_headers, plain = fetch(url, **UNTRACKED)
    fetch(url, **{"Accept-Encoding": "gzip, deflate, br"}, **UNTRACKED)
    headers, packed = fetch(url, **{"Accept-Encoding": "gzip, deflate, br"}, **UNTRACKED)
    assert plain_headers["X-Cache-Status"] == "HIT" and "Content-Encoding" not in plain_headers
    assert headers["X-Cache-Status"] == "HIT" and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed) == plain and headers["ETag"] == plain_headers["ETag"][:-1] + '-gzip"'
    refused_headers, refused = fetch(url, **{"Accept-Encoding": "gzip;q=0"}, **UNTRACKED)
    assert "Content-Encoding" not in refused_headers and refused == plain


@pytest.fixture
def files_front(make_app, app, tmp_path):
    """The front with the app writing page files where the shipped config looks for them."""
    from bench.harness import PAGE_FILES

    site = make_app(PAGE_CACHE_ENABLED=True, PAGE_FILES_DIR=str(tmp_path / PAGE_FILES))
    yield from front_of(site, tmp_path)


def test_a_public_page_is_then_sent_as_the_file_the_app_wrote(files_front):
    make_article("正文", title="文件测试", slug="as-a-file")
    url = f"{files_front}/help/as-a-file"
    first_headers, first = fetch(url, **UNTRACKED)
    assert first_headers["X-Cache-Status"] != "FILE"
    headers, body = fetch(url, **UNTRACKED)
    assert headers["X-Cache-Status"] == "FILE" and body == first
    for name in ("Content-Type", "Cache-Control", "Content-Security-Policy", "X-Frame-Options"):
        assert headers[name] == first_headers[name], name


def test_browsers_that_take_gzip_get_the_compressed_file(files_front):
    import gzip

    make_article("正文" * 400, title="文件测试", slug="gzip-file")
    url = f"{files_front}/help/gzip-file"
    _headers, plain = fetch(url, **UNTRACKED)
    fetch(url, **{"Accept-Encoding": "gzip", **UNTRACKED})
    headers, body = fetch(url, **{"Accept-Encoding": "gzip", **UNTRACKED})
    assert headers["X-Cache-Status"] == "FILE" and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == plain


def test_each_language_has_its_own_file(files_front):
    url = f"{files_front}/"
    for _ in range(2):
        english_headers, english = fetch(url, **{"Accept-Language": "en-US,en;q=0.9", **UNTRACKED})
        chinese_headers, chinese = fetch(url, **{"Accept-Language": "zh-CN,zh;q=0.9", **UNTRACKED})
        cookie_headers, by_cookie = fetch(url, Cookie="lang=en", **{"Accept-Language": "zh-CN", **UNTRACKED})
    assert english_headers["X-Cache-Status"] == chinese_headers["X-Cache-Status"] == "FILE"
    assert cookie_headers["X-Cache-Status"] == "FILE"
    assert b'<html lang="en">' in english and b'<html lang="zh-CN">' in chinese
    assert b'<html lang="en">' in by_cookie


def test_staff_and_query_strings_never_get_a_file(files_front):
    make_article("正文", title="文件测试", slug="not-for-staff")
    url = f"{files_front}/help/not-for-staff"
    for _ in range(2):
        fetch(url, **UNTRACKED)
    headers, _body = fetch(url, Cookie="session=anything", **UNTRACKED)
    assert headers.get("X-Cache-Status") != "FILE"
    for _ in range(2):
        headers, _body = fetch(url + "?utm_source=mail", **UNTRACKED)
    assert headers.get("X-Cache-Status") != "FILE"


def test_an_edit_deletes_the_files_and_the_edited_page_follows(files_front):
    from content.services import save_article
    from core.timeutil import utcnow

    article = make_article("第一版正文", title="文件测试", slug="file-edit")
    url = f"{files_front}/help/file-edit"
    fetch(url, **UNTRACKED)
    headers, body = fetch(url, **UNTRACKED)
    assert headers["X-Cache-Status"] == "FILE" and "第一版正文" in body.decode()
    save_article({"title": "文件测试"}, "第二版正文", article=article, now=utcnow())
    deadline = time.monotonic() + 5  # nginx checks a kept descriptor every second
    while "第二版正文" not in fetch(url, **UNTRACKED)[1].decode():
        assert time.monotonic() < deadline, "the edited page never replaced the file"
        time.sleep(0.2)
    for _ in range(3):
        headers, body = fetch(url, **UNTRACKED)
        assert "第二版正文" in body.decode() and "第一版正文" not in body.decode()
    assert headers["X-Cache-Status"] == "FILE"


def test_a_file_of_a_past_window_is_not_sent(files_front, tmp_path):
    """nginx names the window from its clock: the files of ten seconds ago are not looked at."""
    from bench.harness import PAGE_FILES

    make_article("正文", title="文件测试", slug="past-window")
    url = f"{files_front}/help/past-window"
    fetch(url, **UNTRACKED)
    assert fetch(url, **UNTRACKED)[0]["X-Cache-Status"] == "FILE"
    root = tmp_path / PAGE_FILES
    for window in [path for path in root.iterdir() if path.name.isdigit()]:
        window.rename(root / str(int(window.name) - 100))
    time.sleep(1.1)  # the kept descriptor's check
    assert fetch(url, **UNTRACKED)[0]["X-Cache-Status"] != "FILE"


def test_a_post_reaches_the_app_through_the_front(files_front):
    """A POST is never looked up as a file (nginx would refuse it with 405): the page's
    beacon is answered by the app (204)."""
    body = urllib.parse.urlencode({"u": f"{files_front}/", "r": ""}).encode()
    request = urllib.request.Request(
        f"{files_front}/beacon", data=body, headers={"User-Agent": "Mozilla/5.0 Chrome/131.0"}
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 204
