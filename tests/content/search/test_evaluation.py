"""The independent evaluation's harness, on a tiny made-up set in its file format (the
real set is never read by tests: its figure is measured once, in bench/search.py)."""

from pathlib import Path

import pytest

from content.search import evaluation
from content.search.services import search_articles
from core.timeutil import utcnow

SAMPLE = Path(__file__).with_name("sample_set")


def test_the_set_loads_with_documents_named_by_slug():
    documents, judgements = evaluation.load_independent(SAMPLE)
    assert [row["id"] for row in documents] == ["d1", "d2", "D 3"]
    assert judgements[2] == {"q": "export leads csv", "kind": "keyword", "rel": {"eval-d-3": 3, "eval-d1": 1}}


def test_a_missing_set_is_none_and_a_broken_one_names_file_and_line(tmp_path):
    assert evaluation.load_independent(tmp_path) is None
    (tmp_path / "documents.jsonl").write_text('{"id": "a", "title": "t", "body": "b"}\n', encoding="utf-8")
    (tmp_path / "queries.jsonl").write_text('{"query": "x", "relevant": {"a": 2}}\n{oops\n', encoding="utf-8")
    with pytest.raises(evaluation.EvaluationSetError, match="queries.jsonl:2"):
        evaluation.load_independent(tmp_path)
    (tmp_path / "queries.jsonl").write_text('{"query": "x", "relevant": {"b": 2}}\n', encoding="utf-8")
    with pytest.raises(evaluation.EvaluationSetError, match="unknown documents"):
        evaluation.load_independent(tmp_path)


def test_the_documents_are_searchable_and_scored_per_kind(app, search_index):
    now = utcnow()
    documents, judgements = evaluation.load_independent(SAMPLE)
    assert evaluation.import_documents(documents, now) == 3
    search_index.sync(now, force=True)

    def ours(text):
        results, _ = search_articles(text, now=now)
        return [hit.slug for hit in results.hits]

    report = evaluation.evaluate(ours, judgements)
    assert report["kinds"]["keyword"]["queries"] == 2 and report["kinds"]["question"]["queries"] == 1
    assert report["per_query"][0]["top"][0] == "eval-d1"
    assert report["per_query"][0]["ndcg"] == pytest.approx(1.0)
    # An unknown kind ("guide") is kept as a help article, in its language.
    assert ours("export leads csv")[0] == "eval-d-3"


def test_the_development_sets_judge_only_demo_articles():
    slugs = {path.stem for path in evaluation.DEMO_ARTICLES.glob("*.md")}
    for path in (evaluation.JUDGEMENTS, evaluation.PARAPHRASES):
        judgements = evaluation.load_judgements(path)
        assert judgements, path
        for item in judgements:
            assert set(item["rel"]) <= slugs, (path.name, item["q"], set(item["rel"]) - slugs)
    paraphrases = evaluation.load_judgements(evaluation.PARAPHRASES)
    assert {item["kind"] for item in paraphrases} == {"paraphrase"}
