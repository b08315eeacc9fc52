"""One language per page: the public lists, the help center, related articles and the
feed show the visitor's language only and say so where it has nothing; an article's page
speaks the article's language; translations are linked (hreflang, the sitemap) and the
language switch lands on the twin, or on that language's list with a notice."""

from xml.etree import ElementTree

import pytest
from markupsafe import escape

from content import demo
from content.public import public_articles
from core.extensions import db
from core.timeutil import utcnow
from tests.factories import make_article

pytestmark = pytest.mark.usefixtures("app")

LISTS = ("/", "/help/", "/library/", "/cases/", "/solutions/", "/blog/", "/feed.xml")
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def public_titles(locale: str) -> set[str]:
    query = public_articles(locale=locale, now=utcnow())
    return {str(escape(article.title)) for article in db.session.scalars(query)}


@pytest.mark.parametrize(("lang", "other"), [("zh_CN", "en"), ("en", "zh-CN")])
def test_the_demo_lists_show_no_title_of_the_other_language(client, lang, other):
    demo.load(lambda line: None)
    foreign = public_titles(other)
    assert len(foreign) >= 10
    client.set_cookie("lang", lang)
    for path in LISTS:
        page = client.get(path).get_data(as_text=True)
        assert not [title for title in foreign if title in page], path


def test_the_demo_pages_show_titles_of_the_visitors_language(client):
    demo.load(lambda line: None)
    client.set_cookie("lang", "en")
    home = client.get("/").get_data(as_text=True)
    assert "Net Revenue Retention Benchmarks for B2B SaaS" in home
    assert ">Integrations<" in home
    assert "Set up single sign-on (SAML 2.0)" in client.get("/help/").get_data(as_text=True)


