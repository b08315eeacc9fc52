"""The whole-page cache: pages come from memory while the articles are unchanged, an edit
shows at once (this process) or within the TTL (another node), a landing page starts no
session, and signed-in staff always see a fresh page."""

import pytest
from sqlalchemy import event, text

from content.services import delete_article, save_article
from core.extensions import db
from tests.conftest import recorded_statements
from tests.core.helpers import services_fields
from tests.factories import BROWSER, make_article


def test_second_visit_is_served_without_a_query(cached):
    make_article("第一版正文", title="缓存测试", slug="cache-probe")
    client = cached.test_client()
    first = client.get("/help/cache-probe")
    assert first.status_code == 200 and "第一版正文" in first.get_data(as_text=True)
    with recorded_statements() as sent:
        again = cached.test_client().get("/help/cache-probe")
    assert again.get_data() == first.get_data()
    assert len(sent) == 0
    assert again.headers["Content-Security-Policy"]  # the hooks still run on cached pages


def test_an_edit_in_this_process_shows_at_once(cached):
    article = make_article("第一版正文", title="缓存测试", slug="cache-edit")
    client = cached.test_client()
    assert "第一版正文" in client.get("/help/cache-edit").get_data(as_text=True)
    fields = {**services_fields(article), "title": "缓存测试"}
    save_article(fields, "第二版正文", article=article, now=article.updated_at)
    assert "第二版正文" in client.get("/help/cache-edit").get_data(as_text=True)


def edit_on_another_node(slug: str) -> None:
    """What another web node's save leaves in the database: new HTML, a newer stamp."""
    later = (
        "updated_at + interval '1 second'"
        if db.engine.dialect.name == "postgresql"
        else "datetime(updated_at, '+1 second')"
    )
    db.session.execute(
        text(f"UPDATE articles SET body_html = '<p>新正文</p>', updated_at = {later} WHERE slug = :slug"),
        {"slug": slug},
    )
    db.session.commit()


def test_an_edit_on_another_node_shows_after_the_ttl(make_app, app):
    other_node = make_app(PAGE_CACHE_ENABLED=True, PAGE_CACHE_TTL=0)
    with other_node.app_context():
        make_article("旧正文", title="缓存测试", slug="cache-node")
        client = other_node.test_client()
        assert "旧正文" in client.get("/help/cache-node").get_data(as_text=True)
        edit_on_another_node("cache-node")
        assert "新正文" in client.get("/help/cache-node").get_data(as_text=True)


def test_a_cached_landing_page_starts_no_session_and_its_form_works(make_app, app):
    from gated.models import Lead
    from tests.factories import form_data, make_whitepaper

    site = make_app(PAGE_CACHE_ENABLED=True, PAGE_CACHE_TTL=3600, WTF_CSRF_ENABLED=True)
    with site.app_context():
        make_whitepaper(slug="cache-csrf")
        for number in range(2):  # rendered for the cache, then served from it
            client = site.test_client()
            page = client.get("/library/cache-csrf")
            assert "csrf_token" not in page.get_data(as_text=True)
            assert not any("session=" in cookie for cookie in page.headers.getlist("Set-Cookie"))
            sent = client.post(
                "/library/cache-csrf",
                data=form_data(email=f"v{number}@example.com"),
                headers={"Sec-Fetch-Site": "same-origin"},
            )
            assert sent.status_code == 303
        assert db.session.query(Lead).count() == 2


def test_signed_in_staff_always_get_a_fresh_page(cached, login_as):
    make_article("正文", title="缓存测试", slug="cache-staff")
    cached.test_client().get("/help/cache-staff")
    staff = login_as("editor", client=cached.test_client())
    with recorded_statements() as sent:
        assert staff.get("/help/cache-staff").status_code == 200
    assert len(sent) > 0


def test_a_known_lead_gets_the_cached_landing_page(cached):
    """Progressive profiling asks /forms/known (gated.forms_views): the page is the same."""
    from tests.factories import make_whitepaper

    make_whitepaper(slug="cache-paper")
    anonymous = cached.test_client().get("/library/cache-paper")
    known = cached.test_client()
    known.set_cookie("lodestar_lead", "anything")
    with recorded_statements() as sent:
        page = known.get("/library/cache-paper")
    assert len(sent) == 0 and page.get_data() == anonymous.get_data()


