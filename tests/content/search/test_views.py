"""/search, /api/search, the click beacon, the analytics report and the synonym admin."""

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from content.search.analytics import record_search, top_searches, zero_result_searches
from content.search.models import SearchQuery, Synonym
from content.search.services import search_articles
from core.extensions import db
from core.timeutil import utcnow
from tests.conftest import recorded_statements


@pytest.fixture
def articles(publish):
    return [
        publish("配置 SSO 单点登录", "用 SAML 2.0 接入 Okta。", slug="sso", tags=["SSO"]),
        publish("SSO 白皮书", "单点登录的安全价值。", slug="sso-paper", kind="whitepaper"),
        publish("Set up single sign-on", "Okta and Azure AD.", slug="sso-en", locale="en"),
    ]


def report_rows(html: str) -> list[str]:
    """The searches the report lists, in its order."""
    return [
        unescape(text)
        for text in re.findall(r'<td class="wide"><a href="/search\?q=[^"]*">([^<]+)</a>', html)
    ]


def queries_recorded():
    return db.session.scalars(select(SearchQuery).order_by(SearchQuery.id)).all()


def test_api_follows_the_contract(client, articles):
    body = client.get("/api/search?q=单点登录&locale=all").get_json()
    assert body["query"] == "单点登录" and body["locale"] == "all"
    assert body["total"] == 3
    first = body["results"][0]
    assert {"slug", "kind", "title", "url", "snippet"} <= set(first)
    assert first["slug"] == "sso" and first["url"] == "/help/sso" and first["kind"] == "help"
    paper = next(r for r in body["results"] if r["slug"] == "sso-paper")
    assert paper["snippet"].startswith("<mark>单点登录</mark>的安全价值")


def test_a_recorded_search_writes_one_row_and_reads_nothing_back(client, articles):
    client.get("/api/search?q=单点登录")  # the index and synonyms read once
    with recorded_statements() as sent:
        body = client.get("/api/search?q=SSO 白皮书").get_json()
    touching = [statement for statement in sent if "search_queries" in statement]
    assert len(touching) == 1 and touching[0].startswith("INSERT INTO search_queries")
    assert queries_recorded()[-1].query == "SSO 白皮书" and body["results"]


def test_api_kind_limit_and_page(client, articles):
    assert [r["slug"] for r in client.get("/api/search?q=SSO&kind=whitepaper").get_json()["results"]] == [
        "sso-paper"
    ]
    first = client.get("/api/search?q=SSO&limit=2&locale=all").get_json()
    second = client.get("/api/search?q=SSO&limit=2&page=2&locale=all").get_json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1
    assert first["total"] == second["total"] == 3


def test_api_answers_in_the_visitors_language(client, articles):
    zh = client.get("/api/search?q=SSO").get_json()
    assert zh["locale"] == "zh-CN" and {r["locale"] for r in zh["results"]} == {"zh-CN"}
    assert zh["total"] == 2
    en = client.get("/api/search?q=SSO", headers={"Accept-Language": "en-US,en;q=0.9"}).get_json()
    assert [r["slug"] for r in en["results"]] == ["sso-en"] and en["total"] == 1
    asked = client.get("/api/search?q=SSO&locale=en").get_json()
    assert [r["slug"] for r in asked["results"]] == ["sso-en"]


def test_search_page_shows_the_other_language_apart(client, articles):
    html = client.get("/search?q=SSO").get_data(as_text=True)
    main, _, also = html.partition('<section class="search-also"')
    assert "/help/sso" in main and "/library/sso-paper" in main and "/help/sso-en" not in main
    assert "也有英文内容" in also and 'href="/help/sso-en"' in also and '/help/sso"' not in also
    english = client.get("/search?q=SSO&lang=en").get_data(as_text=True)
    main, _, also = english.partition('<section class="search-also"')
    assert "/help/sso-en" in main and "/help/sso" not in main.replace("/help/sso-en", "")
    assert "Also in Chinese" in also and 'href="/help/sso"' in also


