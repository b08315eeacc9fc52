"""The relevance floor: the demo articles, our judgements, nDCG@10 and recall@5.

Floors are the levels reached when this was written, minus a little room; a change to
analysis or ranking that loses relevance fails here. The figures per kind are printed by
`python bench/search.py`.
"""

import pytest

from content.search.evaluation import evaluate, import_demo_articles, load_judgements
from content.search.services import search_articles
from core.timeutil import utcnow

FLOOR_NDCG = 0.94
FLOOR_RECALL = 0.93
FLOOR_KIND_NDCG = 0.88


@pytest.mark.slow
def test_relevance_floor(app, search_index):
    now = utcnow()
    assert import_demo_articles(now) >= 40
    search_index.sync(now, force=True)
    judgements = load_judgements()
    assert len(judgements) >= 50

    def ranked(text):
        results, _ = search_articles(text, now=now)
        return [hit.slug for hit in results.hits]

    report = evaluate(ranked, judgements)
    weak = [(r["q"], round(r["ndcg"], 2), r["top"]) for r in report["per_query"] if r["ndcg"] < 0.5]
    assert report["all"]["ndcg"] >= FLOOR_NDCG, weak
    assert report["all"]["recall"] >= FLOOR_RECALL, weak
    for kind, figures in report["kinds"].items():
        assert figures["ndcg"] >= FLOOR_KIND_NDCG, (kind, figures, weak)