def test_remembered_values_last_until_the_content_changes(cached):
    from core.pagecache import remembered

    made = []

    def make():
        made.append(1)
        return {"n": len(made)}

    with cached.test_request_context("/"):
        assert remembered("probe", make) == {"n": 1}
        assert remembered("probe", make) == {"n": 1}
        cached.extensions["lodestar.pagecache"].invalidate()
        assert remembered("probe", make) == {"n": 2}
    assert len(made) == 2


def test_a_landing_form_posted_after_its_white_paper_is_deleted_is_404(cached):
    from tests.factories import form_data, make_whitepaper

    article, _asset = make_whitepaper(slug="cache-post")
    client = cached.test_client()
    assert client.post("/library/cache-post", data=form_data()).status_code == 303
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.post("/library/cache-post", data=form_data(email="b@example.com")).status_code == 303
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    # The white paper was looked up for the first submission only; the lead was stored.
    assert not [sql for sql in statements if "FROM articles" in sql]
    assert [sql for sql in statements if sql.startswith("INSERT INTO leads")]
    delete_article(article)
    assert client.post("/library/cache-post", data=form_data(email="c@example.com")).status_code == 404


def test_a_landing_form_with_errors_still_shows_its_white_paper(cached):
    from tests.factories import form_data, make_whitepaper

    make_whitepaper(slug="cache-errors", title="出错也要显示标题")
    client = cached.test_client()
    client.post("/library/cache-errors", data=form_data(email="a@example.com"))
    again = client.post("/library/cache-errors", data=form_data(email="not an address"))
    assert again.status_code == 422
    assert "出错也要显示标题" in again.get_data(as_text=True)


# A visitor whose views insights does not track (Global Privacy Control): a tracked
# browser's view sets the visitor id cookies, and so is its own (see below).
UNTRACKED = {"User-Agent": BROWSER, "Sec-GPC": "1"}


@pytest.fixture(params=["page cache", "no page cache"])
def site(request, make_app, app):
    """The HTTP headers are the same with or without the in-process page cache."""
    enabled = request.param == "page cache"
    site = make_app(PAGE_CACHE_ENABLED=enabled, PAGE_CACHE_TTL=3600, HTTP_MAX_AGE=0, HTTP_S_MAXAGE=7)
    site.extensions["lodestar.pagecache"].invalidate()
    with site.app_context():
        yield site


def test_a_public_page_is_the_same_bytes_for_everyone_with_cache_headers(site):
    make_article("正文", title="缓存测试", slug="http-cache")
    pages = [site.test_client().get("/help/http-cache", headers=UNTRACKED) for _visitor in range(2)]
    assert [page.status_code for page in pages] == [200, 200]
    assert pages[0].get_data() == pages[1].get_data()
    for page in pages:
        assert page.headers.getlist("Set-Cookie") == []
        # A zero is a zero: browsers revalidate every time; the front keeps it 7 s.
        assert page.headers["Cache-Control"] == "public, max-age=0, s-maxage=7, stale-while-revalidate=30"
        assert set(page.headers["Vary"].split(", ")) >= {"Accept-Language", "Cookie"}
    etag = pages[0].headers["ETag"]
    assert etag.startswith('"') and etag == pages[1].headers["ETag"]  # strong, from the bytes


