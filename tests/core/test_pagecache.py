"""The whole-page cache: pages come from memory while the articles are unchanged, an edit
shows at once (this process) or within the TTL (another node), a landing page starts no
session, and signed-in staff always see a fresh page."""

import re

import pytest
from sqlalchemy import event, text

from content import services
from core.extensions import db
from tests.content.helpers import make_article


@pytest.fixture(scope="module")
def cached_app(make_app):
    return make_app(PAGE_CACHE_ENABLED=True, PAGE_CACHE_TTL=3600)


@pytest.fixture
def cached(cached_app, app):
    cached_app.extensions["lodestar.pagecache"].invalidate()
    with cached_app.app_context():
        yield cached_app


class QueryCounter:
    def __init__(self, engine):
        self.count = 0
        self.engine = engine

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self.inc)
        return self

    def inc(self, *args):
        self.count += 1

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self.inc)


def test_second_visit_is_served_without_a_query(cached):
    make_article("第一版正文", title="缓存测试", slug="cache-probe")
    client = cached.test_client()
    first = client.get("/help/cache-probe")
    assert first.status_code == 200 and "第一版正文" in first.get_data(as_text=True)
    with QueryCounter(db.engine) as counter:
        again = cached.test_client().get("/help/cache-probe")
    assert again.get_data() == first.get_data()
    assert counter.count == 0
    assert again.headers["Content-Security-Policy"]  # the hooks still run on cached pages


def test_an_edit_in_this_process_shows_at_once(cached):
    article = make_article("第一版正文", title="缓存测试", slug="cache-edit")
    client = cached.test_client()
    assert "第一版正文" in client.get("/help/cache-edit").get_data(as_text=True)
    fields = {**services_fields(article), "title": "缓存测试"}
    services.save_article(fields, "第二版正文", article=article, now=article.updated_at)
    assert "第二版正文" in client.get("/help/cache-edit").get_data(as_text=True)


def test_an_edit_on_another_node_shows_after_the_ttl(make_app, app):
    other_node = make_app(PAGE_CACHE_ENABLED=True, PAGE_CACHE_TTL=0)
    with other_node.app_context():
        make_article("旧正文", title="缓存测试", slug="cache-node")
        client = other_node.test_client()
        assert "旧正文" in client.get("/help/cache-node").get_data(as_text=True)
        # What another web node's save leaves in the database: new HTML, a newer stamp.
        db.session.execute(
            text(
                "UPDATE articles SET body_html = '<p>新正文</p>', "
                "updated_at = updated_at + interval '1 second' WHERE slug = 'cache-node'"
                if db.engine.dialect.name == "postgresql"
                else "UPDATE articles SET body_html = '<p>新正文</p>', "
                "updated_at = datetime(updated_at, '+1 second') WHERE slug = 'cache-node'"
            )
        )
        db.session.commit()
        assert "新正文" in client.get("/help/cache-node").get_data(as_text=True)


def test_a_cached_landing_page_starts_no_session_and_its_form_works(make_app, app):
    from gated.models import Lead
    from tests.gated.conftest import form_data, make_whitepaper

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
    with QueryCounter(db.engine) as counter:
        assert staff.get("/help/cache-staff").status_code == 200
    assert counter.count > 0


def services_fields(article):
    return {
        name: getattr(article, name)
        for name in (
            "kind",
            "locale",
            "category",
            "tags",
            "summary",
            "status",
            "featured",
            "translation_key",
            "seo_title",
            "seo_description",
            "asset_source",
            "sequence_slug",
            "review_by",
            "published_at",
            "slug",
        )
    }


def test_cached_landing_page_gives_each_visitor_their_own_start_time_and_referrer(cached):
    from core.tokens import unsign
    from gated.models import Lead
    from tests.gated.conftest import make_whitepaper

    make_whitepaper(slug="cache-paper")
    first = cached.test_client().get(
        "/library/cache-paper", headers={"Referer": "https://www.baidu.com/s?wd=a"}
    )
    second_client = cached.test_client()
    second = second_client.get("/library/cache-paper", headers={"Referer": "https://www.zhihu.com/q?x=1&y=2"})
    starts = [
        re.search(r'name="started" type="hidden" value="([^"]+)"', r.get_data(as_text=True)).group(1)
        for r in (first, second)
    ]
    assert starts[0] != starts[1]
    assert all(isinstance(unsign("form-start", token)["t"], float) for token in starts)
    page = second.get_data(as_text=True)
    assert 'value="https://www.zhihu.com/q?x=1&amp;y=2"' in page
    assert "baidu" not in page and "lodestar-visitor" not in page
    # A returning lead (with the cookie) never gets the anonymous cached page.
    second_client.set_cookie("lodestar_lead", "anything")
    with QueryCounter(db.engine) as counter:
        second_client.get("/library/cache-paper")
    assert counter.count > 0
    assert db.session.query(Lead).count() == 0


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
    from tests.gated.conftest import form_data, make_whitepaper

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
    services.delete_article(article)
    assert client.post("/library/cache-post", data=form_data(email="c@example.com")).status_code == 404


def test_a_landing_form_with_errors_still_shows_its_white_paper(cached):
    from tests.gated.conftest import form_data, make_whitepaper

    make_whitepaper(slug="cache-errors", title="出错也要显示标题")
    client = cached.test_client()
    client.post("/library/cache-errors", data=form_data(email="a@example.com"))
    again = client.post("/library/cache-errors", data=form_data(email="not an address"))
    assert again.status_code == 422
    assert "出错也要显示标题" in again.get_data(as_text=True)
