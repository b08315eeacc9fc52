"""Queries: questions, phrases, filters, pages, snippets, suggestions, synonyms, typos and
hostile input."""

import pytest
from whoosh import query as Q

from content.models import Article
from content.search import highlight, ranking, termscores
from content.search.services import search_articles
from content.search.state import get_index, state
from content.search.synonyms import save_synonym, synonym_map
from core.timeutil import utcnow


def search(text, **kwargs):
    results, _ = search_articles(text, now=utcnow(), **kwargs)
    return results


def slugs(text, **kwargs):
    return [hit.slug for hit in search(text, **kwargs).hits]


@pytest.fixture
def library(publish):
    return {
        "trial": publish(
            "试用到期后的付费转化",
            "试用期结束前 7 天提醒客户。试用期结束后，客户在账单页选择套餐并付费。",
            slug="trial",
            category="常见问题",
            tags=["试用", "付费"],
        ),
        "landing": publish(
            "白皮书落地页的转化率",
            "落地页的表单越短越好。",
            slug="landing",
            kind="blog",
            category="增长与营销",
        ),
        "sso": publish(
            "Set up single sign-on (SAML 2.0)",
            "Connect Okta or Azure AD. Customer success teams sign in once.",
            slug="sso",
            locale="en",
            category="Integrations",
        ),
        "success": publish(
            "客户成功团队的分工",
            "客户与成功的故事。客户成功经理负责续费。",
            slug="success",
            kind="whitepaper",
            category="客户成功",
        ),
    }


def test_a_whole_question_finds_the_answer_first(library):
    assert slugs("试用期结束后怎么让客户付费")[0] == "trial"


def test_terms_are_or_grouped_not_and(library):
    # One word matches nothing: the others still find the page.
    assert slugs("落地页 转化率 量子纠缠")[0] == "landing"


def test_quoted_phrases_must_match_in_order(library):
    assert set(slugs("客户 成功")) >= {"success", "trial"}
    assert slugs('"客户成功经理"') == ["success"]
    assert slugs("“单点登录” okta") == []  # the phrase is required; okta alone does not do


def test_filters_by_kind_category_and_locale(library):
    assert slugs("转化率", kind="blog") == ["landing"]
    assert slugs("落地页", kind="help") == []
    assert slugs("客户", category="客户成功") == ["success"]
    assert slugs("customer success", locale="en") == ["sso"]


def test_facets_count_kinds_whatever_the_filter(library):
    results = search("客户", kind="whitepaper", with_facets=True)
    assert results.facets["whitepaper"] == 1
    assert results.facets["help"] >= 1


def test_pagination(publish):
    for n in range(23):
        publish(f"续费提醒模板 {n}", "续费提醒", slug=f"renewal-{n}")
    first, third = search("续费提醒", per_page=10), search("续费提醒", per_page=10, page=3)
    assert first.total == third.total == 23
    assert (len(first.hits), len(third.hits), first.pages) == (10, 3, 3)
    assert not {h.slug for h in first.hits} & {h.slug for h in third.hits}
    assert search("续费提醒", page=99).hits == []


def test_snippets_show_the_matched_terms_in_context(publish):
    body = "很长的开头。" * 40 + "\n\n把留资表单放在落地页首屏，转化率更高。\n\n" + "结尾。" * 80
    publish("表单设计", body, slug="form")
    snippet = str(search("落地页 转化率").hits[0].snippet)
    assert "<mark>落地页</mark>首屏，<mark>转化率</mark>更高" in snippet
    assert snippet.startswith("…") and snippet.endswith("…") and len(snippet) < 300


def test_snippets_escape_the_text_around_the_marks():
    text = 'Use <b>bold</b> & "quotes" in the renewal email'
    snippet = str(highlight.snippet(text, ["renewal"]))
    assert snippet == "Use &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quotes&quot; in the <mark>renewal</mark> email"
    assert str(highlight.snippet("<i>x</i>", [], fallback="")) == "&lt;i&gt;x&lt;/i&gt;"