def test_if_none_match_is_a_304_until_the_content_changes(site):
    article = make_article("第一版正文", title="缓存测试", slug="http-etag")
    client = site.test_client()
    etag = client.get("/help/http-etag").headers["ETag"]
    again = client.get("/help/http-etag", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    save_article(
        services_fields(article) | {"title": "缓存测试"},
        "第二版正文",
        article=article,
        now=article.updated_at,
    )
    edited = client.get("/help/http-etag", headers={"If-None-Match": etag})
    assert edited.status_code == 200 and "第二版正文" in edited.get_data(as_text=True)
    assert edited.headers["ETag"] != etag


def test_a_page_of_ones_own_is_kept_by_no_cache(site, login_as):
    make_article("正文", title="缓存测试", slug="http-private")
    staff = login_as("editor", client=site.test_client())
    page = staff.get("/help/http-private")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store" and "ETag" not in page.headers
    assert staff.get("/help/http-private", headers={"If-None-Match": "*"}).status_code == 200


def test_a_browsers_first_view_sets_no_cookie_and_is_public(site):
    """The visitor id comes from the page's beacon (core.beacon), never from the page."""
    make_article("正文", title="缓存测试", slug="http-cookie")
    page = site.test_client().get("/help/http-cookie", headers={"User-Agent": BROWSER})
    assert page.headers.getlist("Set-Cookie") == []
    assert page.cache_control.public and "ETag" in page.headers


def test_a_page_that_sets_a_cookie_is_not_public(site):
    """Choosing a language by ?lang= keeps it in a cookie: that response is the visitor's own."""
    make_article("正文", title="缓存测试", slug="http-lang")
    page = site.test_client().get("/help/http-lang?lang=en", headers={"User-Agent": BROWSER})
    assert "lang=en" in " ".join(page.headers.getlist("Set-Cookie"))
    assert page.headers["Cache-Control"] == "private, no-cache"


def test_a_landing_page_with_its_form_is_public(site):
    from tests.factories import make_whitepaper

    make_whitepaper(slug="http-landing")
    page = site.test_client().get("/library/http-landing", headers=UNTRACKED)
    assert page.status_code == 200 and 'name="started" type="hidden" value=""' in page.get_data(as_text=True)
    assert page.cache_control.public and "ETag" in page.headers


# Repeat hits answered in front of Flask (core.repeathits.RepeatHits) ---------------------


class FlaskRuns:
    """How many requests reached Flask (its request_started signal)."""

    def __init__(self, app):
        self.app = app
        self.count = 0

    def __enter__(self):
        from flask import request_started

        request_started.connect(self.started, self.app)
        return self

    def started(self, _sender, **_extra):
        self.count += 1

    def __exit__(self, *exc):
        from flask import request_started

        request_started.disconnect(self.started, self.app)


def test_a_repeat_hit_is_the_first_response_without_running_flask(cached):
    make_article("正文一", title="重复访问", slug="repeat-same")
    first = cached.test_client().get("/help/repeat-same")
    with FlaskRuns(cached) as runs:
        again = [cached.test_client().get("/help/repeat-same") for _visitor in range(3)]
    assert runs.count == 0
    for page in again:
        assert page.status_code == 200 and page.get_data() == first.get_data()
        assert sorted(page.headers.items()) == sorted(first.headers.items())
    assert "Content-Security-Policy" in again[0].headers and again[0].headers["ETag"]


def test_requests_of_their_own_still_go_through_flask(cached):
    make_article("正文", title="重复访问", slug="repeat-own")
    page = cached.test_client().get("/help/repeat-own")
    etag = page.headers["ETag"]
    with FlaskRuns(cached) as runs:
        visitor = cached.test_client()
        visitor.set_cookie("lang", "zh_CN")
        assert visitor.get("/help/repeat-own").status_code == 200
    assert runs.count == 1
    own = {
        "origin": {"Origin": "https://elsewhere.example"},
        "conditional": {"If-None-Match": etag},
        "authorization": {"Authorization": "Bearer x"},
    }
    for name, headers in own.items():
        with FlaskRuns(cached) as runs:
            answer = cached.test_client().get("/help/repeat-own", headers=headers)
        assert runs.count == 1, name
        assert answer.status_code == (304 if name == "conditional" else 200), name
    with FlaskRuns(cached) as runs:
        assert cached.test_client().head("/help/repeat-own").status_code == 200
    assert runs.count == 1


def test_a_nul_in_a_header_is_refused_on_a_cached_page(cached):
    make_article("正文", title="重复访问", slug="repeat-nul")
    cached.test_client().get("/help/repeat-nul")
    refused = cached.test_client().get("/help/repeat-nul", headers={"User-Agent": "a\x00b"})
    assert refused.status_code == 400


def test_each_language_is_kept_apart(cached):
    cached.test_client().get("/")
    pages = {}
    for language in ("en", "zh-CN,zh;q=0.9", "en"):
        with FlaskRuns(cached) as runs:
            pages.setdefault(language, []).append(
                cached.test_client().get("/", headers={"Accept-Language": language}).get_data(as_text=True)
            )
    english, chinese = pages["en"], pages["zh-CN,zh;q=0.9"]
    assert english[0] == english[1] and runs.count == 0  # the second English visit was a repeat
    assert '<html lang="en"' in english[0] and '<html lang="zh' in chinese[0]


def test_a_response_that_sets_a_cookie_or_is_ones_own_is_never_repeated(cached):
    make_article("正文", title="重复访问", slug="repeat-cookie")
    for url in ("/help/repeat-cookie?lang=en", "/search?q=正文"):
        cached.test_client().get(url)
        with FlaskRuns(cached) as runs:
            cached.test_client().get(url)
        assert runs.count == 1, url


def test_a_page_rendered_while_the_content_changed_is_not_kept(cached):
    """An edit that lands while a page renders forgets every page: the response rendered
    from the old content must not be kept after it."""
    from flask import template_rendered

    make_article("正文", title="重复访问", slug="repeat-race")

    def edited_meanwhile(_sender, **_extra):
        cached.extensions["lodestar.pagecache"].invalidate()

    template_rendered.connect(edited_meanwhile, cached)
    try:
        cached.test_client().get("/help/repeat-race")
    finally:
        template_rendered.disconnect(edited_meanwhile, cached)
    cached.extensions["lodestar.pagecache"].current_epoch()  # checked again: fresh
    with FlaskRuns(cached) as runs:
        cached.test_client().get("/help/repeat-race")
    assert runs.count == 1


def test_repeats_stop_when_the_generation_is_due_for_a_check(cached):
    """Another node's edit: once PAGE_CACHE_TTL has passed since the last check, the next
    request goes through Flask, which sees the new content."""
    make_article("旧正文", title="重复访问", slug="repeat-ttl")
    client = cached.test_client()
    assert "旧正文" in client.get("/help/repeat-ttl").get_data(as_text=True)
    edit_on_another_node("repeat-ttl")
    assert "旧正文" in client.get("/help/repeat-ttl").get_data(as_text=True)  # within the TTL
    cache = cached.extensions["lodestar.pagecache"]
    cache.checked_at -= cache.ttl  # the TTL has passed
    assert "新正文" in client.get("/help/repeat-ttl").get_data(as_text=True)


# Compressed copies --------------------------------------------------------------------


def test_a_browser_that_takes_gzip_gets_the_kept_compressed_copy(site):
    import gzip

    make_article("正文" * 400, title="压缩测试", slug="http-gzip")
    client = site.test_client()
    plain = client.get("/help/http-gzip")
    assert "Content-Encoding" not in plain.headers
    for _visit in range(2):  # rendered, then from the page cache
        packed = client.get("/help/http-gzip", headers={"Accept-Encoding": "gzip, deflate, br"})
        assert packed.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed.get_data()) == plain.get_data()
        assert len(packed.get_data()) < len(plain.get_data()) / 3
        assert packed.headers["ETag"] != plain.headers["ETag"]  # a representation of its own
        assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    for refusing in ("gzip;q=0, identity", "*"):
        refused = client.get("/help/http-gzip", headers={"Accept-Encoding": refusing})
        assert "Content-Encoding" not in refused.headers and refused.get_data() == plain.get_data()
    again = client.get(
        "/help/http-gzip", headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}
    )
    assert again.status_code == 304


def test_small_responses_are_sent_as_they_are(site):
    robots = site.test_client().get("/robots.txt", headers={"Accept-Encoding": "gzip"})
    assert robots.status_code == 200 and "Content-Encoding" not in robots.headers
    assert "Accept-Encoding" not in robots.headers.get("Vary", "")


def test_repeat_hits_keep_each_encoding_apart(cached):
    import gzip

    make_article("正文" * 400, title="压缩测试", slug="repeat-gzip")
    first = cached.test_client().get("/help/repeat-gzip")
    cached.test_client().get("/help/repeat-gzip", headers={"Accept-Encoding": "gzip"})
    with FlaskRuns(cached) as runs:
        plain = cached.test_client().get("/help/repeat-gzip")
        packed = cached.test_client().get("/help/repeat-gzip", headers={"Accept-Encoding": "gzip"})
    assert runs.count == 0
    assert plain.get_data() == first.get_data() and "Content-Encoding" not in plain.headers
    assert (
        packed.headers["Content-Encoding"] == "gzip"
        and gzip.decompress(packed.get_data()) == first.get_data()
    )