def test_search_page_without_hits_in_the_other_language_has_no_section(client, articles):
    html = client.get("/search?q=Okta&kind=whitepaper").get_data(as_text=True)
    assert "search-also" not in html


@pytest.mark.parametrize(
    "query",
    [
        "q=&kind=nope",
        "q=a&limit=abc&page=-4",
        "q=(((&limit=100000",
        "q=%01%7F&page=99999999999999",
        "kind=help",
    ],
)
def test_api_never_fails_on_odd_parameters(client, articles, query):
    response = client.get(f"/api/search?{query}")
    assert response.status_code == 200
    assert response.get_json()["total"] >= 0


def test_a_nul_in_the_query_is_a_bad_request_with_a_reason(client, articles):
    response = client.get("/api/search?q=a%00b")
    assert response.status_code == 400
    assert "NUL" in response.get_json()["message"]


def test_search_page_shows_facets_snippets_and_records_the_search(client, articles):
    response = client.get("/search?q=單點登錄")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<mark>单点登录</mark>" in html
    assert 'href="/search?q=%E5%96%AE%E9%BB%9E%E7%99%BB%E9%8C%84&amp;kind=whitepaper"' in html
    assert "<script>" not in html  # scripts come from files only (CSP)
    [row] = queries_recorded()
    # The visitor's language only: the English article is offered apart, not counted.
    assert (row.query, row.normalised, row.results, row.source) == ("單點登錄", "单点登录", 2, "page")


def test_search_page_filters_by_kind(client, articles):
    html = client.get("/search?q=SSO&kind=whitepaper").get_data(as_text=True)
    assert "/library/sso-paper" in html and "/help/sso" not in html


def test_search_page_without_results_and_without_query(client, articles):
    assert "量子纠缠" in client.get("/search?q=量子纠缠").get_data(as_text=True)
    response = client.get("/search")
    assert response.status_code == 200
    assert queries_recorded()[-1].results == 0  # the empty search was recorded, the blank one not
    assert len(queries_recorded()) == 1


def test_a_click_is_recorded_through_the_signed_token(client, articles):
    body = client.get("/api/search?q=SSO").get_json()
    token = body["results"][1]["click"]
    response = client.post("/api/search/click", json={"token": token})
    assert response.status_code == 200 and response.get_json() == {"ok": True}
    [row] = queries_recorded()
    second = next(a for a in articles if a.slug == body["results"][1]["slug"])
    assert (row.clicked_article_id, row.clicked_rank) == (second.id, 2)
    assert row.clicked_at is not None


def test_forged_or_stale_click_tokens_are_refused(client, articles):
    body = client.get("/api/search?q=SSO").get_json()
    token = body["results"][0]["click"]
    for bad in (
        {"token": token[:-6] + ("x" if token[-6] != "x" else "y") + token[-5:]},
        {"token": ""},
        {},
        {"token": ["list"]},
    ):
        assert client.post("/api/search/click", json=bad).status_code == 400
    assert (
        client.post("/api/search/click", data="not json", content_type="application/json").status_code == 400
    )
    assert queries_recorded()[0].clicked_article_id is None


def test_typeahead_searches_are_recorded_only_when_a_result_is_opened(client, articles):
    body = client.get("/api/search?q=单点&typeahead=1&kind=help").get_json()
    assert queries_recorded() == []
    assert client.post("/api/search/click", data={"token": body["results"][0]["click"]}).status_code == 200
    [row] = queries_recorded()
    assert (row.query, row.source, row.clicked_article_id) == ("单点", "typeahead", articles[0].id)


def test_click_beacon_needs_no_csrf_token(make_app, app):
    strict = make_app(WTF_CSRF_ENABLED=True)
    with strict.app_context():
        response = strict.test_client().post("/api/search/click", json={"token": "x"})
    # Refused as a bad token (the view's JSON), not as a CSRF failure (an HTML error page).
    assert response.status_code == 400 and response.get_json() == {"ok": False}


