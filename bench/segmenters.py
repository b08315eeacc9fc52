"""Chinese word segmentation for search: jieba against a maintained alternative.

    .venv/bin/python bench/segmenters.py

The search segments every Chinese run at index and query time (content/search/analysis.py).
It used jieba (0.42.1, January 2020, unmaintained); the maintained candidates that install
here were measured against it, each with the same domain words added, through the same
analyzer (bigrams and pinyin beside it):

- rjieba (jieba-rs: jieba's dictionary and algorithm in Rust, released 2026), which the
  site now uses;
- spacy-pkuseg and pkuseg ship no model in their wheels and load one from the network at
  first use, which a site (and this machine) cannot rely on: not measured.

Quality: nDCG@10 and recall@5 of the whole search (words alone, no embedding) on the
demo articles with their judgements (bench/search_eval/development/relevance.yml, the development
set) and on the independent set (bench/search_eval/independent/); the fresh set is left
unread, since a choice made on it would spend it. Speed: words per second of precise
mode (queries) and search mode (indexing) over the independent set's text, and the time
to load the dictionary.
"""

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search import evaluation_site  # noqa: E402


class PythonJieba:
    """jieba (the Python package) behind rjieba's methods that content.search.analysis
    calls, loaded as the site loaded it before (its dictionary cache in the temp folder)."""

    def __init__(self, words):
        import logging
        import tempfile

        import jieba

        jieba.setLogLevel(logging.WARNING)
        self.jieba = jieba.Tokenizer()
        self.jieba.tmp_dir = tempfile.gettempdir()
        self.jieba.initialize()
        for word in words:
            self.jieba.add_word(word, freq=20000)

    def cut(self, text, hmm=True):
        return self.jieba.cut(text, HMM=hmm)

    def cut_for_search(self, text, hmm=True):
        return self.jieba.cut_for_search(text, HMM=hmm)


def tokenizers() -> dict:
    """name -> (loader, tokenizer), each loaded the way the site loads jieba's."""
    from content.search import analysis

    def load_jieba():
        return PythonJieba(analysis.domain_words(analysis.load_dictionary()))

    def load_rjieba():
        analysis._jieba = None
        return analysis.jieba_tokenizer()

    return {"jieba": load_jieba, "rjieba (the site's)": load_rjieba}


def quality(tokenizer) -> dict:
    """The relevance of the whole search with `tokenizer` in jieba's place."""
    from content.search import analysis
    from content.search.evaluation import (
        evaluate,
        import_demo_articles,
        import_documents,
        load_independent,
        load_judgements,
    )
    from content.search.services import search_articles

    analysis._jieba = tokenizer
    scores = {}
    documents, independent = load_independent()
    for name, load, judgements in (
        ("development", import_demo_articles, load_judgements()),
        ("independent", lambda now: import_documents(documents, now), independent),
    ):
        with evaluation_site(f"lodestar-segment-{name}-", load) as (app, _folder, now):
            app.config["SEARCH_DENSE"] = False

            def search(text, now=now):
                results, _ = search_articles(text, now=now)
                return [hit.slug for hit in results.hits]

            scores[name] = evaluate(search, judgements)["all"]
    return scores


def speed(tokenizer, texts: list[str]) -> dict:
    import re

    from content.search.analysis import CJK_CLASS

    runs = [run for text in texts for run in re.findall(rf"[{CJK_CLASS}]+", text)]
    result = {}
    for mode in ("cut", "cut_for_search"):
        cut = getattr(tokenizer, mode)
        timings, words = [], 0
        for _ in range(5):
            started = time.perf_counter()
            words = sum(len(list(cut(run, hmm=True))) for run in runs)
            timings.append(time.perf_counter() - started)
        result[mode] = words / statistics.median(timings)
    return result


def main() -> None:
    from content.search.evaluation import load_independent

    documents, _ = load_independent()
    texts = [f"{doc['title']} {doc['body']}" for doc in documents]
    rows = []
    for name, load in tokenizers().items():
        started = time.perf_counter()
        tokenizer = load()
        load_seconds = time.perf_counter() - started
        rates = speed(tokenizer, texts)
        scores = quality(tokenizer)
        rows.append((name, scores, rates, load_seconds))
    print(
        "| segmenter | nDCG@10 dev | recall@5 dev | nDCG@10 independent | recall@5 independent "
        "| words/s precise | words/s search mode | load s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, scores, rates, load_seconds in rows:
        dev, held = scores["development"], scores["independent"]
        print(
            f"| {name} | {dev['ndcg']:.3f} | {dev['recall']:.3f} | {held['ndcg']:.3f} | {held['recall']:.3f} "
            f"| {rates['cut']:,.0f} | {rates['cut_for_search']:,.0f} | {load_seconds:.2f} |"
        )


if __name__ == "__main__":
    main()
