"""The editor: role rules, writing and publishing in the browser, preview, revisions
with diff and restore, uploads (size limit, safe serving), the gated file."""

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from content.models import Article, Revision
from core.extensions import db
from tests.conftest import sign_in_session
from tests.content.helpers import ARTICLE_FORM as FORM
from tests.factories import make_article

pytestmark = pytest.mark.usefixtures("app")


def only_article():
    return db.session.scalar(select(Article))


@pytest.mark.parametrize(
    "role, status",
    [("editor", 200), ("admin", 200), ("marketer", 403), ("sales", 403)],
)
def test_editor_pages_are_for_editors_and_admins(login_as, role, status):
    client = login_as(role)
    article = make_article(status="draft")
    for url in (
        "/admin/content/",
        "/admin/content/new",
        f"/admin/content/{article.id}",
        f"/admin/content/{article.id}/revisions",
    ):
        assert client.get(url).status_code == status, url
    posted = client.post("/admin/content/new", data={**FORM, "action": "save"})
    assert posted.status_code == (303 if status == 200 else 403)
    assert client.post("/admin/content/preview", data={"body": "x"}).status_code == status


def test_anonymous_visitors_are_sent_to_login(client):
    for url in ("/admin/content/", "/admin/content/new"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post("/admin/content/new", data={**FORM, "action": "save"}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Article)) == 0


def test_editor_writes_previews_and_sends_to_review_admin_publishes(login_as, client):
    editor = login_as("editor")
    form = editor.get("/admin/content/new").get_data(as_text=True)
    assert 'name="body"' in form and "content-editor.js" in form
    # Preview without JavaScript: the same page, rendered body, nothing saved.
    preview = editor.post("/admin/content/new", data={**FORM, "action": "preview"}).get_data(as_text=True)
    assert '<h2 id="第一步">第一步</h2>' in preview and "<script>x()" not in preview
    assert only_article() is None
    # Save a draft.
    response = editor.post("/admin/content/new", data={**FORM, "action": "save"})
    assert response.status_code == 303
    article = only_article()
    assert response.headers["Location"].endswith(f"/admin/content/{article.id}")
    assert (article.slug, article.status, article.tags) == (
        "ruhe-tigao-xufeilv",
        "draft",
        ["续费", "客户成功", "NPS"],
    )
    assert article.body_md == "## 第一步\n\n正文<script>x()</script>"
    assert client.get("/help/ruhe-tigao-xufeilv").status_code == 404
    page = editor.get(f"/admin/content/{article.id}").get_data(as_text=True)
    assert 'value="submit"' in page and 'value="publish"' not in page
    # The editor cannot publish, even by sending the button's value by hand.
    assert editor.post(f"/admin/content/{article.id}", data={**FORM, "action": "publish"}).status_code == 403
    assert editor.post(f"/admin/content/{article.id}", data={**FORM, "action": "submit"}).status_code == 303
    db.session.refresh(article)
    assert article.status == "in_review"

    admin = login_as("admin")
    assert 'value="publish"' in admin.get(f"/admin/content/{article.id}").get_data(as_text=True)
    assert admin.post(f"/admin/content/{article.id}", data={**FORM, "action": "publish"}).status_code == 303
    db.session.refresh(article)
    assert article.status == "published"
    public = client.get("/help/ruhe-tigao-xufeilv")
    assert public.status_code == 200 and "<script>x()" not in public.get_data(as_text=True)
    assert "/help/ruhe-tigao-xufeilv" in client.get("/sitemap.xml").get_data(as_text=True)
    assert "如何提高续费率" in client.get("/feed.xml").get_data(as_text=True)
    # Published: the editor sees it read-only and cannot save.
    assert 'value="save"' not in editor.get(f"/admin/content/{article.id}").get_data(as_text=True)
    assert (
        editor.post(
            f"/admin/content/{article.id}", data={**FORM, "title": "改", "action": "save"}
        ).status_code
        == 403
    )
    db.session.refresh(article)
    assert article.title == "如何提高续费率"
    # Unpublish and archive are the admin's.
    assert admin.post(f"/admin/content/{article.id}", data={**FORM, "action": "unpublish"}).status_code == 303
    assert client.get("/help/ruhe-tigao-xufeilv").status_code == 404
    assert admin.post(f"/admin/content/{article.id}", data={**FORM, "action": "archive"}).status_code == 303
    db.session.refresh(article)
    assert article.status == "archived"


