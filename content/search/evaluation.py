"""Measuring relevance: graded judgements (0-3) in, nDCG@10 and recall@5 per query kind out.

Used by the relevance test (which fails below the floors reached) and by bench/search.py
(which also scores Whoosh's default analyzer on the same corpus).
"""

import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import yaml

JUDGEMENTS = Path(__file__).resolve().parents[2] / "tests" / "content" / "search" / "relevance.yml"
DEMO_ARTICLES = Path(__file__).resolve().parents[1] / "demo" / "articles"


def load_judgements(path: Path = JUDGEMENTS) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def dcg(grades: list[int]) -> float:
    return sum((2**grade - 1) / math.log2(rank + 2) for rank, grade in enumerate(grades))


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    ideal = dcg(sorted(relevant.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([relevant.get(slug, 0) for slug in ranked[:k]]) / ideal


def recall_at(ranked: list[str], relevant: dict[str, int], k: int = 5) -> float:
    """Share of the very useful documents (grade 2 and 3) found in the first k."""
    wanted = {slug for slug, grade in relevant.items() if grade >= 2} or set(relevant)
    if not wanted:
        return 0.0
    return len(wanted & set(ranked[:k])) / len(wanted)


def evaluate(search: Callable[[str], list[str]], judgements: list[dict]) -> dict:
    """{"kinds": {kind: {"ndcg", "recall", "queries"}}, "all": {...}, "per_query": [...]}"""
    per_query = []
    for item in judgements:
        ranked = search(str(item["q"]))
        per_query.append(
            {
                "q": item["q"],
                "kind": item["kind"],
                "ndcg": ndcg_at(ranked, item["rel"]),
                "recall": recall_at(ranked, item["rel"]),
                "top": ranked[:3],
            }
        )
    grouped = defaultdict(list)
    for row in per_query:
        grouped[row["kind"]].append(row)
        grouped["all"].append(row)
    summary = {
        kind: {
            "ndcg": sum(r["ndcg"] for r in rows) / len(rows),
            "recall": sum(r["recall"] for r in rows) / len(rows),
            "queries": len(rows),
        }
        for kind, rows in grouped.items()
    }
    return {
        "kinds": {k: v for k, v in summary.items() if k != "all"},
        "all": summary["all"],
        "per_query": per_query,
    }


def import_demo_articles(now) -> int:
    """The demo articles into the database through the content importer."""
    from content.transfer import import_paths

    report = import_paths([DEMO_ARTICLES], now=now)
    return report.counts["imported"] + report.counts["updated"] + report.counts["unchanged"]