def test_a_language_without_articles_says_so_and_offers_the_other(client):
    make_article(title="中文客户案例", slug="zh-case", kind="case-study")
    response = client.get("/cases/", headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "中文客户案例" not in page
    assert "Nothing has been published in this language here yet." in page
    assert 'href="/lang/zh_CN?next=/cases/">See the pages in Chinese</a>' in page
    # A language with articles elsewhere on the site but none of this kind says so too.
    make_article(title="English help", slug="en-help", locale="en")
    assert "Nothing has been published in this language here yet." in client.get("/cases/?lang=en").get_data(
        as_text=True
    )
    # And where neither language has anything, the plain empty list.
    assert "Nothing published here yet." in client.get("/solutions/?lang=en").get_data(as_text=True)


def test_the_help_center_and_home_say_so_in_chinese(client):
    make_article(title="English help", slug="en-help", locale="en", category="Integrations")
    help_index = client.get("/help/").get_data(as_text=True)
    assert "English help" not in help_index and "Integrations" not in help_index
    assert "这里还没有中文内容。" in help_index
    assert 'href="/lang/en?next=/help/">查看英文内容</a>' in help_index
    assert "这里还没有中文内容。" in client.get("/").get_data(as_text=True)


def test_related_articles_are_in_the_articles_language(client):
    make_article(title="中文主文", slug="zh-main", category="集成", tags=["SSO"])
    make_article(title="中文相关", slug="zh-related", category="集成", tags=["SSO"])
    make_article(title="English related", slug="en-related", locale="en", category="集成", tags=["SSO"])
    page = client.get("/help/zh-main").get_data(as_text=True)
    assert "中文相关" in page and "English related" not in page


def test_an_article_page_speaks_the_articles_language(client):
    make_article("中文正文", title="开始使用", slug="kai-shi", translation_key="start")
    make_article("English body", title="Getting started", slug="start", locale="en", translation_key="start")
    client.set_cookie("lang", "en")
    zh = client.get("/help/kai-shi").get_data(as_text=True)
    assert '<html lang="zh-CN">' in zh
    assert ">帮助中心</a>" in zh and ">Help center</a>" not in zh
    assert 'href="/lang/en?next=/help/kai-shi' in zh  # the switch offers English
    en = client.get("/help/start").get_data(as_text=True)
    assert '<html lang="en">' in en and ">Help center</a>" in en
    # The visitor's own choice still holds on the next list page.
    assert '<html lang="en">' in client.get("/help/").get_data(as_text=True)


def test_the_language_switch_lands_on_the_translation(client):
    make_article("中文正文", title="开始使用", slug="kai-shi", translation_key="start")
    make_article("English body", title="Getting started", slug="start", locale="en", translation_key="start")
    response = client.get("/lang/en?next=/help/kai-shi%3F")
    assert response.status_code == 302 and response.headers["Location"] == "/help/start"
    assert "lang=en" in response.headers["Set-Cookie"]
    back = client.get("/lang/zh_CN?next=/help/start")
    assert back.headers["Location"] == "/help/kai-shi"
    # A page that is no article stays where it is; another site is never a target.
    assert client.get("/lang/en?next=/cases/").headers["Location"] == "/cases/"
    assert client.get("/lang/en?next=//evil.example/help/kai-shi").headers["Location"] == "/"


def test_the_switch_from_an_untranslated_article_lands_on_that_languages_list(client):
    make_article("中文正文", title="只有中文", slug="zh-only", kind="blog")
    response = client.get("/lang/en?next=/blog/zh-only")
    assert response.headers["Location"] == "/blog/"
    page = client.get("/blog/").get_data(as_text=True)
    assert "This article is not available in English yet." in page
    assert "只有中文" not in page


def test_translations_are_alternates_in_the_sitemap(client):
    make_article("中文正文", title="开始使用", slug="kai-shi", translation_key="start")
    make_article("English body", title="Getting started", slug="start", locale="en", translation_key="start")
    make_article("中文正文", title="只有中文", slug="zh-only")
    root = ElementTree.fromstring(client.get("/sitemap.xml").data)
    links = {
        url.find(f"{SITEMAP}loc").text: {
            link.get("hreflang"): link.get("href") for link in url.findall(f"{XHTML}link")
        }
        for url in root.findall(f"{SITEMAP}url")
    }
    both = {"zh-CN": "http://localhost/help/kai-shi", "en": "http://localhost/help/start"}
    assert links["http://localhost/help/kai-shi"] == both
    assert links["http://localhost/help/start"] == both
    assert links["http://localhost/help/zh-only"] == {}


def test_the_page_cache_keeps_each_language_apart(make_app):
    cached = make_app(PAGE_CACHE_ENABLED=True, PAGE_CACHE_TTL=3600)
    with cached.app_context():
        make_article(title="中文帮助", slug="zh-help")
        make_article(title="English help", slug="en-help", locale="en")
        zh = cached.test_client().get("/help/").get_data(as_text=True)
        en = cached.test_client().get("/help/", headers={"Accept-Language": "en"}).get_data(as_text=True)
        again = cached.test_client().get("/help/").get_data(as_text=True)
        served = cached.test_client().get("/help/")
    # Shared caches (a proxy, a CDN) must keep each language's copy apart too.
    assert {"Accept-Language", "Cookie"} <= set(served.vary)
    assert "中文帮助" in zh and "English help" not in zh
    assert "English help" in en and "中文帮助" not in en
    assert "中文帮助" in again and "English help" not in again


def test_each_language_has_a_feed_of_its_own(client):
    make_article(title="中文帮助", slug="zh-help")
    make_article(title="English help", slug="en-help", locale="en")
    feeds = {}
    for lang in ("zh-CN", "en"):
        root = ElementTree.fromstring(client.get(f"/feed.xml?lang={lang}").data)
        titles = [entry.findtext(f"{ATOM}title") for entry in root.findall(f"{ATOM}entry")]
        feeds[lang] = (root.findtext(f"{ATOM}id"), titles, root.get(XML_LANG))
    assert feeds["zh-CN"] == ("http://localhost/", ["中文帮助"], "zh-CN")
    assert feeds["en"] == ("http://localhost/feed.xml?lang=en", ["English help"], "en")


def test_the_footer_offers_the_newsletter_and_names_the_feed_for_what_it_is(client):
    for lang, newsletter, feed in (
        ("zh_CN", "订阅我们的资讯", "RSS 订阅源"),
        ("en", "Subscribe to the newsletter", "RSS feed"),
    ):
        page = client.get(f"/?lang={lang}").get_data(as_text=True)
        footer = page[page.index("<footer") :]
        assert f'<a href="/newsletter">{newsletter}</a>' in footer
        assert f'type="application/atom+xml">{feed}</a>' in footer
        assert "/sitemap.xml" not in footer  # for crawlers (robots.txt), not a page for people