def test_report_lists_top_searches_and_those_that_found_nothing(articles, login_as):
    now = utcnow()
    for text, count in (("SSO", 3), ("量子纠缠", 2)):
        for _ in range(count):
            search_articles(text, now=now, record="page")
    record_search("old", results=0, kind="", locale="", source="page", now=now - timedelta(days=40))
    top = top_searches(now - timedelta(days=1), now + timedelta(seconds=1))
    assert [(s.example, s.searches) for s in top] == [("SSO", 3), ("量子纠缠", 2)]
    empty = zero_result_searches(now - timedelta(days=30), now + timedelta(seconds=1))
    assert [s.example for s in empty] == ["量子纠缠"]
    html = login_as("editor").get("/admin/search/?days=7").get_data(as_text=True)
    assert report_rows(html) == ["SSO", "量子纠缠"]  # not the search of 40 days ago


def searched(text: str, times: int, *, results: int, now) -> None:
    for _ in range(times):
        record_search(text, results=results, kind="", locale="", source="page", now=now)


def test_report_is_a_list_searched_filtered_sorted_and_paged(login_as, monkeypatch):
    from content.search import admin

    monkeypatch.setattr(admin, "PAGE_SIZE", 2)
    now = utcnow() - timedelta(hours=1)
    searched("续费", 3, results=4, now=now)
    for text in ("alpha", "bravo", "charlie", "delta_x"):  # four searches made twice each
        searched(text, 2, results=0, now=now)
    searched("sso 配置", 1, results=2, now=now)
    editor = login_as("editor")
    html = editor.get("/admin/search/").get_data(as_text=True)
    assert "(6)" in html and 'aria-sort="descending"' in html
    pages, url = [], "/admin/search/?days=7"
    while url:
        page = editor.get(url).get_data(as_text=True)
        pages.append(report_rows(page))
        found = re.search(r'rel="next" href="([^"]+)"', page)
        url = unescape(found.group(1)) if found else ""
        assert not found or "days=7" in url
    # The most searched first; the four searched twice by their text, Z to A, with the
    # same direction as the times: no repeat and no gap across the pages.
    assert pages == [["续费", "delta_x"], ["charlie", "bravo"], ["alpha", "sso 配置"]]
    ascending = editor.get("/admin/search/?sort=times_asc").get_data(as_text=True)
    assert report_rows(ascending) == ["sso 配置", "alpha"]
    by_text = editor.get("/admin/search/?sort=search").get_data(as_text=True)
    assert report_rows(by_text) == ["alpha", "bravo"] and 'aria-sort="ascending"' in by_text
    nothing = editor.get("/admin/search/?found=none&q=A").get_data(as_text=True)
    assert report_rows(nothing) == ["delta_x", "charlie"] and "(4)" in nothing
    second = unescape(re.search(r'rel="next" href="([^"]+)"', nothing).group(1))
    assert "found=none" in second and "q=A" in second
    assert report_rows(editor.get(second).get_data(as_text=True)) == ["bravo", "alpha"]
    assert report_rows(editor.get("/admin/search/?q=%E7%BB%AD%E8%B4%B9").get_data(as_text=True)) == ["续费"]
    empty = editor.get("/admin/search/?q=没有的词").get_data(as_text=True)
    assert "没有符合条件的搜索。" in empty and "清除筛选" in empty


def test_report_empty_period_says_where_searches_come_from(login_as):
    html = login_as("marketer").get("/admin/search/?days=1").get_data(as_text=True)
    assert "这段时间没有搜索" in html and "(0)" in html


@pytest.mark.parametrize(
    ("role", "status"), [("editor", 200), ("marketer", 200), ("admin", 200), ("sales", 403)]
)
def test_report_roles(login_as, app, role, status):
    assert login_as(role).get("/admin/search/").status_code == status


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("editor", 403), ("marketer", 403)])
def test_synonym_admin_is_for_admins(login_as, app, role, status):
    assert login_as(role).get("/admin/search/synonyms").status_code == status