def test_snippet_marks_traditional_and_full_width_matches_in_the_original_text(publish):
    publish("單點登錄設定", "在ＳＳＯ頁面設定單點登錄。", slug="trad")
    hit = search("单点登录").hits[0]
    assert "<mark>單點登錄</mark>" in str(hit.snippet)
    assert "<mark>單點登錄</mark>" in str(hit.title_html)


def test_synonyms_find_pages_with_other_words_and_rank_below_typed_words(publish):
    typed = publish("着陆页设计清单", "着陆页", slug="typed")
    other = publish("落地页设计清单", "落地页", slug="other")
    assert slugs("着陆页") == [typed.slug, other.slug]
    assert set(slugs("landing page")) == {typed.slug, other.slug}


def test_acronyms_expand_both_ways(publish):
    nps = publish("NPS 调研的创建", "发送 NPS 问卷", slug="nps")
    ltv = publish("提高客户生命周期价值", "生命周期价值", slug="ltv")
    assert slugs("净推荐值") == [nps.slug]
    assert slugs("LTV") == [ltv.slug]


def test_synonyms_added_by_an_admin_apply_at_once(publish):
    article = publish("星图云入门", "星图云", slug="product-intro")
    assert slugs("xingtu cloud") == []
    save_synonym(None, "星图云 = Xingtu Cloud", now=utcnow())
    assert slugs("xingtu cloud") == [article.slug]


def test_pinyin_keyboard_typos_still_find_the_page(publish):
    article = publish("配置流失预警规则", "流失预警", slug="alerts")
    publish("邮件模板", "变量", slug="mail")
    assert slugs("流失预净")[0] == article.slug


def test_did_you_mean_from_the_index_vocabulary(publish):
    publish("The renewal playbook", "Renewal conversations start 120 days out.", slug="renewal", locale="en")
    publish("续费率提升白皮书", "续费率", slug="xufei")
    english = search("renewl")
    assert english.suggestion == "renewal"  # as a reader writes it, not the index's stem
    assert english.hits[0].slug == "renewal"
    assert [hit.slug for hit in english.hits] == slugs("renewal")  # its synonyms (续费…) too
    chinese = search("续废率是什么")
    assert chinese.suggestion is not None and "续费率" in chinese.suggestion
    assert chinese.hits[0].slug == "xufei"
    assert search("renewal").suggestion is None


def test_did_you_mean_compares_what_was_typed_with_the_stem_less_its_ending(publish):
    publish("The renewal playbook", "Renewal conversations start 120 days out.", slug="renewal", locale="en")
    publish("Real numbers", "Real pricing for real teams. Our analytics dashboard.", slug="real", locale="en")
    # renwal is two edits from the stem real and one from renew (as renw): renewal.
    assert search("renwal").suggestion == "renewal"
    assert search("pricng").suggestion == "pricing"
    assert search("analitics dashbord").suggestion == "analytics dashboard"
    assert search("qwxzv").suggestion is None


def test_a_word_spelled_right_is_not_corrected_to_the_sites_words(publish):
    publish(
        "Leave requests",
        "How to file leave requests. Lead scoring and single sign-on.",
        slug="leave",
        locale="en",
    )
    publish("Roadmap", "Nothing about it here.", slug="roadmap", locale="en")
    # "lead" is in the page; "leader" is English though the site never says it.
    assert search("leader").suggestion is None
    assert search("lead scroing").suggestion == "lead scoring"
    assert search("singel sign on").suggestion == "single sign on"


@pytest.mark.parametrize(
    ("stem", "typed", "written"),
    [
        ("renew", "renwal", "renewal"),
        ("renew", "renewl", "renewal"),
        ("price", "pricng", "pricing"),
        ("analyt", "analitics", "analytics"),
        ("compani", "compny", "company"),
        ("integr", "intergration", "integration"),
        ("plann", "plannig", "planning"),  # the index's stemmer keeps the double n
        ("singl", "singel", "single"),  # a word of the dictionary, not the stem
    ],
)
def test_a_suggestion_is_written_as_a_word(stem, typed, written):
    from content.search.spelling import written_form

    assert written_form(stem, typed) == written