def test_future_publish_time_schedules(login_as, client):
    admin = login_as("admin")
    response = admin.post(
        "/admin/content/new", data={**FORM, "published_at": "2099-01-01T09:00", "action": "publish"}
    )
    assert response.status_code == 303
    article = only_article()
    assert article.status == "published"
    assert article.published_at.isoformat() == "2099-01-01T01:00:00"  # Shanghai 09:00 in UTC
    assert client.get(article.url_path).status_code == 404
    assert 'class="badge scheduled"' in admin.get("/admin/content/").get_data(as_text=True)


def test_form_errors_are_shown_beside_the_fields_and_nothing_is_saved(login_as):
    editor = login_as("editor")
    response = editor.post("/admin/content/new", data={**FORM, "title": "", "action": "save"})
    assert response.status_code == 422
    bad_date = editor.post("/admin/content/new", data={**FORM, "published_at": "soon", "action": "save"})
    assert bad_date.status_code == 422
    assert 'id="published_at-error"' in bad_date.get_data(as_text=True)
    assert only_article() is None
    # A typed slug is cleaned up rather than refused (files, where it is the URL, are strict).
    assert (
        editor.post("/admin/content/new", data={**FORM, "slug": "Not OK!", "action": "save"}).status_code
        == 303
    )
    assert only_article().slug == "not-ok"
    make_article(slug="taken")
    taken = editor.post("/admin/content/new", data={**FORM, "slug": "taken", "action": "save"})
    assert taken.status_code == 422 and 'id="slug-error"' in taken.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Article)) == 2


def test_live_preview_endpoint_uses_the_same_pipeline(login_as):
    editor = login_as("editor")
    response = editor.post("/admin/content/preview", data={"body": "## 标题\n\n<img src=x onerror=alert(1)>"})
    html = response.get_json()["html"]
    assert '<h2 id="标题">标题</h2>' in html and "onerror" not in html


def test_preview_needs_csrf(make_app):
    from tests.factories import UserFactory

    protected = make_app(WTF_CSRF_ENABLED=True)
    with protected.app_context():
        user = UserFactory(role="editor")
        client = protected.test_client()
        sign_in_session(client, user)
        assert client.post("/admin/content/preview", data={"body": "x"}).status_code == 400
        page = client.get("/admin/content/new").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post(
            "/admin/content/preview", data={"body": "**x**", "csrf_token": token}
        ).get_json() == {"html": "<p><strong>x</strong></p>"}


def test_list_filters(login_as):
    editor = login_as("editor")
    other = login_as("editor")
    from datetime import timedelta

    from core.timeutil import utcnow

    mine = make_article(title="我的草稿", slug="mine", status="draft")
    mine.owner_id = editor.user.id
    stale = make_article(title="该复查了", slug="stale", kind="blog", review_by=utcnow() - timedelta(days=1))
    make_article(title="别人的", slug="theirs", status="in_review")
    db.session.commit()
    listing = lambda query: editor.get("/admin/content/?" + query).get_data(as_text=True)  # noqa: E731
    assert all(title in listing("") for title in ("我的草稿", "该复查了", "别人的"))
    assert "我的草稿" in listing("status=draft") and "别人的" not in listing("status=draft")
    assert "该复查了" in listing("kind=blog") and "我的草稿" not in listing("kind=blog")
    assert "我的草稿" in listing(f"owner={editor.user.id}") and "该复查了" not in listing(
        f"owner={editor.user.id}"
    )
    assert "我的草稿" not in listing(f"owner={other.user.id}")
    assert "该复查了" in listing("stale=1") and "我的草稿" not in listing("stale=1")
    assert stale.review_by is not None