def test_synonym_admin_loads_the_dictionary_and_edits_groups(login_as, app):
    admin = login_as("admin")
    html = admin.get("/admin/search/synonyms?filter=落地页").get_data(as_text=True)
    assert "落地页 = 着陆页 = landing page" in html
    assert db.session.scalar(select(db.func.count(Synonym.id))) > 200
    assert (
        admin.post("/admin/search/synonyms", data={"terms": "星图云, Xingtu Cloud，星图"}).status_code == 302
    )
    row = db.session.scalars(select(Synonym).where(Synonym.origin == "admin")).one()
    assert row.terms == ["星图云", "Xingtu Cloud", "星图"]
    assert admin.post("/admin/search/synonyms", data={"terms": "只有一个"}).status_code == 422
    admin.post(f"/admin/search/synonyms/{row.id}", data={"terms": "星图云 = Lodestar"})
    db.session.refresh(row)
    assert row.terms == ["星图云", "Lodestar"]
    row_id = row.id
    # Deleting asks first, naming the group; nothing is gone until it is confirmed.
    asked = admin.get(f"/admin/search/synonyms/{row_id}/delete").get_data(as_text=True)
    assert "要删除这个同义词组吗？" in asked and "星图云 = Lodestar" in asked and 'name="csrf_token"' in asked
    assert db.session.get(Synonym, row_id) is not None
    assert admin.post(f"/admin/search/synonyms/{row_id}/delete").status_code == 302
    db.session.expunge_all()
    assert db.session.get(Synonym, row_id) is None
    assert admin.post(f"/admin/search/synonyms/{row_id}/delete").status_code == 404


def test_a_refused_change_keeps_what_was_typed_beside_its_group(login_as, app):
    admin = login_as("admin")
    admin.get("/admin/search/synonyms")
    row = db.session.scalars(select(Synonym).order_by(Synonym.id)).first()
    before = list(row.terms)
    response = admin.post(f"/admin/search/synonyms/{row.id}", data={"terms": "只剩一个词"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    field = re.search(rf'<input id="terms-{row.id}"[^>]*>', page).group(0)
    assert 'value="只剩一个词"' in field and 'aria-invalid="true"' in field
    assert f'<p class="error" id="terms-{row.id}-error">' in page and "至少" in page
    db.session.refresh(row)
    assert row.terms == before


def test_a_term_in_another_group_is_saved_with_a_warning_naming_that_group(login_as, app):
    admin = login_as("admin")
    admin.get("/admin/search/synonyms")
    response = admin.post(
        "/admin/search/synonyms", data={"terms": "落地页 = 登陆页面"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "已添加同义词组。" in page
    assert "“落地页”也在另一个同义词组中（落地页 = 着陆页 = landing page" in page
    assert 'class="flash flash-warning"' in page
    quiet = admin.post("/admin/search/synonyms", data={"terms": "星图云 = Xingtu"}, follow_redirects=True)
    assert "也在另一个同义词组中" not in quiet.get_data(as_text=True)


def test_pages_speak_chinese_by_default_and_english_on_request(client, articles):
    assert "没有找到与“量子纠缠”相关的内容。" in client.get("/search?q=量子纠缠").get_data(as_text=True)
    assert "Nothing found for “量子纠缠”." in client.get("/search?q=量子纠缠&lang=en").get_data(as_text=True)
    # The help center's search box: its example in the page's language only.
    english = re.findall(r'placeholder="([^"]*)"', client.get("/help/?lang=en").get_data(as_text=True))
    chinese = re.findall(r'placeholder="([^"]*)"', client.get("/help/?lang=zh_CN").get_data(as_text=True))
    assert "Describe your problem, e.g. set up single sign-on" in english
    assert not [text for text in english if re.search(r"[\u4e00-\u9fff]", text)]
    assert "描述您的问题，例如：如何配置单点登录" in chinese


def test_the_search_page_without_a_query_is_public_and_one_with_a_query_is_not(app):
    pages = [app.test_client().get("/search") for _visitor in range(2)]
    assert [page.status_code for page in pages] == [200, 200]
    assert pages[0].get_data() == pages[1].get_data()
    assert all(page.cache_control.public and "Set-Cookie" not in page.headers for page in pages)
    assert pages[0].headers["ETag"] == pages[1].headers["ETag"]
    searched = app.test_client().get("/search?q=续费")
    assert searched.status_code == 200 and not searched.cache_control.public