def test_a_corrected_word_brings_its_synonyms(publish):
    publish("Quorvex connector", "Sync your CRM with Quorvex.", slug="quorvex", locale="en")
    publish("夸维斯连接器", "在后台完成夸维斯对接。", slug="kuaweisi")
    assert search("quorvx", locale="zh-CN").hits == []
    save_synonym(None, "夸维斯 = quorvex", now=utcnow())
    found = search("quorvx", locale="zh-CN")
    assert found.suggestion == "quorvex" and [hit.slug for hit in found.hits] == ["kuaweisi"]


def test_one_character_finds_the_words_it_begins(publish):
    publish("续费作战手册", "合同到期前 120 天提醒客户续约。", slug="renew")
    publish("发票与税务", "电子发票在账单页下载。", slug="invoice")
    publish("邮件模板", "变量说明。", slug="mail")
    assert slugs("续") == ["renew"]
    assert slugs("税") == ["invoice"]
    found = search("续")
    assert "<mark>续</mark>" in str(found.hits[0].snippet)


def test_did_you_mean_never_tells_the_words_of_a_scheduled_article(publish):
    from datetime import timedelta

    publish("The renewal playbook", "Renewal conversations start 120 days out.", slug="renewal", locale="en")
    publish(
        "Announcing the Zephyrion acquisition",
        "Zephyrion joins us. 续费宝 is its renewal product.",
        slug="news",
        locale="en",
        published_at=utcnow() + timedelta(days=10),
    )
    publish("续费率提升白皮书", "续费率", slug="xufei")
    for text in ("zephyrian", "zephyrion", "续费包"):
        results = search(text)
        assert results.hits == [] or all(hit.slug != "news" for hit in results.hits)
        assert "zephyrion" not in (results.suggestion or "") and "续费宝" not in (results.suggestion or "")
    # Once it is public, its words are the site's vocabulary like any other.
    later = search_articles("zephyrian", now=utcnow() + timedelta(days=11))[0]
    assert later.suggestion == "zephyrion" and [hit.slug for hit in later.hits] == ["news"]


