"""Page files (core.pagefiles): a page everyone gets is written where the nginx front
looks for it, in this ten-second window, as it is and gzip-compressed; nothing is
written for a request the front would not look up or a page it would send with other
headers; an edit deletes every window; a disk that refuses does not fail the page.
(tests/core/test_nginx_front.py runs the shipped config against these files.)"""

import gzip
import os

import pytest

from bench.harness import ROOT
from core import pagefiles
from core.timeutil import utcnow
from tests.factories import make_article, make_whitepaper

UNTRACKED = {"Sec-GPC": "1"}


@pytest.fixture
def files_app(make_app, app, tmp_path):
    site = make_app(PAGE_CACHE_ENABLED=True, PAGE_FILES_DIR=str(tmp_path / "pages"))
    with site.app_context():
        yield site


def files_of(root) -> dict[str, bytes]:
    """{path under the window: bytes} of every page file."""
    found = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root)
            window, _, rest = relative.partition(os.sep)
            assert window.isdigit() and len(window) == pagefiles.WINDOW_DIGITS
            with open(path, "rb") as handle:
                found[rest] = handle.read()
    return found


def test_a_page_everyone_gets_is_written_where_the_front_looks(files_app, tmp_path):
    make_article("正文" * 400, title="文件", slug="written")
    page = files_app.test_client().get("/help/written", headers=UNTRACKED)
    assert page.status_code == 200
    files = files_of(tmp_path / "pages")
    assert files["localhost/help/written@-@-.html"] == page.get_data()
    assert gzip.decompress(files["localhost/help/written@-@-.html.gz"]) == page.get_data()
    assert page.headers["X-Lodestar-Page-File"] == "1"  # the front keeps it nowhere else
    # The language the page came in is in the name: another browser's is its own file.
    chinese = files_app.test_client().get("/", headers=UNTRACKED)
    english = files_app.test_client().get("/", headers={"Accept-Language": "en", **UNTRACKED})
    by_cookie = files_app.test_client(use_cookies=False).get("/", headers={"Cookie": "lang=en", **UNTRACKED})
    files = files_of(tmp_path / "pages")
    assert b'<html lang="en">' in english.get_data() and b'<html lang="zh-CN">' in chinese.get_data()
    assert files["localhost/@-@-.html"] == chinese.get_data()
    assert files["localhost/@-@en.html"] == english.get_data()
    assert files["localhost/@en@-.html"] == by_cookie.get_data() == english.get_data()


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/help/unseen?utm_source=mail", {}),  # the front asks the app for every query string
        ("/help/unseen", {"Cookie": "session=x"}),  # staff (the front sends them to the app)
        ("/help/unseen", {"Cookie": "lang=en; lang=zh-CN"}),  # which one nginx reads is not ours to guess
        ("/help/unseen", {"Accept-Language": "../../etc/passwd"}),  # a path, not a language
        ("/help/unseen", {"Accept-Language": "zh-CN," * 20}),  # longer than the front's map takes
        ("/help//unseen", {}),  # nginx merges the slashes: another path
        ("/help/nothing-here", {}),  # a 404
    ],
)
def test_nothing_is_written_for_a_request_the_front_would_not_look_up(files_app, tmp_path, path, headers):
    make_article("正文", title="文件", slug="unseen")
    # Without a cookie jar, which would replace the Cookie header given.
    response = files_app.test_client(use_cookies=False).get(path, headers={**UNTRACKED, **headers})
    assert response.status_code in (200, 308, 404)
    assert "X-Lodestar-Page-File" not in response.headers
    assert files_of(tmp_path / "pages") == {}


def test_a_page_with_headers_of_its_own_is_not_a_file(make_app, app, tmp_path):
    """An embedded form's frame names the sites that may show it (frame-ancestors):
    nginx would send a file with the site's own policy."""
    site = make_app(
        PAGE_CACHE_ENABLED=True,
        PAGE_FILES_DIR=str(tmp_path / "pages"),
        EMBED_ORIGINS=["https://partner.example"],
    )
    with site.app_context():
        make_whitepaper()
        frame = site.test_client().get("/embed/library/saas-renewal", headers=UNTRACKED)
        assert (
            frame.status_code == 200 and "https://partner.example" in frame.headers["Content-Security-Policy"]
        )
        assert files_of(tmp_path / "pages") == {}
        landing = site.test_client().get("/library/saas-renewal", headers=UNTRACKED)
        assert files_of(tmp_path / "pages")["localhost/library/saas-renewal@-@-.html"] == landing.get_data()


