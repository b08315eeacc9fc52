"""Searching the public articles, for views, commands and other packages:

    search_articles(text, kind=, page=, now=, record=)  -> (Results, query id or None)
        words (BM25F) fused with meaning (semantic.py) when the model is there and
        SEARCH_DENSE is on; words alone otherwise

What it keeps between searches is in state.py; the index's upkeep in upkeep.py; stored
searches, clicks and their figures in analytics.py; synonym groups in synonyms.py.
"""

import logging
import time
from datetime import datetime

from flask import current_app

from content.search import dense, queries, ranking, semantic, spelling, termscores
from content.search.analytics import record_search
from content.search.state import SearchState, state
from content.search.synonyms import synonym_map
from core.extensions import db

log = logging.getLogger(__name__)
HOMOPHONES_EVERY = 60.0


def search_articles(
    text: str,
    *,
    now: datetime,
    kind: str | None = None,
    category: str | None = None,
    locale: str | None = None,
    page: int = 1,
    per_page: int = 10,
    with_facets: bool = False,
    record: str | None = None,
    ui_locale: str = "",
    visit: str = "",
) -> tuple[ranking.Results, int | None]:
    """Search the public articles. `record` ("page", "api") stores the search for the
    analytics and returns its id (for click tokens). Never raises on odd input."""
    current = state()
    with current.lock:
        current.searching += 1
    try:
        return _search_articles(
            current, text, now, kind, category, locale, page, per_page, with_facets, record, ui_locale, visit
        )
    finally:
        with current.lock:
            current.searching -= 1


def _search_articles(
    current, text, now, kind, category, locale, page, per_page, with_facets, record, ui_locale, visit
) -> tuple[ranking.Results, int | None]:
    index = current.index
    try:
        index.sync(now)
    except Exception:  # noqa: BLE001 - a stale index still answers; the next sync retries
        db.session.rollback()
        log.exception("search index sync failed")
    synonyms = synonym_map(now=now)
    searcher = index.searcher()
    hidden = index.hidden(searcher, now)
    # The same search on the same index generation, scheduled articles still hidden and
    # synonyms gives the same results: popular searches and as-you-type prefixes are
    # answered from memory.
    key = (
        index.searcher_name(),
        searcher.ixreader.generation(),
        len(hidden),
        current.synonyms_signature,
        queries.clean(text),
        kind or None,
        category or None,
        locale or None,
        page,
        per_page,
        with_facets,
    )
    vector = meaning_of(current, text, page=page, per_page=per_page)
    if vector is not None:
        key += (current.vectors.signature,)
    results = current.cached(key)
    if results is None:
        searcher.weighting = termscores.WEIGHTING
        options = dict(
            kind=kind or None,
            category=category or None,
            locale=locale or None,
            synonyms=synonyms,
            with_facets=with_facets,
            homophones=lambda reader: homophones(current, reader),
            hidden=hidden,
            scores=current.scores_of(key[:2]),
        )
        meaning = None if vector is None else current.vectors.meaning(vector)
        if meaning is None:
            results = ranking.search(searcher, text, page=page, per_page=per_page, **options)
        else:
            lexical = ranking.search(
                searcher, text, page=1, per_page=semantic.FUSION_DEPTH, dressed=False, **options
            )
            wanted = queries.filters(options["kind"], options["category"], options["locale"])
            results = semantic.merge(
                searcher,
                lexical,
                meaning,
                allowed=None if wanted is None else options["scores"].allowed(searcher, wanted),
                hidden=hidden,
                numbers=options["scores"].article_ids(searcher)[1],
                page=page,
                per_page=per_page,
                with_facets=with_facets,
            )
        current.remember(key, results)
    query_id = None
    if record and results.query:
        query_id = record_search(
            results.query,
            results=results.total,
            kind=kind or "",
            locale=ui_locale,
            source=record,
            now=now,
            visit=visit,
        )
    return results, query_id


def meaning_of(current: SearchState, text: str, *, page: int, per_page: int):
    """The query's vectors ({encoder: vector}) when this search is to be fused with
    meaning: the setting is on, the models loaded, the page within the fused depth and the query says something.
    None otherwise (and on any failure: words alone still answer)."""
    if not current_app.config.get("SEARCH_DENSE", True) or page * per_page > semantic.FUSION_DEPTH:
        return None
    try:
        current.vectors.refresh()
        if not len(current.vectors.articles):
            return None  # nothing embedded yet: no need to embed the query
        return dense.embed_query(queries.clean(text))
    except Exception:  # noqa: BLE001
        db.session.rollback()
        log.exception("search by meaning failed; answering by words alone")
        return None


def homophones(current: SearchState, reader) -> dict:
    """The homophone table of the index's vocabulary, rebuilt after changes, at most once
    a minute on a large index."""
    key = (current.index.current_name(), current.index.open().latest_generation())
    # Building costs in proportion to the vocabulary: small indexes rebuild at once.
    wait = HOMOPHONES_EVERY * min(1.0, reader.doc_count() / 5000)
    if key != current.homophones_key and time.monotonic() - current.homophones_built >= wait:
        current.homophones = spelling.homophone_table(reader)
        current.homophones_key = key
        current.homophones_built = time.monotonic()
    return current.homophones
