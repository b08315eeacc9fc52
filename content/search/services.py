"""What search does, for views, commands and other packages.

    search_articles(text, kind=, page=, now=, record=)  -> (Results, query id or None)
        words (BM25F) fused with meaning (semantic.py) when the model is there and
        SEARCH_DENSE is on; words alone otherwise
    record_click(token, now=)                           -> True when a valid click was stored
    reindex(now=, progress=)                            -> number of articles indexed
    index_status(now=)                                  -> the health check's dict
    synonym groups: ensure_synonyms, list_synonyms, save_synonym, delete_synonym
    analytics: search_groups, top_searches, zero_result_searches, search_totals

Each app keeps its index and caches on app.extensions["lodestar_search"].
"""

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, select

from content.models import Article
from content.search import dense, learning, queries, ranking, semantic, termscores
from content.search.analysis import load_dictionary
from content.search.index import SearchIndex, published_clause
from content.search.models import SearchQuery, Synonym
from core.extensions import db
from core.ids import token_id
from core.tokens import InvalidToken, sign, unsign

log = logging.getLogger(__name__)
KEY = "lodestar_search"
CLICK_PURPOSE = "search-click"
CLICK_MAX_AGE = 7 * 86400
HOMOPHONES_EVERY = 60.0
RESULT_CACHE_SIZE = 512


class InvalidSynonym(ValueError):
    """A synonym group that cannot be saved (fewer than two terms, too long)."""


@dataclass
class SearchState:
    index: SearchIndex
    synonyms: queries.SynonymMap | None = None
    synonyms_signature: tuple | None = None
    synonyms_checked: float = float("-inf")
    homophones: dict = field(default_factory=dict)
    homophones_key: tuple | None = None
    homophones_built: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)
    results: OrderedDict = field(default_factory=OrderedDict)
    scores: termscores.TermScores = field(default_factory=termscores.TermScores)
    warm_up: threading.Thread | None = None
    # Searches in progress in this process (the warm-up waits while there are any).
    searching: int = 0
    vectors: semantic.Vectors = field(default_factory=semantic.Vectors)
    proposed_at: datetime | None = None

    def scores_of(self, generation) -> termscores.TermScores:
        """The kept clause scores of an index generation, new when the index changed.
        A thread still on the previous generation gets its own, so no search ever mixes
        the scores (and document numbers) of two generations. A new one is warmed on a
        thread of its own (field lengths, then the previous one's most used clauses); a
        search arriving meanwhile scores what is not there yet itself, as without."""
        with self.lock:
            found = self.scores
            if found.generation == generation:
                return found
            previous, found = found, termscores.TermScores(generation)
            self.scores = found
        clauses = previous.recent(termscores.WARM_UP_POSTINGS)
        if generation is not None:
            found.inherited = clauses
            self.warm_up = threading.Thread(
                target=self._warm, args=(found, clauses), name="search-warm-up", daemon=True
            )
            self.warm_up.start()
        return found

    def _warm(self, scores: termscores.TermScores, clauses: list) -> None:
        try:
            name, ix = self.index.open_named()
            searcher = ix.searcher()
        except Exception:  # noqa: BLE001 - a warm-up is only ever a head start
            log.exception("search warm-up could not open the index")
            return
        try:
            # The index may have moved on already: that generation has its own warm-up.
            if (name, searcher.ixreader.generation()) != scores.generation:
                return
            searcher.weighting = termscores.WEIGHTING
            scores.warm(searcher, clauses, go_on=lambda: self._may_warm(scores))
        except Exception:  # noqa: BLE001
            log.exception("search warm-up failed")
        finally:
            searcher.close()

    def _may_warm(self, scores: termscores.TermScores) -> bool:
        """Every few hundred postings: stop once a newer generation came, and leave the
        interpreter to searches in progress (with the GIL, a busy warm-up thread would
        slow each of them down by half)."""
        while self.searching and self.scores is scores:
            time.sleep(0.001)
        return self.scores is scores

    def cached(self, key: tuple) -> ranking.Results | None:
        with self.lock:
            found = self.results.get(key)
            if found is not None:
                self.results.move_to_end(key)
            return found

    def remember(self, key: tuple, results: ranking.Results) -> None:
        with self.lock:
            self.results[key] = results
            while len(self.results) > RESULT_CACHE_SIZE:
                self.results.popitem(last=False)


def state(app=None) -> SearchState:
    app = app or current_app
    found = app.extensions.get(KEY)
    if found is None:
        found = app.extensions[KEY] = SearchState(
            index=SearchIndex(
                app.config["INDEX_DIR"], sync_interval=app.config.get("SEARCH_SYNC_INTERVAL", 1.0)
            )
        )
    return found