def test_an_edit_deletes_every_window_and_the_next_view_writes_the_edited_page(files_app, tmp_path):
    from content.services import save_article

    article = make_article("第一版正文", title="文件", slug="edited")
    client = files_app.test_client()
    client.get("/help/edited", headers=UNTRACKED)
    old_window = tmp_path / "pages" / "100000000"
    old_window.mkdir()
    assert "第一版正文" in files_of(tmp_path / "pages")["localhost/help/edited@-@-.html"].decode()
    save_article({"title": "文件"}, "第二版正文", article=article, now=utcnow())
    assert not any(path.name.isdigit() for path in (tmp_path / "pages").iterdir())
    client.get("/help/edited", headers=UNTRACKED)
    assert "第二版正文" in files_of(tmp_path / "pages")["localhost/help/edited@-@-.html"].decode()


def test_a_new_window_removes_those_before_the_last(files_app, tmp_path):
    make_article("正文", title="文件", slug="windows")
    root = tmp_path / "pages"
    root.mkdir()
    (root / "100000000").mkdir()
    (root / "100000000" / "stale.html").write_text("old")
    files_app.test_client().get("/help/windows", headers=UNTRACKED)
    assert sorted(path.name for path in root.iterdir()) == [pagefiles.window()]


def test_each_process_writes_at_most_page_files_max_in_a_window(make_app, app, tmp_path):
    site = make_app(PAGE_CACHE_ENABLED=True, PAGE_FILES_DIR=str(tmp_path / "pages"), PAGE_FILES_MAX=2)
    with site.app_context():
        make_article("正文", title="文件", slug="capped")
        for language in ("en", "zh-CN", "zh-TW", "fr"):
            response = site.test_client().get(
                "/help/capped", headers={"Accept-Language": language, **UNTRACKED}
            )
            assert response.status_code == 200
        assert len([name for name in files_of(tmp_path / "pages") if name.endswith(".html")]) == 2


def test_a_disk_that_refuses_the_file_does_not_fail_the_page(make_app, app, tmp_path):
    (tmp_path / "pages").write_text("a file where the folder should be")
    site = make_app(PAGE_CACHE_ENABLED=True, PAGE_FILES_DIR=str(tmp_path / "pages"))
    with site.app_context():
        make_article("正文", title="文件", slug="refused")
        for _ in range(2):
            response = site.test_client().get("/help/refused", headers=UNTRACKED)
            assert response.status_code == 200 and "正文" in response.get_data(as_text=True)


def test_the_headers_nginx_gives_a_file_are_the_apps(files_app):
    """deploy/nginx.conf adds these to a file; the app's own page carries the same."""
    make_article("正文", title="文件", slug="same-headers")
    page = files_app.test_client().get("/help/same-headers", headers=UNTRACKED)
    expected = pagefiles.file_headers(files_app)
    for name, value in expected.items():
        if name != "Vary":  # a page under 1 KB is not compressed, so does not vary on it
            assert page.headers[name] == value, name
    location = (ROOT / "deploy" / "nginx.conf").read_text().split("try_files $lodestar_page_file")[1]
    location = location.split("}")[0]
    for name, value in expected.items():
        if name != "Content-Type":  # nginx's types and `charset utf-8`
            assert (
                f'add_header {name} "{value}" always;' in location
                or f"add_header {name} {value} always;" in location
            ), name


def test_a_change_another_node_made_is_written_once_this_process_sees_it(make_app, app, tmp_path):
    """Within a window: the content generation moved (no signal here), the page is
    rendered anew and its file written again, not left as this process first wrote it."""
    from sqlalchemy import text

    from core.extensions import db

    site = make_app(PAGE_CACHE_ENABLED=True, PAGE_CACHE_TTL=0, PAGE_FILES_DIR=str(tmp_path / "pages"))
    with site.app_context():
        make_article("第一版正文", title="文件", slug="elsewhere")
        site.test_client().get("/help/elsewhere", headers=UNTRACKED)
        assert "第一版正文" in files_of(tmp_path / "pages")["localhost/help/elsewhere@-@-.html"].decode()
        db.session.execute(
            text(
                "UPDATE articles SET body_html = '<p>第二版正文</p>', updated_at = updated_at + interval '1 second'"
                if db.engine.dialect.name == "postgresql"
                else "UPDATE articles SET body_html = '<p>第二版正文</p>', updated_at = datetime(updated_at, '+1 second')"
            )
        )
        db.session.commit()
        site.test_client().get("/help/elsewhere", headers=UNTRACKED)
        assert "第二版正文" in files_of(tmp_path / "pages")["localhost/help/elsewhere@-@-.html"].decode()
