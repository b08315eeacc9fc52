"""The public pages: what each status shows, SEO (meta, canonical, JSON-LD), sitemap,
robots.txt, the Atom feed, helpful votes, the locale switch and the query count."""

import json
import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import event, select

from content.models import Feedback
from core.extensions import db
from core.timeutil import utcnow
from tests.factories import make_article

pytestmark = pytest.mark.usefixtures("app")

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def json_ld(html: str) -> list[dict]:
    return [
        json.loads(block)
        for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    ]


@pytest.fixture
def statuses():
    now = utcnow()
    made = {
        status: make_article(title=f"文章 {status}", slug=status, status=status, now=now)
        for status in ("draft", "in_review", "published", "archived")
    }
    made["future"] = make_article(
        title="文章 future", slug="future", published_at=now + timedelta(days=1), now=now
    )
    return made


def test_only_published_past_articles_are_public(client, statuses):
    assert client.get("/help/published").status_code == 200
    for slug in ("draft", "in_review", "archived", "future"):
        assert client.get(f"/help/{slug}").status_code == 404, slug
    # The right kind only.
    assert client.get("/blog/published").status_code == 404
    listing = client.get("/help/").get_data(as_text=True)
    assert "文章 published" in listing
    for slug in ("draft", "in_review", "archived", "future"):
        assert f"文章 {slug}" not in listing