def test_revisions_diff_and_restore(login_as):
    editor = login_as("editor")
    editor.post("/admin/content/new", data={**FORM, "body": "第一版", "action": "save"})
    article = only_article()
    editor.post(f"/admin/content/{article.id}", data={**FORM, "body": "第二版", "action": "save"})
    first, second = db.session.scalars(select(Revision).order_by(Revision.id)).all()
    page = editor.get(f"/admin/content/{article.id}/revisions").get_data(as_text=True)
    assert '<span class="diff-del">-第一版</span>' in page and '<span class="diff-add">+第二版</span>' in page
    older = editor.get(f"/admin/content/{article.id}/revisions?rev={first.id}").get_data(as_text=True)
    assert f"/revisions/{first.id}/restore" in older
    response = editor.post(f"/admin/content/{article.id}/revisions/{first.id}/restore")
    assert response.status_code == 303
    db.session.refresh(article)
    assert article.body_md == "第一版" and "第一版" in article.body_html
    assert db.session.scalar(select(func.count()).select_from(Revision)) == 3
    # A revision of another article is not found under this one.
    make_article(slug="other")
    other_revision = db.session.scalars(select(Revision).order_by(Revision.id.desc())).first()
    assert (
        editor.post(f"/admin/content/{article.id}/revisions/{other_revision.id}/restore").status_code == 404
    )


