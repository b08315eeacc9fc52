"""What search keeps per app, on app.extensions["lodestar_search"]: the index, the synonym
map and homophone table as last read, the result cache, the clause scores of the current
index generation (warmed on a thread of their own) and the article vectors."""

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from content.search import queries, ranking, semantic, termscores
from content.search.index import SearchIndex

log = logging.getLogger(__name__)
KEY = "lodestar_search"
RESULT_CACHE_SIZE = 512


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
