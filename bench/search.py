"""Search benchmark: relevance per query kind against Whoosh's default analyzer, and speed
on a generated 10,000-article corpus against a raw Whoosh searcher and SQLite FTS5.

    .venv/bin/python bench/search.py            # full run (a few minutes)
    .venv/bin/python bench/search.py --small    # 1,000 articles, 150 queries (under a minute)
    .venv/bin/python bench/search.py --skip-relevance --folder /tmp/search-10k
        # keeps the corpus and index there; later runs with the same folder reuse them
    .venv/bin/python bench/search.py --only-independent --held-out fresh
        # only a held-out set (bench/search_eval/independent/, fresh/, unread/ or blind/): run it once

Relevance: the demo articles, the judgements of bench/search_eval/development/relevance.yml,
nDCG@10 and recall@5 for Lodestar's search and for the same articles indexed with
Whoosh's StandardAnalyzer (title, summary, tags, body) and parsed with its MultifieldParser
in OR mode (its default AND mode finds even less), as ratios.

Speed: a generated corpus of Chinese (70%) and English articles made of sentences of the
demo articles and terms of the synonym dictionary, inserted into SQLite; then `reindex`
time; `/api/search` latency p50/p95 over a few hundred mixed queries through the Flask
test client (sync check, synonyms, snippets and the analytics row included); a raw
Whoosh searcher on the same index (OR query over title and body, ten stored hits, no
snippets); SQLite FTS5 (jieba-segmented text, bm25, ten hits). Each serving phase runs in
a process of its own, so its peak RSS is its own. Latencies as p50/p95/p99; the API's
result cache hits are counted, and the first search of each distinct query (which the
cache cannot answer) is reported on its own as the honest figure.
"""

import argparse
import json
import random
import re
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402

SEED = 20261123
# Articles the real model embeds in the build phase, to measure its speed.
EMBED_SAMPLE = 40
WARM_UP = [
    "预热",
    "warm up",
    "系统预热查询",
    "how to warm up",
    "预热 cache",
    "冷启动预热",
    "lorem ipsum",
    "测试",
]


def make_app(folder: Path):
    from core.memory import freeze_startup_objects

    app = harness.in_process_app(
        f"sqlite:///{folder / 'bench.db'}", folder, TESTING=False, WTF_CSRF_ENABLED=False
    )
    freeze_startup_objects()  # as wsgi.py does in each gunicorn worker
    return app


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


# Relevance -----------------------------------------------------------------------------------


@contextmanager
def evaluation_site(prefix: str, load):
    """A throw-away site whose articles `load(now)` makes, indexed: (app, folder, now)."""
    from content.search.upkeep import reindex
    from core.extensions import db
    from core.timeutil import utcnow

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        folder = Path(tmp)
        app = make_app(folder)
        with app.app_context():
            db.create_all()
            now = utcnow()
            load(now)
            reindex(now=now)
            yield app, folder, now


def words_then_meaning(app, now, judgements) -> tuple[dict, dict, int, float]:
    """The judgements scored by words alone, then by words and meaning once every article
    is embedded: (words, hybrid, passages embedded, seconds embedding took)."""
    from content.search.evaluation import evaluate
    from content.search.services import search_articles
    from content.search.upkeep import embed_all

    def ours(text):
        results, _ = search_articles(text, now=now)
        return [hit.slug for hit in results.hits]

    app.config["SEARCH_DENSE"] = False
    words = evaluate(ours, judgements)
    app.config["SEARCH_DENSE"] = True
    started = time.perf_counter()
    embedded = embed_all(now=now)
    seconds = time.perf_counter() - started
    return words, evaluate(ours, judgements), embedded, seconds


