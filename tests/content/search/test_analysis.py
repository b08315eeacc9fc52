"""The analyzer: Chinese words, unknown words, mixed text, traditional and full-width
input, spelling variants, question words, pinyin."""

import pytest

from content.search.analysis import (
    bigram_tokens,
    fold,
    fold_chars,
    pinyin_tokens,
    query_pieces,
    segment,
    word_tokens,
)
from content.search.index import make_schema


def words(text):
    return list(word_tokens(fold(text)))


def test_chinese_words_are_segmented_and_domain_words_stay_whole():
    tokens = words("白皮书落地页的转化率怎么提升")
    assert {"白皮书", "落地页", "转化率", "提升"} <= set(tokens)
    # Function words carry nothing on their own.
    assert "的" not in tokens


def test_compounds_also_index_their_parts():
    # So a search for 流失 finds a page that only says 流失率.
    assert {"流失率", "流失"} <= set(words("降低流失率"))


def test_unknown_words_are_still_found_through_bigrams():
    # A made-up product name jieba cannot know: its character pairs are indexed.
    pairs = list(bigram_tokens(fold("星图云的续费看板")))
    assert {"星图", "图云", "续费", "看板"} <= set(pairs)


def test_mixed_chinese_and_english():
    tokens = words("用 Salesforce 同步 CRM 数据 landing pages")
    assert {"salesforc", "crm", "同步", "数据", "land", "page"} <= set(tokens)


def test_english_is_lower_cased_stemmed_and_stop_words_dropped():
    assert words("The Renewals of Accounts") == ["renew", "account"]


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [("單點登錄", "单点登录"), ("續費率", "续费率"), ("帳號安全與兩步驗證", "账号安全与两步验证")],
)
def test_traditional_is_folded_to_simplified(traditional, simplified):
    assert fold(traditional) == simplified
    assert words(traditional) == words(simplified)


def test_full_width_is_folded_to_half_width():
    assert fold("ＳａａＳ　ＣＲＭ　１２３") == "saas crm 123"
    assert words("ＮＰＳ调研") == words("NPS调研")


@pytest.mark.parametrize("spelling", ["ToB", "To B", "toB", "2B", "to-b", "ＴｏＢ"])
def test_spelling_variants_fold_to_one_form(spelling):
    assert fold(f"{spelling} 营销") == "tob 营销"


def test_variants_leave_longer_words_alone():
    assert fold("B2B SaaS") == "b2b saas"
    assert fold("tobacco 2bed") == "tobacco 2bed"


def test_fold_chars_keeps_one_character_per_character():
    text = "ＳａａＳ 單點登錄 ㎏"
    assert len(fold_chars(text)) == len(text)
    assert fold_chars(text).startswith("saas 单点登录")


def test_question_words_are_dropped_from_queries():
    assert query_pieces(fold("试用期结束后怎么让客户付费")) == [("zh", "试用期结束"), ("zh", "客户付费")]
    assert query_pieces(fold("How do I reset my password?")) == [("en", "reset"), ("en", "password")]
    assert query_pieces(fold("为什么 吗 呢 what why")) == []


def test_pinyin_pairs_catch_homophone_typos():
    assert list(pinyin_tokens("落第页")) == list(pinyin_tokens("落地页")) == ["luodi", "diye"]
    assert list(pinyin_tokens("续废率")) == list(pinyin_tokens("续费率"))


def test_precise_segmentation_for_queries():
    # Queries keep the dictionary's longest word; the index has its parts as well.
    assert segment("客户成功经理") == ["客户成功经理"]


def test_schema_pickles_with_its_analyzers():
    import pickle

    schema = make_schema()
    again = pickle.loads(pickle.dumps(schema))
    tokens = [t.text for t in again["title"].analyzer("單點登錄 SSO")]
    assert tokens == ["单点", "登录", "单点登录", "sso"]


def test_a_worker_forked_while_the_dictionary_loads_loads_its_own():
    from content.search import analysis
    from tests.forking import in_forked_child

    def worker() -> bytes:
        analysis._jieba = None  # not loaded yet in this worker, whatever the parent has
        return b"ok" if analysis.jieba_tokenizer() is not None else b"no"

    with analysis._jieba_lock:  # as if the parent's warm-up thread were loading at the fork
        assert in_forked_child(worker, timeout=60) == b"ok"