def test_upload_stores_and_serves_images(login_as, client, app):
    editor = login_as("editor")
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    response = editor.post(
        "/admin/content/uploads",
        data={"file": (io.BytesIO(png), "图表 chart.png")},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert re.fullmatch(r"/uploads/[0-9a-f]{16}-chart\.png", body["url"])
    assert body["markdown"] == f"![图表 chart]({body['url']})"
    with client.get(body["url"]) as served:
        assert served.data == png and served.mimetype == "image/png"
    # Without JavaScript: a page that shows what to paste.
    page = editor.post("/admin/content/uploads", data={"file": (io.BytesIO(b"%PDF-1.4"), "guide.pdf")})
    assert page.status_code == 201 and "[guide.pdf](/uploads/" in page.get_data(as_text=True)


def test_upload_is_size_limited_and_role_checked(make_app, login_as):
    small = make_app(CONTENT_UPLOAD_MAX_BYTES=1000)
    with small.app_context():
        from tests.factories import UserFactory

        user = UserFactory(role="editor")
        client = small.test_client()
        sign_in_session(client, user)
        too_big = client.post("/admin/content/uploads", data={"file": (io.BytesIO(b"x" * 5000), "big.png")})
        assert too_big.status_code == 413
        assert (
            client.post(
                "/admin/content/uploads", data={"file": (io.BytesIO(b"x" * 900), "ok.png")}
            ).status_code
            == 201
        )
        assert [p.name.split("-", 1)[1] for p in Path(small.config["UPLOAD_DIR"]).iterdir()] == ["ok.png"]
    marketer = login_as("marketer")
    assert (
        marketer.post("/admin/content/uploads", data={"file": (io.BytesIO(b"x"), "a.png")}).status_code == 403
    )


def test_gated_file_upload_for_a_white_paper(login_as, app):
    admin = login_as("admin")
    data = {**FORM, "kind": "whitepaper", "sequence": "whitepaper-followup", "action": "save"}
    data["gated_file"] = (io.BytesIO(b"%PDF-1.4 paper"), "续费指南.pdf")
    assert admin.post("/admin/content/new", data=data).status_code == 303
    article = only_article()
    source = Path(article.asset_source)
    assert source.read_bytes() == b"%PDF-1.4 paper"
    assert Path(app.instance_path) in source.parents and "uploads" not in source.parts
    # Saving again without a new file keeps it.
    assert (
        admin.post(
            f"/admin/content/{article.id}", data={**FORM, "kind": "whitepaper", "action": "save"}
        ).status_code
        == 303
    )
    db.session.refresh(article)
    assert article.asset_source == str(source)
    source.unlink()


def test_a_body_past_the_markdown_bounds_is_refused_beside_the_body_and_nothing_is_stored(login_as):
    editor = login_as("editor")
    for action in ("save", "preview"):
        response = editor.post("/admin/content/new", data={**FORM, "body": "[" * 50000, "action": action})
        assert response.status_code == 422, action
        page = response.get_data(as_text=True)
        assert re.search(r'id="body".*?</textarea>\s*<p class="error">正文的行内标记', page, re.S), action
        assert "[" * 50000 in page  # what was typed is kept
    assert db.session.scalar(select(func.count()).select_from(Article)) == 0
    assert db.session.scalar(select(func.count()).select_from(Revision)) == 0


def test_a_body_past_the_markdown_bounds_keeps_the_article_as_it_was(login_as):
    editor = login_as("editor")
    article = make_article(status="draft", body="原文")
    response = editor.post(
        f"/admin/content/{article.id}", data={**FORM, "body": "#### x\n" * 2000, "action": "save"}
    )
    assert response.status_code == 422
    db.session.refresh(article)
    assert article.body_md == "原文"
    assert db.session.scalar(select(func.count()).select_from(Revision)) == 1


def test_the_live_preview_answers_422_with_the_reason(login_as):
    editor = login_as("editor")
    response = editor.post("/admin/content/preview", data={"body": "&#x41;" * 80000})
    assert response.status_code == 422
    assert response.get_json() == {"error": response.get_json()["error"], "field": "body"}
    assert response.get_json()["error"].startswith("正文的行内标记（* _ ` [ ( & <）相对其长度过多")


def test_the_list_searches_sorts_and_pages_by_keyset(app, login_as, monkeypatch):
    from content import admin as content_admin

    monkeypatch.setattr(content_admin, "PAGE_SIZE", 2)
    editor = login_as("editor")
    for n, title in enumerate(["续费提醒", "价格说明", "续费报表", "安装指南", "续费预测"]):
        make_article(title=title, slug=f"art-{n}", status="draft")
    html = editor.get("/admin/content/?q=续费&sort=title").get_data(as_text=True)
    assert "(3)" in html and "价格说明" not in html
    walked = re.findall(r'<a href="/admin/content/\d+">([^<]+)</a>', html)
    while found := re.search(r'rel="next" href="([^"]+)"', html):
        url = found.group(1).replace("&amp;", "&")
        assert "q=" in url and "sort=title" in url and "after=" in url
        html = editor.get(url).get_data(as_text=True)
        walked += re.findall(r'<a href="/admin/content/\d+">([^<]+)</a>', html)
    assert walked == sorted(["续费提醒", "续费报表", "续费预测"])
    empty = editor.get("/admin/content/?q=没有这个词").get_data(as_text=True)
    assert 'class="empty-state"' in empty and "清除筛选" in empty


def test_admins_publish_and_archive_the_ticked_articles(app, login_as):
    admin = login_as("admin")
    drafts = [make_article(title=f"草稿{n}", slug=f"bulk-{n}", status="draft") for n in range(3)]
    answer = admin.post(
        "/admin/content/bulk",
        data={
            "action": "publish",
            "article": [str(drafts[0].id), str(drafts[1].id)],
            "next": "/admin/content/",
        },
    )
    assert answer.status_code == 302
    db.session.expire_all()
    assert [db.session.get(Article, a.id).status for a in drafts] == ["published", "published", "draft"]
    assert "已处理 2 篇文章" in admin.get("/admin/content/").get_data(as_text=True)
    # Editors may not publish: no bulk form for them, and the action is refused.
    editor = login_as("editor")
    assert 'id="bulk"' not in editor.get("/admin/content/").get_data(as_text=True)
    refused = editor.post("/admin/content/bulk", data={"action": "archive", "article": [str(drafts[2].id)]})
    assert refused.status_code == 403