def get_index(app=None) -> SearchIndex:
    return state(app).index


# Searching ----------------------------------------------------------------------------------


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
        if vector is None:
            results = ranking.search(searcher, text, page=page, per_page=per_page, **options)
        else:
            lexical = ranking.search(searcher, text, page=1, per_page=semantic.FUSION_DEPTH, **options)
            results = semantic.merge(
                searcher,
                lexical,
                current.vectors.ranking(vector, depth=semantic.DENSE_DEPTH),
                kind=options["kind"],
                category=options["category"],
                locale=options["locale"],
                hidden=hidden,
                page=page,
                per_page=per_page,
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
    """The query's vector when this search is to be fused with meaning: the setting is
    on, the model loaded, the page within the fused depth and the query says something.
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
        current.homophones = queries.homophone_table(reader)
        current.homophones_key = key
        current.homophones_built = time.monotonic()
    return current.homophones


def reindex(*, now: datetime, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the index of the public articles from the database and swap it in."""
    return get_index().rebuild(now, progress=progress)


def embed_all(*, now: datetime, progress: Callable[[int], None] | None = None) -> int:
    """Recompute every public article's vectors (0 when the model is unavailable or
    SEARCH_DENSE is off)."""
    if not current_app.config.get("SEARCH_DENSE", True):
        return 0
    return semantic.embed_all(now=now, progress=progress)


def embed_pending(now: datetime, stop=None) -> dict:
    """The worker's job (core.hooks.add_background_job): vectors of saved articles."""
    if not current_app.config.get("SEARCH_DENSE", True):
        return {}
    return semantic.embed_pending(now, stop)


def published_count() -> int:
    """How many articles are published, now or scheduled (what a rebuild will index)."""
    return db.session.scalar(select(func.count(Article.id)).where(published_clause()))


def index_status(*, now: datetime) -> dict:
    found = get_index().status(now)
    if current_app.config.get("SEARCH_DENSE", True):
        found["meaning"] = semantic.status()
    else:
        found["meaning"] = {"mode": "lexical", "reason": "SEARCH_DENSE is off"}
    return found


def on_article_changed(app, article_id: int, *, now: datetime) -> None:
    """Receiver of content.signals.article_changed: never lets the editor's save fail."""
    try:
        get_index(app).article_changed(article_id, now=now)
    except Exception:  # noqa: BLE001 - the watermark sync repairs what this missed
        log.exception("indexing article %s failed; the next sync will retry", article_id)
    if app.config.get("SEARCH_DENSE", True):
        try:
            semantic.queue(article_id, now=now)
        except Exception:  # noqa: BLE001 - the worker's queue_missing finds it later
            db.session.rollback()
            log.exception("queueing article %s for embedding failed", article_id)


def on_article_deleted(app, article_id: int) -> None:
    try:
        get_index(app).article_deleted(article_id)
    except Exception:  # noqa: BLE001
        log.exception("removing article %s from the index failed; the next sync will retry", article_id)
    try:
        semantic.drop(article_id)
    except Exception:  # noqa: BLE001 - the foreign key's cascade removes them with the article
        db.session.rollback()
        log.exception("removing article %s's vectors failed", article_id)


# Analytics ----------------------------------------------------------------------------------


def record_search(
    text: str, *, results: int, kind: str, locale: str, source: str, now: datetime, visit: str = ""
) -> int:
    row = SearchQuery(
        visit=visit[:32],
        query=queries.clean(text),
        normalised=queries.normalise(text)[:200],
        results=results,
        kind=(kind or "")[:20],
        locale=(locale or "")[:10],
        source=source,
        created_at=now,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def click_token(*, query_id: int | None, text: str, results: int, article_id: int, rank: int) -> str:
    """A signed token naming one result of one search; searches from the typeahead are
    not stored until a result is opened, so their token carries the query itself."""
    payload = {"a": article_id, "r": rank}
    if query_id:
        payload["q"] = query_id
    else:
        payload.update(t=queries.clean(text), n=results)
    return sign(CLICK_PURPOSE, payload)


def click_payload(token: str) -> tuple[dict, int, int] | None:
    """A click token's payload, article id and rank; None when forged, expired or odd."""
    try:
        payload = unsign(CLICK_PURPOSE, str(token or ""), max_age=CLICK_MAX_AGE)
        article_id, rank = token_id(payload["a"]), int(payload["r"])
    except (InvalidToken, KeyError, TypeError, ValueError):
        return None
    return None if article_id is None else (payload, article_id, rank)


def record_click(token: str, *, now: datetime, locale: str = "", visit: str = "") -> bool:
    """Store which result a visitor opened. False for a forged, expired or stale token."""
    clicked = click_payload(token)
    if clicked is None:
        return False
    payload, article_id, rank = clicked
    if db.session.get(Article, article_id) is None:
        return False
    if payload.get("q"):
        query_id = token_id(payload["q"])
        row = db.session.get(SearchQuery, query_id) if query_id else None
        if row is None:
            return False
        if row.clicked_article_id is not None:
            # A second click on the same search is a new row, so every open counts.
            row = SearchQuery(
                query=row.query,
                normalised=row.normalised,
                results=row.results,
                kind=row.kind,
                locale=row.locale,
                source=row.source,
                visit=row.visit,
                created_at=now,
            )
            db.session.add(row)
    else:
        text = queries.clean(payload.get("t", ""))
        if not text:
            return False
        row = SearchQuery(
            query=text,
            normalised=queries.normalise(text)[:200],
            results=int(payload.get("n", 0)),
            locale=locale[:10],
            source="typeahead",
            visit=visit[:32],
            created_at=now,
        )
        db.session.add(row)
    row.clicked_article_id, row.clicked_rank, row.clicked_at = article_id, rank, now
    db.session.commit()
    return True


# The search report lists at most this many different searches of a period, the most
# frequent first (the long tail past them is one-off typing).
GROUPS_CAP = 5000


@dataclass
class SearchStat:
    normalised: str
    example: str
    searches: int
    clicks: int
    results: int


def _stats(
    since: datetime, until: datetime, *, only_empty: bool, limit: int, containing: str = ""
) -> list[SearchStat]:
    searches = func.count(SearchQuery.id)
    stmt = (
        select(
            SearchQuery.normalised,
            func.max(SearchQuery.query),
            searches,
            func.sum(case((SearchQuery.clicked_article_id.is_not(None), 1), else_=0)),
            func.max(SearchQuery.results),
        )
        .where(SearchQuery.created_at >= since, SearchQuery.created_at < until)
        .group_by(SearchQuery.normalised)
        .order_by(searches.desc(), SearchQuery.normalised)
        .limit(limit)
    )
    if containing:
        stmt = stmt.where(SearchQuery.normalised.contains(queries.normalise(containing), autoescape=True))
    if only_empty:
        stmt = stmt.having(func.max(SearchQuery.results) == 0)
    return [SearchStat(n, q, int(s), int(c or 0), int(r or 0)) for n, q, s, c, r in db.session.execute(stmt)]


def search_groups(
    since: datetime, until: datetime, *, containing: str = "", only_empty: bool = False
) -> list[SearchStat]:
    """The searches of a period grouped as "the same search" (the most frequent
    GROUPS_CAP of them), those whose folded text contains `containing`, or that found
    nothing: the search report's list."""
    return _stats(since, until, only_empty=only_empty, limit=GROUPS_CAP, containing=containing)


def top_searches(since: datetime, until: datetime, *, limit: int = 50) -> list[SearchStat]:
    """The most frequent searches of a period, with their clicks."""
    return _stats(since, until, only_empty=False, limit=limit)


def zero_result_searches(since: datetime, until: datetime, *, limit: int = 50) -> list[SearchStat]:
    """Searches that found nothing in a period: the articles to write next."""
    return _stats(since, until, only_empty=True, limit=limit)


def search_totals(since: datetime, until: datetime) -> dict:
    row = db.session.execute(
        select(
            func.count(SearchQuery.id),
            func.sum(case((SearchQuery.results == 0, 1), else_=0)),
            func.sum(case((SearchQuery.clicked_article_id.is_not(None), 1), else_=0)),
        ).where(SearchQuery.created_at >= since, SearchQuery.created_at < until)
    ).one()
    total, empty, clicked = (int(value or 0) for value in row)
    return {"searches": total, "empty": empty, "clicked": clicked}


# Synonyms -----------------------------------------------------------------------------------


def ensure_synonyms(*, now: datetime) -> int:
    """Load the shipped dictionary into the Synonym table when it is empty. Returns the
    number of groups added."""
    if db.session.scalar(select(func.count(Synonym.id))):
        return 0
    groups = load_dictionary().get("synonyms", [])
    for group in groups:
        db.session.add(
            Synonym(terms=[str(term) for term in group], origin="shipped", created_at=now, updated_at=now)
        )
    db.session.commit()
    return len(groups)


def synonym_map(*, now: datetime) -> queries.SynonymMap:
    """The synonym groups as a query-time map, re-read at most once a second and only
    when the table changed."""
    current = state()
    if current.synonyms is not None and time.monotonic() - current.synonyms_checked < 1.0:
        return current.synonyms
    with current.lock:
        try:
            signature = tuple(
                db.session.execute(select(func.count(Synonym.id), func.max(Synonym.updated_at))).one()
            )
            if not signature[0]:
                ensure_synonyms(now=now)
                signature = tuple(
                    db.session.execute(select(func.count(Synonym.id), func.max(Synonym.updated_at))).one()
                )
        except Exception:  # noqa: BLE001 - search works without synonyms (e.g. table missing)
            db.session.rollback()
            log.exception("synonyms unavailable")
            return current.synonyms or queries.SynonymMap()
        current.synonyms_checked = time.monotonic()
        if signature != current.synonyms_signature or current.synonyms is None:
            groups = db.session.scalars(select(Synonym.terms)).all()
            current.synonyms = queries.SynonymMap.build([list(g or []) for g in groups])
            current.synonyms_signature = signature
    return current.synonyms


def parse_terms(text: str) -> list[str]:
    """Terms typed in the admin: separated by "=", commas (also full-width) or new lines."""
    cleaned = queries.clean(str(text or "").replace("\n", ","))
    for separator in ("=", "，", "、", ";", "；"):
        cleaned = cleaned.replace(separator, ",")
    terms = []
    for term in cleaned.split(","):
        term = " ".join(term.split())
        if term and term.lower() not in (t.lower() for t in terms):
            terms.append(term)
    return terms


def list_synonyms(filter_text: str = "") -> list[Synonym]:
    rows = db.session.scalars(select(Synonym).order_by(Synonym.id)).all()
    needle = queries.normalise(filter_text)
    if needle:
        rows = [row for row in rows if any(needle in queries.normalise(term) for term in row.terms or [])]
    return rows


def save_synonym(synonym_id: int | None, text: str, *, now: datetime) -> Synonym:
    """Create or change a group. Raises InvalidSynonym and stores nothing on bad input."""
    terms = parse_terms(text)
    if len(terms) < 2:
        raise InvalidSynonym(_l("A group needs at least two terms."))
    if any(len(term) > 60 for term in terms) or len(terms) > 20:
        raise InvalidSynonym(_l("Keep to 20 terms of at most 60 characters."))
    row = db.session.get(Synonym, synonym_id) if synonym_id else None
    if synonym_id and row is None:
        raise InvalidSynonym(_l("This group no longer exists."))
    if row is None:
        row = Synonym(origin="admin", created_at=now)
        db.session.add(row)
    row.terms, row.updated_at = terms, now
    db.session.commit()
    state().synonyms_checked = float("-inf")
    return row


def delete_synonym(synonym_id: int) -> bool:
    deleted = db.session.execute(delete(Synonym).where(Synonym.id == synonym_id)).rowcount
    db.session.commit()
    current = state()
    current.synonyms_checked = float("-inf")
    # A deletion does not move max(updated_at) but does change the count, which the
    # signature includes; forget the map anyway so this process sees it at once.
    current.synonyms_signature = None
    return bool(deleted)


# Synonyms learned from use (learning.py) ------------------------------------------------------

LEARNING_DAYS = 90
LEARNING_EVERY = timedelta(hours=1)


def propose_synonyms(*, now: datetime) -> int:
    """Refresh the synonym suggestions from the last LEARNING_DAYS of searches."""
    return learning.propose(since=now - timedelta(days=LEARNING_DAYS), now=now)


def propose_synonyms_job(now: datetime, stop=None) -> dict:
    """The worker's job: suggestions refreshed at most once an hour per worker."""
    current = state()
    if current.proposed_at is not None and now - current.proposed_at < LEARNING_EVERY:
        return {}
    current.proposed_at = now
    return {"suggestions": propose_synonyms(now=now)}


def evidence_titles(proposals) -> dict[int, str]:
    """The titles of the articles the suggestions' evidence names."""
    ids = {item.get("article_id") for row in proposals for item in row.evidence or []}
    ids.discard(None)
    if not ids:
        return {}
    return dict(db.session.execute(select(Article.id, Article.title).where(Article.id.in_(ids))).all())


def accept_proposal(proposal_id: int, *, user_id: int | None, now: datetime) -> Synonym:
    """Accept a suggestion (learning.accept); searches use it at once."""
    group = learning.accept(proposal_id, user_id=user_id, now=now)
    state().synonyms_checked = float("-inf")
    return group


def reject_proposal(proposal_id: int, *, user_id: int | None, now: datetime) -> None:
    learning.reject(proposal_id, user_id=user_id, now=now)
