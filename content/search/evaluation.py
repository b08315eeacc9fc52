"""Measuring relevance: graded judgements (0-3) in, nDCG@10 and recall@5 per query kind out.

Two sets. The current one (bench/search_eval/development/relevance.yml over the demo articles) was
written beside the ranking code and its synonyms, so it cannot see what they miss. The
independent one (bench/search_eval/independent/: documents.jsonl and queries.jsonl) was
written by someone who never saw the analyzer, the synonyms or this code; nothing may be
tuned against it, and once its figure has been read it is used up (write a fresh one).

Used by the relevance test (which fails below the floors reached) and by bench/search.py
(which also scores Whoosh's default analyzer on the same corpus).
"""

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import yaml

JUDGEMENTS = Path(__file__).resolve().parents[2] / "bench" / "search_eval" / "development" / "relevance.yml"
# Paraphrase queries over the same articles, also for tuning (bench/search.py reports them
# as a row of their own; the relevance test's floors are for relevance.yml only).
PARAPHRASES = JUDGEMENTS.with_name("paraphrase.yml")
DEMO_ARTICLES = Path(__file__).resolve().parents[1] / "demo" / "articles"
INDEPENDENT = Path(__file__).resolve().parents[2] / "bench" / "search_eval" / "independent"
SLUG_PREFIX = "eval-"


class EvaluationSetError(ValueError):
    """An evaluation file that does not follow the format (named file and line)."""


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
    return summarise(per_query)


def summarise(per_query: list[dict]) -> dict:
    """evaluate()'s report of some of its per-query rows (a set within a set)."""
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


def _jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise EvaluationSetError(f"{path.name}:{number}: {error.msg}") from None
            if not isinstance(row, dict):
                raise EvaluationSetError(f"{path.name}:{number}: not an object")
            rows.append(row)
    return rows


def slug_of(doc_id) -> str:
    """The article slug a document of an evaluation set is imported under."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", str(doc_id).lower()).strip("-")
    return f"{SLUG_PREFIX}{cleaned or 'doc'}"


def load_independent(folder: Path = INDEPENDENT) -> tuple[list[dict], list[dict]] | None:
    """(documents, judgements) of an independent set, or None when it is not there.

    documents.jsonl: {"id", "title", "body", "kind", "locale"} per line; queries.jsonl:
    {"id", "query", "kind", "relevant": {doc_id: grade 1-3}}. The judgements come in the
    shape evaluate() takes, naming documents by their slug (slug_of)."""
    documents_path, queries_path = folder / "documents.jsonl", folder / "queries.jsonl"
    if not (documents_path.is_file() and queries_path.is_file()):
        return None
    documents = _jsonl(documents_path)
    known = {str(row.get("id")) for row in documents}
    judgements = []
    for number, row in enumerate(_jsonl(queries_path), start=1):
        relevant = row.get("relevant")
        if not isinstance(relevant, dict) or not str(row.get("query", "")).strip():
            raise EvaluationSetError(f"{queries_path.name}:{number}: needs a query and relevant documents")
        missing = set(map(str, relevant)) - known
        if missing:
            raise EvaluationSetError(f"{queries_path.name}:{number}: unknown documents {sorted(missing)}")
        judgements.append(
            {
                "q": str(row["query"]),
                "kind": str(row.get("kind") or "other"),
                "rel": {slug_of(doc): int(grade) for doc, grade in relevant.items()},
            }
        )
    return documents, judgements


def import_documents(documents: list[dict], now) -> int:
    """An evaluation set's documents as published articles, through the content service
    (so they are indexed and queued for vectors like any article an editor saves)."""
    from content.documents import article_defaults
    from content.models import KINDS
    from content.services import save_article

    for row in documents:
        kind = str(row.get("kind") or "help")
        locale = "en" if str(row.get("locale", "")).lower().startswith("en") else "zh-CN"
        save_article(
            {
                **article_defaults(),
                "title": str(row.get("title") or row["id"])[:300],
                "slug": slug_of(row["id"]),
                "kind": kind if kind in KINDS else "help",
                "locale": locale,
                "status": "published",
                "published_at": now.replace(year=now.year - 1),
            },
            str(row.get("body") or ""),
            now=now,
        )
    return len(documents)