def test_sitemap_lists_published_articles_with_lastmod(client, statuses):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ElementTree.fromstring(response.data)
    entries = {url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod") for url in root}
    assert "http://localhost/help/published" in entries
    assert entries["http://localhost/help/published"] == statuses["published"].updated_at.strftime("%Y-%m-%d")
    assert "http://localhost/help/" in entries and "http://localhost/" in entries
    assert not any(
        slug in loc for loc in entries for slug in ("/draft", "/in_review", "/archived", "/future")
    )


def test_feed_is_atom_with_published_articles_only(client, statuses):
    response = client.get("/feed.xml")
    assert response.mimetype == "application/atom+xml"
    root = ElementTree.fromstring(response.data)
    entries = root.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == ["文章 published"]
    entry = entries[0]
    assert entry.findtext(f"{ATOM}id") == "http://localhost/help/published"
    assert "<p>正文</p>" in entry.findtext(f"{ATOM}content")
    assert entry.findtext(f"{ATOM}published").endswith("+00:00")


def test_robots_txt(client):
    text = client.get("/robots.txt").get_data(as_text=True)
    for path in ("/admin/", "/download/", "/t/", "/u/"):
        assert f"Disallow: {path}\n" in text
    assert "Sitemap: http://localhost/sitemap.xml" in text


def test_article_page_seo(client):
    make_article(
        "## 第一节\n\n内容\n\n## 第二节\n\n内容\n\n## 第三节\n\n内容",
        title="如何提高续费率",
        slug="renewal",
        kind="blog",
        summary="一句话摘要",
        seo_title="续费率 SEO 标题",
        tags=["续费"],
    )
    html = client.get("/blog/renewal").get_data(as_text=True)
    assert "<title>续费率 SEO 标题 · Lodestar</title>" in html
    assert '<meta name="description" content="一句话摘要">' in html
    assert '<link rel="canonical" href="http://localhost/blog/renewal">' in html
    assert '<meta property="og:title" content="续费率 SEO 标题">' in html
    assert '<meta property="og:type" content="article">' in html
    blocks = {block["@type"]: block for block in json_ld(html)}
    assert blocks["BlogPosting"]["headline"] == "如何提高续费率"
    assert blocks["BlogPosting"]["mainEntityOfPage"] == "http://localhost/blog/renewal"
    crumbs = blocks["BreadcrumbList"]["itemListElement"]
    assert [c["item"] for c in crumbs] == [
        "http://localhost/",
        "http://localhost/blog/",
        "http://localhost/blog/renewal",
    ]
    assert "FAQPage" not in blocks
    # A long page gets the table of contents.
    assert 'class="article-toc"' in html and 'href="#第一节"' in html
    assert "阅读" in html or "min read" in html


def test_description_falls_back_to_the_text(client):
    make_article("这是正文的第一句话。" * 40, title="无摘要", slug="no-summary")
    html = client.get("/help/no-summary").get_data(as_text=True)
    description = re.search(r'<meta name="description" content="([^"]*)">', html).group(1)
    assert description.startswith("这是正文的第一句话。") and description.endswith("…")
    assert len(description) <= 160


def test_faq_page_json_ld_for_question_and_answer_help(client):
    make_article(
        "## 如何修改邮箱？\n\n在设置中修改。\n\n## 忘记密码怎么办？\n\n点击忘记密码。",
        title="常见问题",
        slug="faq",
        category="常见问题",
    )
    html = client.get("/help/faq").get_data(as_text=True)
    blocks = {block["@type"]: block for block in json_ld(html)}
    questions = blocks["FAQPage"]["mainEntity"]
    assert [q["name"] for q in questions] == ["如何修改邮箱？", "忘记密码怎么办？"]
    assert questions[0]["acceptedAnswer"]["text"] == "在设置中修改。"
    # Help breadcrumbs go through the category.
    names = [c["name"] for c in blocks["BreadcrumbList"]["itemListElement"]]
    assert names[-2:] == ["常见问题", "常见问题"]


def test_json_ld_cannot_break_out_of_its_script(client):
    make_article("text", title="</script><script>alert(1)</script>", slug="x")
    html = client.get("/help/x").get_data(as_text=True)
    assert "<script>alert(1)" not in html


def test_helpful_vote_is_recorded_without_javascript(client):
    article = make_article(slug="vote")
    page = client.get("/help/vote").get_data(as_text=True)
    assert f'action="/articles/{article.id}/feedback"' in page
    response = client.post(f"/articles/{article.id}/feedback", data={"helpful": "no", "comment": "需要截图"})
    assert (
        response.status_code == 303 and response.headers["Location"] == "/help/vote?feedback=thanks#feedback"
    )
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="feedback-thanks"' in thanks and 'name="helpful"' not in thanks
    feedback = db.session.scalar(select(Feedback))
    assert (feedback.article_id, feedback.helpful, feedback.comment) == (article.id, False, "需要截图")
    assert client.post(f"/articles/{article.id}/feedback", data={"helpful": "maybe"}).status_code == 303
    assert db.session.scalar(select(db.func.count()).select_from(Feedback)) == 1


def test_no_votes_on_articles_the_public_cannot_see(client):
    draft = make_article(slug="d", status="draft")
    assert client.post(f"/articles/{draft.id}/feedback", data={"helpful": "yes"}).status_code == 404
    assert client.post("/articles/999999/feedback", data={"helpful": "yes"}).status_code == 404


def test_locale_switch_links_translations(client):
    make_article("中文正文", title="开始使用", slug="kai-shi", translation_key="start")
    make_article("English body", title="Getting started", slug="start", locale="en", translation_key="start")
    zh = client.get("/help/kai-shi").get_data(as_text=True)
    assert '<a href="/help/start" hreflang="en" lang="en">English</a>' in zh
    assert '<link rel="alternate" hreflang="en" href="http://localhost/help/start">' in zh
    # The index shows each translation once, in the reader's language.
    index_zh = client.get("/help/").get_data(as_text=True)
    assert "开始使用" in index_zh and "Getting started" not in index_zh
    index_en = client.get("/help/?lang=en").get_data(as_text=True)
    assert "Getting started" in index_en and "开始使用" not in index_en


def test_home_and_lists(client):
    now = utcnow()
    make_article(title="精选白皮书", slug="wp", kind="whitepaper", featured=True, now=now)
    make_article(title="客户案例", slug="case", kind="case-study", now=now)
    make_article(title="行业方案", slug="sol", kind="solution", now=now)
    make_article(title="帮助文章", slug="help-1", category="入门", now=now)
    home = client.get("/").get_data(as_text=True)
    assert "精选白皮书" in home and 'href="/library/wp"' in home
    assert "入门" in home and 'action="/search"' in home
    assert "客户案例" in home
    library = client.get("/library/").get_data(as_text=True)
    assert 'href="/library/wp"' in library
    assert 'href="/cases/case"' in client.get("/cases/").get_data(as_text=True)
    assert client.get("/cases/case").status_code == 200
    assert client.get("/solutions/sol").status_code == 200
    assert 'href="/solutions/sol"' in client.get("/solutions/").get_data(as_text=True)


def test_blog_pagination(client):
    now = utcnow()
    for number in range(12):
        make_article(
            title=f"博客 {number:02d}",
            slug=f"post-{number}",
            kind="blog",
            published_at=now - timedelta(hours=number + 1),
            now=now,
        )
    first = client.get("/blog/").get_data(as_text=True)
    assert "博客 00" in first and "博客 09" in first and "博客 10" not in first
    assert 'href="/blog/?page=2"' in first
    second = client.get("/blog/?page=2").get_data(as_text=True)
    assert "博客 10" in second and "博客 11" in second and "博客 00" not in second
    assert client.get("/blog/?page=9").status_code == 404


def test_pages_use_a_few_queries_whatever_the_number_of_articles(app, client):
    now = utcnow()
    for number in range(15):
        make_article(
            title=f"文章{number}",
            slug=f"a{number}",
            category=f"分类{number % 3}",
            tags=["t"],
            translation_key=f"k{number}",
            now=now,
        )
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for url, limit in (("/", 4), ("/help/", 2), ("/help/a3", 4), ("/blog/", 3)):
            statements.clear()
            assert client.get(url).status_code == 200
            assert len(statements) <= limit, (url, statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_uploaded_images_inline_other_files_as_downloads(app, client):
    from pathlib import Path

    folder = Path(app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "0123456789abcdef-chart.png").write_bytes(b"\x89PNG\r\n")
    (folder / "0123456789abcdef-page.html").write_bytes(b"<script>alert(1)</script>")
    (folder / "0123456789abcdef-logo.svg").write_bytes(b"<svg onload='alert(1)'/>")
    with client.get("/uploads/0123456789abcdef-chart.png") as image:
        assert image.mimetype == "image/png" and "attachment" not in image.headers.get(
            "Content-Disposition", ""
        )
        assert image.headers["X-Content-Type-Options"] == "nosniff"
    for name in ("0123456789abcdef-page.html", "0123456789abcdef-logo.svg"):
        with client.get(f"/uploads/{name}") as response:
            assert response.mimetype == "application/octet-stream"
            assert response.headers["Content-Disposition"].startswith("attachment")
    assert client.get("/uploads/..%2Fsecret_key").status_code == 404
    assert client.get("/uploads/not-a-stored-name.png").status_code == 404