def relevance(held_out: Path | None = None) -> dict:
    from whoosh import index as whoosh_index
    from whoosh.analysis import StandardAnalyzer
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.qparser import MultifieldParser, OrGroup

    from content.models import Article
    from content.search.evaluation import PARAPHRASES, evaluate, import_demo_articles, load_judgements
    from core.extensions import db

    judgements = load_judgements() + load_judgements(PARAPHRASES)
    with evaluation_site("lodestar-relevance-", import_demo_articles) as (app, folder, now):
        words, mine, embedded, embed_seconds = words_then_meaning(app, now, judgements)
        analyzer = StandardAnalyzer()
        schema = Schema(
            slug=ID(stored=True),
            title=TEXT(analyzer=analyzer),
            summary=TEXT(analyzer=analyzer),
            tags=TEXT(analyzer=analyzer),
            body=TEXT(analyzer=analyzer),
        )
        (folder / "plain").mkdir()
        plain = whoosh_index.create_in(str(folder / "plain"), schema)
        with plain.writer() as writer:
            for article in db.session.scalars(db.select(Article)):
                if article.is_public(now):
                    writer.add_document(
                        slug=article.slug,
                        title=article.title,
                        summary=article.summary or "",
                        tags=" ".join(article.tags or []),
                        body=article.body_text or "",
                    )
        parser = MultifieldParser(["title", "summary", "tags", "body"], schema, group=OrGroup)

        def default(text):
            with plain.searcher() as searcher:
                return [hit["slug"] for hit in searcher.search(parser.parse(text), limit=10)]

        baseline = evaluate(default, judgements)
    return {
        "lodestar": _current_all(mine),
        "words": _current_all(words),
        "whoosh_default": _current_all(baseline),
        "independent": independent_relevance(held_out),
        "embedded": embedded,
        "embed_s": embed_seconds,
    }


def _current_all(report: dict) -> dict:
    """A development-set report whose "all" is relevance.yml's queries alone (the
    paraphrases of paraphrase.yml keep their own row), so it compares with earlier runs."""
    from content.search.evaluation import summarise

    current = summarise([row for row in report["per_query"] if row["kind"] != "paraphrase"])
    return {**report, "all": current["all"]}


def independent_relevance(folder: Path | None = None) -> dict | None:
    """A held-out set (the independent one unless `folder` names another, such as
    bench/search_eval/fresh/) on a site of its own documents only, by words alone and by
    words and meaning; None when the set is not there."""
    from content.search.evaluation import INDEPENDENT, import_documents, load_independent

    folder = folder or INDEPENDENT
    found = load_independent(folder)
    if found is None:
        return None
    documents, judgements = found
    with evaluation_site("lodestar-independent-", lambda now: import_documents(documents, now)) as (
        app,
        _,
        now,
    ):
        words, hybrid, _, _ = words_then_meaning(app, now, judgements)
    return {"hybrid": hybrid, "words": words, "documents": len(documents), "folder": folder.name}