HOSTILE = [
    "",
    "   ",
    "AND",
    "OR NOT",
    '( ) * ? ~ ^ : " [ ] { }',
    '"unclosed phrase',
    "title:secret AND body:*",
    "a*b?c~2 ^3",
    "\x00\x01\x1b[31m控制字符\x7f",
    "\u202e\u200b零宽",
    "客户" * 5000,
    "x" * 100000,
    "%s %d {0} {{ 7*7 }} <script>alert(1)</script>",
    "' OR 1=1 --",
    "🙂🚀 emoji",
    "\\",
    "\ud800",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_no_query_can_raise(library, text):
    results = search(text, page=3, per_page=7, with_facets=True)
    assert results.total >= 0
    assert len(results.query) <= 200


def test_repeated_searches_come_from_memory_until_the_index_changes(publish):
    first = publish("续费提醒模板", "续费", slug="first")
    # Up to date before the first search: on a loaded machine the signal's write may still
    # be waiting for the index lock, and a sync between the two searches is a new generation.
    get_index().sync(force=True)
    again = search("续费提醒")
    assert search("续费提醒") is again
    second = publish("续费提醒的时机", "续费提醒", slug="second")
    fresh = search("续费提醒")
    assert fresh is not again
    assert {hit.slug for hit in fresh.hits} == {first.slug, second.slug}


def test_kept_clause_scores_rank_and_count_as_whoosh_does(publish, search_index):
    for n in range(30):
        publish(
            f"续费提醒模板 {n}" if n % 3 else f"客户成功与续费 {n}",
            "续费提醒。" * (n % 4 + 1) + ("客户成功经理负责续费率。" if n % 2 else "NRR and renewal rate."),
            slug=f"doc-{n}",
            kind="blog" if n % 5 == 0 else "help",
        )
    searcher = search_index.searcher()
    searcher.weighting = termscores.WEIGHTING
    kept = termscores.TermScores()
    hidden = frozenset({0, 7})
    for text, kwargs in (
        ("续费提醒", {}),
        ("客户成功经理怎么提高续费率", {"page": 2, "per_page": 4}),
        ("renewal rate nrr", {}),
        ("续费", {"kind": "blog"}),
        ("续费提醒", {"hidden": hidden, "per_page": 50}),
    ):
        whoosh = ranking.search(searcher, text, **kwargs)
        ours = ranking.search(searcher, text, scores=kept, **kwargs)
        assert ours.total == whoosh.total > 0
        assert [(h.slug, round(h.score, 9)) for h in ours.hits] == [
            (h.slug, round(h.score, 9)) for h in whoosh.hits
        ]
        # Asked again, the scores come from memory and nothing changes.
        again = ranking.search(searcher, text, scores=kept, **kwargs)
        assert [h.slug for h in again.hits] == [h.slug for h in ours.hits]
    assert ranking.search(searcher, "续费提醒", hidden=hidden, per_page=50, scores=kept).total == 30 - 2


def test_kept_clause_scores_stay_within_their_budget_and_follow_the_index(app, publish, search_index):
    for n in range(5):
        publish(f"续费提醒 {n}", "续费提醒与客户成功", slug=f"doc-{n}")
    searcher = search_index.searcher()
    searcher.weighting = termscores.WEIGHTING
    kept = termscores.TermScores(kept=6)
    ranking.search(searcher, "续费提醒 客户成功", scores=kept)
    assert 0 < kept._size <= 6
    current = state()
    first = current.scores_of(("gen", 1))
    assert current.scores_of(("gen", 1)) is first
    assert current.scores_of(("gen", 2)) is not first


def _whoosh_ranks(text: str) -> tuple[int, list[tuple[str, float]]]:
    """The app's search of `text` with Whoosh scoring every match (no kept scores)."""
    index = get_index()
    searcher = index.searcher()
    searcher.weighting = termscores.WEIGHTING
    found = ranking.search(
        searcher,
        text,
        synonyms=synonym_map(now=utcnow()),
        hidden=index.hidden(searcher, utcnow()),
    )
    return found.total, [(h.slug, round(h.score, 9)) for h in found.hits]


def _ranks(results) -> tuple[int, list[tuple[str, float]]]:
    return results.total, [(h.slug, round(h.score, 9)) for h in results.hits]


def _renewal_library(publish, count: int = 12) -> None:
    for n in range(count):
        publish(
            f"续费提醒模板 {n}" if n % 3 else f"客户成功与续费 {n}",
            "续费提醒。" * (n % 4 + 1) + ("客户成功经理负责续费率。" if n % 2 else "NRR and renewal rate."),
            slug=f"doc-{n}",
        )


WARMED_TEXTS = ("续费提醒", "客户成功经理怎么提高续费率", "renewal rate nrr")


def test_after_an_edit_the_popular_clauses_are_scored_again_ahead_with_the_same_results(publish):
    _renewal_library(publish)
    for text in WARMED_TEXTS:
        search(text)
    current = state()
    popular = {key for key, _size in current.scores.recent(termscores.WARM_UP_POSTINGS)}
    assert popular
    publish("续费提醒的新模板", "续费提醒。NRR and renewal rate.", slug="new")
    # Right after the edit, while the new generation is being warmed.
    for text in WARMED_TEXTS:
        assert _ranks(search(text)) == _whoosh_ranks(text)
    assert current.warm_up is not None
    current.warm_up.join(timeout=10)
    assert popular <= set(current.scores._clauses)
    assert current.scores._size <= current.scores.kept
    # And once warmed: new searches only add up the kept scores, with the same results.
    for text in WARMED_TEXTS:
        assert _ranks(search(text, per_page=3)) == (_whoosh_ranks(text)[0], _whoosh_ranks(text)[1][:3])


def _searched(publish, search_index):
    """(searcher, the kept scores of WARMED_TEXTS searched once) over a small library."""
    _renewal_library(publish)
    searcher = search_index.searcher()
    searcher.weighting = termscores.WEIGHTING
    previous = termscores.TermScores()
    for text in WARMED_TEXTS:
        ranking.search(searcher, text, scores=previous)
    return searcher, previous


def test_a_partly_warmed_generation_scores_the_rest_itself(publish, search_index):
    searcher, previous = _searched(publish, search_index)
    clauses = previous.recent(termscores.WARM_UP_POSTINGS)
    warmed = termscores.TermScores()
    warmed.lengths = termscores.field_lengths(searcher, termscores.SCORED_FIELDS)
    # A warm-up stopped after two clauses (a newer generation came).
    asked = iter([True, True])
    assert warmed.warm(searcher, clauses, go_on=lambda: next(asked, False)) == 2
    assert len(warmed._clauses) == 2
    for text in WARMED_TEXTS:
        whoosh = ranking.search(searcher, text)
        ours = ranking.search(searcher, text, scores=warmed)
        assert _ranks(ours) == _ranks(whoosh)


def test_a_warm_up_stays_within_its_budgets(publish, search_index):
    searcher, previous = _searched(publish, search_index)
    everything = previous.recent(previous._size)
    assert sum(size for _key, size in everything) == previous._size
    few = previous.recent(20)
    assert 0 < sum(size for _key, size in few) <= 20
    warmed = termscores.TermScores(kept=15)
    searched = warmed.of(searcher, Q.Term("body_bi", "续费"))
    warmed.warm(searcher, everything)
    assert warmed._size <= 15
    # What a search brought in is never pushed out by the warm-up.
    assert warmed.of(searcher, Q.Term("body_bi", "续费")) is searched
    # A generation warmed from one interrupted early still knows what was popular.
    warmed.inherited = everything
    assert {key for key, _size in warmed.recent(previous._size)} == {key for key, _size in everything}


def test_terms_scored_from_the_field_lengths_score_as_whoosh_does(publish, search_index):
    _renewal_library(publish)
    publish("续费提醒", "续费", slug="doc-0")  # an edit: a deleted document in a segment
    searcher = search_index.searcher()
    searcher.weighting = termscores.WEIGHTING
    lengths = termscores.field_lengths(searcher, termscores.SCORED_FIELDS)
    kept = termscores.TermScores()
    for text in WARMED_TEXTS:
        ranking.search(searcher, text, scores=kept)
    assert any(key[0] == "term" for key in kept._clauses)
    for key in kept._clauses:
        # Whoosh's own score of each posting, to the last bit, with the lengths read
        # ahead and without.
        clause = Q.Term(key[1], key[2]) if key[0] == "term" else Q.Phrase(key[1], list(key[2]))
        matcher = clause.matcher(searcher, searcher.context())
        expected = []
        while matcher.is_active():
            expected.append((matcher.id(), matcher.score()))
            matcher.next()
        for found in (termscores._scored(searcher, key, lengths=lengths), termscores._scored(searcher, key)):
            assert list(zip(found[0].tolist(), found[1].tolist(), strict=True)) == expected
    assert termscores.field_lengths(searcher, ["body"], go_on=lambda: False) is None


def test_each_generation_knows_its_articles_document_numbers(publish, search_index):
    _renewal_library(publish, count=4)
    withdrawn = Article.query.filter_by(slug="doc-2").one()
    # A deletion the merge has not swept away yet: the document is still in its segment.
    writer = search_index.open().writer()
    writer.delete_by_term("id", str(withdrawn.id))
    writer.commit(merge=False)
    searcher = search_index.open().searcher()
    ids, numbers = termscores.TermScores().article_ids(searcher)
    assert searcher.reader().is_deleted(ids.index(withdrawn.id))
    assert withdrawn.id not in numbers and len(numbers) == 3
    for article_id, number in numbers.items():
        assert number == searcher.document_number(id=str(article_id))
    for number in searcher.reader().all_doc_ids():
        assert ids[number] == int(searcher.stored_fields(number)["id"])