def print_relevance(report: dict) -> None:
    mine, words, base = report["lodestar"], report["words"], report["whoosh_default"]
    print(
        "\n## Relevance (demo articles, bench/search_eval/development/: relevance.yml, and "
        "paraphrase.yml as the paraphrase row; all = relevance.yml)\n"
    )
    print(
        "| kind | queries | nDCG@10 | words alone | default analyzer | ratio | recall@5 | words alone | "
        "default analyzer | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = list(mine["kinds"].items()) + [("all", mine["all"])]
    for kind, figures in rows:
        other = base["all"] if kind == "all" else base["kinds"][kind]
        alone = words["all"] if kind == "all" else words["kinds"][kind]
        print(
            f"| {kind} | {figures['queries']} | {figures['ndcg']:.3f} | {alone['ndcg']:.3f} | {other['ndcg']:.3f} | "
            f"{_ratio(figures['ndcg'], other['ndcg'])} | {figures['recall']:.3f} | {alone['recall']:.3f} | "
            f"{other['recall']:.3f} | {_ratio(figures['recall'], other['recall'])} |"
        )
    print(
        f"\n- the {report['embedded']} demo articles embedded (passages of both models) in "
        f"{report['embed_s']:.1f} s"
    )
    print_independent(report["independent"])


def print_independent(held: dict | None) -> None:
    if held is None:
        print("\n## Held-out set: not present, not measured")
        return
    print(
        f"\n## Relevance on the held-out set (bench/search_eval/{held['folder']}/, {held['documents']} "
        "documents on a site of their own; see its README for whether it is still unread)\n"
    )
    print(
        "| kind | queries | nDCG@10 hybrid | nDCG@10 words alone | recall@5 hybrid | recall@5 words alone |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    hybrid, alone = held["hybrid"], held["words"]
    for kind in [*hybrid["kinds"], "all"]:
        one = hybrid["all"] if kind == "all" else hybrid["kinds"][kind]
        two = alone["all"] if kind == "all" else alone["kinds"][kind]
        print(
            f"| {kind} | {one['queries']} | {one['ndcg']:.3f} | {two['ndcg']:.3f} | "
            f"{one['recall']:.3f} | {two['recall']:.3f} |"
        )


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b else "∞ (default finds none)"


# Corpus ----------------------------------------------------------------------------------------


def sentence_pools() -> tuple[list[str], list[str]]:
    import frontmatter

    from content.search.evaluation import DEMO_ARTICLES

    chinese, english = [], []
    for path in sorted(DEMO_ARTICLES.glob("*.md")):
        post = frontmatter.load(path)
        text = re.sub(r"[#>*`|\[\]()_-]+", " ", post.content)
        target = english if post.get("locale") == "en" else chinese
        for piece in re.split(r"(?<=[。！？!?])|(?<=\. )|\n+", text):
            piece = " ".join(piece.split())
            if 12 <= len(piece) <= 200:
                target.append(piece)
    return chinese, english


def domain_terms() -> tuple[list[str], list[str]]:
    from content.search.analysis import CJK_RE, load_dictionary

    terms = [term for group in load_dictionary()["synonyms"] for term in group]
    return [t for t in terms if CJK_RE.search(t)], [t for t in terms if not CJK_RE.search(t)]


def generate_corpus(count: int) -> list[dict]:
    rng = random.Random(SEED)
    zh_sentences, en_sentences = sentence_pools()
    zh_terms, en_terms = domain_terms()
    kinds = ["help"] * 5 + ["blog"] * 2 + ["whitepaper", "case-study", "solution"]
    start = datetime(2025, 1, 1)
    rows = []
    for n in range(count):
        chinese = rng.random() < 0.7
        sentences, terms = (zh_sentences, zh_terms) if chinese else (en_sentences, en_terms)
        picked = rng.sample(terms, 3)
        if chinese:
            title = f"{picked[0]}与{picked[1]}：{rng.choice(['指南', '最佳实践', '常见问题', '案例', '入门', '清单'])}"
        else:
            title = f"{picked[0].title()} and {picked[1]}: {rng.choice(['a guide', 'best practices', 'FAQ', 'a case study'])}"
        body = []
        for _ in range(rng.randint(5, 12)):
            body.append(rng.choice(sentences))
            if rng.random() < 0.3:
                body.append(rng.choice(terms) + ("。" if chinese else "."))
        joiner = "" if chinese else " "
        rows.append(
            {
                "kind": rng.choice(kinds),
                "slug": f"bench-{n}",
                "locale": "zh-CN" if chinese else "en",
                "title": title[:300],
                "summary": rng.choice(sentences)[:200],
                "category": rng.choice(terms)[:100],
                "tags": picked,
                "body_md": joiner.join(body),
                "body_html": "",
                "body_text": joiner.join(body),
                "status": "published" if rng.random() < 0.95 else "draft",
                "published_at": start + timedelta(minutes=n),
                "updated_at": start + timedelta(minutes=n),
                "created_at": start + timedelta(minutes=n),
            }
        )
    return rows


def query_mix(count: int) -> list[str]:
    from content.search.evaluation import load_judgements

    rng = random.Random(SEED + 1)
    zh_terms, en_terms = domain_terms()
    queries = [str(item["q"]) for item in load_judgements()]
    while len(queries) < count:
        roll = rng.random()
        if roll < 0.35:
            queries.append(rng.choice(zh_terms))
        elif roll < 0.55:
            queries.append(f"如何提高{rng.choice(zh_terms)}的{rng.choice(zh_terms)}")
        elif roll < 0.75:
            queries.append(rng.choice(en_terms))
        elif roll < 0.9:
            queries.append(f"how do I set up {rng.choice(en_terms)} with {rng.choice(en_terms)}")
        else:
            queries.append(f"{rng.choice(zh_terms)} {rng.choice(en_terms)}")
    rng.shuffle(queries)
    return queries[:count]


# Phases (each in its own process) --------------------------------------------------------------


def phase_build(folder: Path, count: int) -> dict:
    from sqlalchemy import insert

    from content.models import Article
    from content.search.upkeep import reindex
    from core.extensions import db
    from core.timeutil import utcnow

    app = make_app(folder)
    with app.app_context():
        db.create_all()
        rows = generate_corpus(count)
        for start in range(0, len(rows), 1000):
            db.session.execute(insert(Article), rows[start : start + 1000])
        db.session.commit()
        chars = sum(len(r["body_text"]) + len(r["title"]) for r in rows)
        started = time.perf_counter()
        indexed = reindex(now=utcnow())
        seconds = time.perf_counter() - started
        # The same text into SQLite FTS5, segmented by jieba (FTS5 cannot split Chinese).
        from content.search.analysis import fold, jieba_tokenizer

        tokenizer = jieba_tokenizer()
        started = time.perf_counter()
        fts = sqlite3.connect(folder / "fts.db")
        fts.execute("CREATE VIRTUAL TABLE docs USING fts5(slug UNINDEXED, title, body)")
        fts.executemany(
            "INSERT INTO docs VALUES (?, ?, ?)",
            (
                (
                    r["slug"],
                    " ".join(tokenizer.cut_for_search(fold(r["title"]))),
                    " ".join(tokenizer.cut_for_search(fold(r["body_text"]))),
                )
                for r in rows
                if r["status"] == "published"
            ),
        )
        fts.commit()
        fts.close()
        fts_seconds = time.perf_counter() - started
        meaning = _vectors(rows)
    return {
        **meaning,
        "articles": count,
        "indexed": indexed,
        "text_chars": chars,
        "reindex_s": seconds,
        "fts_build_s": fts_seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


def _vectors(rows: list[dict]) -> dict:
    """The real models' speed on a sample of the corpus, in the reindex's batches on one
    thread and on every core (the full embedding of 10,000 articles is extrapolated from
    the latter), a cold query's embedding, then random unit vectors, as many passages per
    article and encoder as the sample had, so `/api/search` scans matrices of the real size."""
    import numpy as np
    from sqlalchemy import insert, select

    from content.models import Article
    from content.search import dense, embedding
    from content.search.index import published_clause
    from content.search.models import ArticleVector
    from core.extensions import db
    from core.timeutil import utcnow

    public = [r for r in rows if r["status"] == "published"]
    # A twenty-fifth of a small corpus (the smoke run), at most EMBED_SAMPLE articles.
    sample = random.Random(SEED).sample(public, max(1, min(EMBED_SAMPLE, len(public) // 25)))
    pieces = [
        [text for _start, text in dense.passages(r["title"], r["summary"], r["body_text"])] for r in sample
    ]
    # Per encoder, the reindex's batches of EMBED_BATCH articles, each article's first passages.
    batches = {
        encoder: [
            [
                text
                for article in pieces[start : start + embedding.EMBED_BATCH]
                for text in article[: encoder.passages]
            ]
            for start in range(0, len(pieces), embedding.EMBED_BATCH)
        ]
        for encoder in dense.ENCODERS
    }
    started = time.perf_counter()
    loaded = dense.models() is not None
    load_s = time.perf_counter() - started
    timed = {}
    for threads in sorted({1, dense.cores()}):
        started = time.perf_counter()
        if loaded:
            for encoder, encoder_batches in batches.items():
                for batch in encoder_batches:
                    dense.embed_passages(encoder, batch, threads=threads)
        timed[threads] = time.perf_counter() - started
    sample_s = timed[dense.cores()]
    cold = _cold_queries() if loaded else {}
    counts = {encoder: sum(map(len, encoder_batches)) for encoder, encoder_batches in batches.items()}
    ids = db.session.scalars(select(Article.id).where(published_clause())).all()
    generator = np.random.default_rng(SEED)
    now = utcnow()
    stored = 0
    for encoder in dense.ENCODERS:
        passages = max(1, round(counts[encoder] / len(sample)))
        for start in range(0, len(ids), 1000):
            batch = []
            for article_id in ids[start : start + 1000]:
                vectors = generator.standard_normal((passages, encoder.dimensions)).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                batch.extend(
                    {
                        "article_id": article_id,
                        "passage": number,
                        "start": 0,
                        "vector": vector.tobytes(),
                        "model": encoder.name,
                        "embedded_at": now,
                    }
                    for number, vector in enumerate(vectors)
                )
            db.session.execute(insert(ArticleVector), batch)
            stored += len(batch)
    db.session.commit()
    return {
        "model_loaded": loaded,
        "model_load_s": load_s,
        "embed_sample_articles": len(sample),
        "embed_sample_passages": sum(counts.values()),
        "embed_sample_s": sample_s,
        "embed_sample_one_thread_s": timed[1],
        "embed_threads": dense.cores(),
        "embed_full_estimate_s": sample_s / len(sample) * len(public) if loaded else 0.0,
        "vectors": stored,
        **cold,
    }


def _cold_queries() -> dict:
    """A query's embedding when nothing is cached: distinct queries of the mix, each
    embedded once (the query cache emptied), on the engine's query threads."""
    from content.search import dense

    texts = list(dict.fromkeys(query_mix(200)))[:100]
    dense._queries.clear()
    timings = []
    for text in texts:
        started = time.perf_counter()
        dense.embed_query(text)
        timings.append((time.perf_counter() - started) * 1000)
    dense._queries.clear()
    return {
        "query_embed_p50_ms": statistics.median(timings),
        "query_embed_p95_ms": percentile(timings, 0.95),
        "query_embed_threads": dense.QUERY_THREADS,
    }


def phase_api(folder: Path, queries: list[str]) -> dict:
    app = make_app(folder)
    client = app.test_client()
    # Warm up with searches outside the measured mix, so the result cache only serves
    # the mix's own repeats (15 of 300).
    for text in WARM_UP:
        client.get("/api/search", query_string={"q": text})
    from content.search.state import state

    cache = state(app).results
    rss_before = peak_rss_mb()
    timings, totals, first, hits = [], [], [], 0
    seen: set[str] = set()
    for text in queries:
        cached_before = len(cache)
        started = time.perf_counter()
        response = client.get("/api/search", query_string={"q": text})
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"/api/search?q={text} answered {response.status_code}")
        totals.append(response.get_json()["total"])
        # The cache holds more entries than the mix has queries: a search that added
        # none was answered from it.
        hits += len(cache) == cached_before
        if text not in seen:
            seen.add(text)
            first.append(timings[-1])
    out = _latency(timings, rss_before, found=sum(1 for t in totals if t))
    distinct = _latency(first, rss_before, found=0)
    out.update(
        cache_hits=hits,
        distinct_queries=len(first),
        distinct_p50_ms=distinct["p50_ms"],
        distinct_p95_ms=distinct["p95_ms"],
        distinct_p99_ms=distinct["p99_ms"],
    )
    out.update(_after_edits(app, client, list(dict.fromkeys(queries))))
    return out


def _after_edits(app, client, distinct: list[str]) -> dict:
    """An edit drops every kept clause score (the index statistics changed): the distinct
    queries searched once each right after one, with the warm-up of the previous
    generation's clauses, the same after a second's pause (a site whose searches are not
    back to back), and without a warm-up."""
    from content.models import Article
    from content.search import termscores
    from content.services import save_article
    from core.extensions import db
    from core.timeutil import utcnow

    budget = termscores.WARM_UP_POSTINGS
    out = {}
    for name, postings, pause in (
        ("edit_warm", budget, 0.0),
        ("edit_warm_paused", budget, 1.0),
        ("edit_cold", 0, 0.0),
    ):
        termscores.WARM_UP_POSTINGS = postings
        with app.app_context():
            article = db.session.scalars(
                db.select(Article).where(Article.status == "published").limit(1)
            ).one()
            save_article(
                {"title": f"{article.title.split(' #')[0]} #{name}"},
                article.body_md,
                article=article,
                now=utcnow(),
            )
        client.get("/api/search", query_string={"q": WARM_UP[0]})
        time.sleep(pause)
        timings = []
        for text in distinct:
            started = time.perf_counter()
            client.get("/api/search", query_string={"q": text})
            timings.append((time.perf_counter() - started) * 1000)
        row = _latency(timings, peak_rss_mb(), found=0)
        out.update({f"{name}_{key}": row[key] for key in ("p50_ms", "p95_ms", "p99_ms")})
    termscores.WARM_UP_POSTINGS = budget
    return out


def phase_raw(folder: Path, queries: list[str]) -> dict:
    from whoosh import index as whoosh_index
    from whoosh.qparser import MultifieldParser, OrGroup

    from content.search.analysis import jieba_tokenizer

    jieba_tokenizer()
    name = (folder / "index" / "CURRENT").read_text().strip()
    ix = whoosh_index.open_dir(str(folder / "index" / name))
    parser = MultifieldParser(["title", "body"], ix.schema, group=OrGroup)
    timings, found = [], 0
    with ix.searcher() as searcher:
        for text in queries[:10]:
            searcher.search(parser.parse(text), limit=10)
        rss_before = peak_rss_mb()
        for text in queries:
            started = time.perf_counter()
            hits = [hit.fields() for hit in searcher.search(parser.parse(text), limit=10)]
            timings.append((time.perf_counter() - started) * 1000)
            found += bool(hits)
    return _latency(timings, rss_before, found=found)


def phase_fts(folder: Path, queries: list[str]) -> dict:
    from content.search.analysis import fold, jieba_tokenizer, word_tokens

    tokenizer = jieba_tokenizer()
    connection = sqlite3.connect(folder / "fts.db")
    rss_before = peak_rss_mb()
    timings, found = [], 0
    for text in queries:
        started = time.perf_counter()
        words = [w for w in tokenizer.cut(fold(text)) if w.strip() and re.match(r"\w", w)]
        if not words:
            words = list(word_tokens(fold(text)))
        match = " OR ".join('"' + w.replace('"', "") + '"' for w in words) or '""'
        rows = connection.execute(
            "SELECT slug, title FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 4.0, 1.0) LIMIT 10", (match,)
        ).fetchall()
        timings.append((time.perf_counter() - started) * 1000)
        found += bool(rows)
    return _latency(timings, rss_before, found=found)


def _latency(timings: list[float], rss_before: float, *, found: int) -> dict:
    return {
        "queries": len(timings),
        "found": found,
        "p50_ms": statistics.median(timings),
        "p95_ms": percentile(timings, 0.95),
        "p99_ms": percentile(timings, 0.99),
        "max_ms": max(timings),
        "peak_rss_mb": peak_rss_mb(),
        "rss_growth_mb": peak_rss_mb() - rss_before,
    }


def run_phase(name: str, folder: Path, count: int, queries: int) -> dict:
    """Run one phase in a fresh interpreter and return its JSON."""
    return harness.run_phase(
        Path(__file__),
        *("--phase", name, "--folder", str(folder), "--articles", str(count), "--queries", str(queries)),
        timeout=900,
    )


def phase_visible(folder: Path, *, wait_for_warm_up: bool) -> dict:
    """A single edit (through the content service) in a fresh process: time until search
    finds it. Indexing segments the Chinese title, so the first edit needs jieba's
    dictionary, which the search package loads on a background thread when the app
    starts. With wait_for_warm_up, the edit comes once that load is done (a worker that
    has been up a couple of seconds); without, at once (the worst case: it waits for
    the load). The second edit is a warm process's."""
    from content.models import Article
    from content.search import analysis
    from content.search.services import search_articles
    from content.services import save_article
    from core.extensions import db
    from core.timeutil import utcnow

    started = time.perf_counter()
    app = make_app(folder)
    out = {"app_start_ms": (time.perf_counter() - started) * 1000}
    if wait_for_warm_up:
        while analysis._jieba is None:
            time.sleep(0.01)
        out["warm_up_ms"] = (time.perf_counter() - started) * 1000
    with app.app_context():
        search_articles("warmup", now=utcnow())
        article = db.session.scalars(db.select(Article).where(Article.status == "published").limit(1)).one()
        # Words no article has, new on every run (a kept folder keeps the edits).
        stamp = str(time.time_ns())[-9:]
        words = ["".join(chr(ord(prefix) + int(digit)) for digit in stamp) for prefix in "ak"]
        for name, word in zip(("update_visible_cold_ms", "update_visible_ms"), words, strict=True):
            started = time.perf_counter()
            save_article(
                {"title": f"独一无二的标题词 {word}"}, article.body_md, article=article, now=utcnow()
            )
            while True:
                results, _ = search_articles(word, now=utcnow())
                if results.total:
                    break
            out[name] = (time.perf_counter() - started) * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1,000 articles and 150 queries")
    parser.add_argument("--articles", type=int)
    parser.add_argument("--queries", type=int)
    parser.add_argument(
        "--phase",
        choices=["build", "api", "raw", "fts", "visible", "visible-at-once"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--folder", help="keep the corpus, index and FTS table here and reuse them if built")
    parser.add_argument("--skip-relevance", action="store_true")
    parser.add_argument(
        "--held-out",
        choices=["independent", "fresh", "unread", "blind"],
        default="independent",
        help="the held-out set scored beside the development set (bench/search_eval/<name>/)",
    )
    parser.add_argument(
        "--only-independent",
        action="store_true",
        help="only the held-out set's relevance (--held-out names which; run it once)",
    )
    args = parser.parse_args()
    count = args.articles or (1000 if args.small else 10000)
    queries = args.queries or (150 if args.small else 300)

    if args.phase:
        folder = Path(args.folder)
        if args.phase == "build":
            out = phase_build(folder, count)
        elif args.phase.startswith("visible"):
            out = phase_visible(folder, wait_for_warm_up=args.phase == "visible")
        else:
            mix = query_mix(queries)
            out = {"api": phase_api, "raw": phase_raw, "fts": phase_fts}[args.phase](folder, mix)
        print(json.dumps(out))
        return

    import logging

    logging.disable(logging.WARNING)
    held_out = ROOT / "bench" / "search_eval" / args.held_out
    if args.only_independent:
        print_independent(independent_relevance(held_out))
        return
    if not args.skip_relevance:
        report = relevance(held_out)
        print_relevance(report)
        summarise_relevance(report)

    with tempfile.TemporaryDirectory(prefix="lodestar-search-bench-") as tmp:
        folder = Path(args.folder or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        built = folder / "build.json"
        if built.exists():
            # A kept corpus of the same size: its build figures, no second reindex.
            build = json.loads(built.read_text())
        else:
            build = run_phase("build", folder, count, queries)
            built.write_text(json.dumps(build))
        if build["articles"] != count:
            raise SystemExit(f"{folder} holds {build['articles']} articles, not {count}")
        api = run_phase("api", folder, count, queries)
        raw = run_phase("raw", folder, count, queries)
        fts = run_phase("fts", folder, count, queries)
        seen = run_phase("visible", folder, count, queries)
        at_once = run_phase("visible-at-once", folder, count, queries)
    print(
        f"\n## Speed ({build['articles']:,} generated articles, {build['indexed']:,} public, "
        f"{build['text_chars'] / 1e6:.1f} M characters; {api['queries']} mixed queries)\n"
    )
    print(
        f"- full reindex (`flask search reindex`): {build['reindex_s']:.1f} s "
        f"({build['indexed'] / build['reindex_s']:.0f} articles/s); SQLite FTS5 build on jieba-segmented "
        f"text: {build['fts_build_s']:.1f} s (ratio {build['reindex_s'] / build['fts_build_s']:.1f}x)"
    )
    print(
        f"- a single edit visible in search after {seen['update_visible_ms']:.0f} ms; the first edit of a "
        f"fresh process after jieba's background load ({seen['warm_up_ms']:.0f} ms after the app was "
        f"created): {seen['update_visible_cold_ms']:.0f} ms; the first edit at once, while that load "
        f"runs: {at_once['update_visible_cold_ms']:.0f} ms"
    )
    print()
    print(
        "| | p50 ms | p95 ms | p99 ms | max ms | queries with hits | peak RSS MB | RSS growth while querying MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in (
        ("`/api/search` (Flask test client)", api),
        ("raw Whoosh searcher, same index", raw),
        ("SQLite FTS5, same text", fts),
    ):
        print(
            f"| {name} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['p99_ms']:.1f} | {row['max_ms']:.1f} | "
            f"{row['found']}/{row['queries']} | {row['peak_rss_mb']:.0f} | {row['rss_growth_mb']:.0f} |"
        )
    print()
    print(
        f"- ratios, `/api/search` p95 to raw Whoosh: {api['p95_ms'] / raw['p95_ms']:.1f}x; "
        f"to SQLite FTS5: {api['p95_ms'] / fts['p95_ms']:.1f}x; p50: {api['p50_ms'] / raw['p50_ms']:.1f}x and "
        f"{api['p50_ms'] / fts['p50_ms']:.1f}x"
    )
    print(
        f"- result cache: {api['cache_hits']} of {api['queries']} searches answered from it; the "
        f"{api['distinct_queries']} distinct queries' first searches alone (never cached): "
        f"p50 {api['distinct_p50_ms']:.1f} ms, p95 {api['distinct_p95_ms']:.1f} ms, "
        f"p99 {api['distinct_p99_ms']:.1f} ms (p95 {api['distinct_p95_ms'] / raw['p95_ms']:.1f}x raw Whoosh)"
    )
    print(
        "- the distinct queries once each right after an edit (every kept score dropped): "
        + "; ".join(
            f"{label} p50 {api[name + '_p50_ms']:.1f} / p95 {api[name + '_p95_ms']:.1f} / "
            f"p99 {api[name + '_p99_ms']:.1f} ms"
            for name, label in (
                ("edit_warm", "warm-up, searches at once"),
                ("edit_warm_paused", "warm-up, searches after 1 s"),
                ("edit_cold", "no warm-up"),
            )
        )
    )
    print(f"- build phase peak RSS: {build['peak_rss_mb']:.0f} MB")
    if build["model_loaded"]:
        from content.search.embedding import EMBED_BATCH

        rate = build["embed_sample_passages"] / build["embed_sample_s"]
        one = build["embed_sample_passages"] / build["embed_sample_one_thread_s"]
        print(
            f"- search by meaning: both models ready after {build['model_load_s']:.1f} s (loaded with jieba on start-up); {build['embed_sample_articles']} "
            f"sample articles ({build['embed_sample_passages']} passages of both encoders) embedded in batches of "
            f"{EMBED_BATCH} articles: {one:.1f} passages/s on one thread, {rate:.1f} passages/s on "
            f"{build['embed_threads']} threads; embedding all "
            f"{build['indexed']:,} public articles so: about {build['embed_full_estimate_s'] / 60:.0f} min. "
            f"A cold query's embedding by both (not cached, {build['query_embed_threads']} thread): "
            f"p50 {build['query_embed_p50_ms']:.1f} ms, p95 {build['query_embed_p95_ms']:.1f} ms. "
            f"`/api/search` above scans {build['vectors']:,} random unit vectors (the real matrix size) and "
            "embeds each query it has not seen (the distinct queries' figures include that)"
        )
    else:
        print("- search by meaning: the models did not load; the figures above are words alone")
    summarise_speed(build, api, raw, fts, seen)


def summarise_relevance(report: dict) -> None:
    mine, base = report["lodestar"], report["whoosh_default"]
    worst = min(figures["ndcg"] for figures in mine["kinds"].values())
    overall = mine["all"]
    harness.summary(
        f"search relevance ({overall['queries']} graded queries)",
        f"nDCG@10 {overall['ndcg']:.3f}, recall@5 {overall['recall']:.3f} (worst kind {worst:.3f})",
        ceiling=f"Whoosh's default analyzer {base['all']['ndcg']:.3f} / {base['all']['recall']:.3f}",
        ratio=_ratio(overall["ndcg"], base["all"]["ndcg"]),
        aim="≥ 0.8, no kind < 0.6",
        holds=overall["ndcg"] >= 0.8 and worst >= 0.6,
    )


def summarise_speed(build: dict, api: dict, raw: dict, fts: dict, seen: dict) -> None:
    size = f"{build['articles']:,} articles, {api['queries']} mixed queries"
    harness.summary(
        f"search, `/api/search` at {size}",
        f"p50 {api['p50_ms']:.1f}, p95 {api['p95_ms']:.1f}, p99 {api['p99_ms']:.1f} ms "
        f"(distinct queries' first searches: p95 {api['distinct_p95_ms']:.1f} ms)",
        ceiling=f"raw Whoosh searcher on the same index: p95 {raw['p95_ms']:.1f} ms; "
        f"SQLite FTS5: {fts['p95_ms']:.1f} ms",
        ratio=f"{api['p95_ms'] / raw['p95_ms']:.1f}× raw Whoosh, {api['p95_ms'] / fts['p95_ms']:.1f}× FTS5",
        aim="p95 < 30 ms, < 2× raw",
        holds=api["p95_ms"] < 30 and api["p95_ms"] < 2 * raw["p95_ms"],
    )
    harness.summary(
        "search, an edit visible",
        f"{seen['update_visible_ms']:.0f} ms (warm process); "
        f"{seen['update_visible_cold_ms']:.0f} ms for the first edit of a fresh process",
        aim="< 1 s",
        holds=max(seen["update_visible_ms"], seen["update_visible_cold_ms"]) < 1000,
    )
    harness.summary(
        f"search, full reindex of {build['articles']:,} articles",
        f"{build['reindex_s']:.1f} s ({build['indexed'] / build['reindex_s']:.0f} articles/s)",
        ceiling=f"FTS5 build {build['fts_build_s']:.1f} s",
        ratio=f"{build['reindex_s'] / build['fts_build_s']:.1f}×",
    )


if __name__ == "__main__":
    main()
