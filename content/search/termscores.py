"""Term scores: each clause's BM25F score in every document it matches, kept per index
generation (TermScores), and a flat OR query ranked from them; the fields a query
scores, with their weights.
"""

import threading
from array import array
from collections import OrderedDict

import numpy as np
from whoosh import query as Q
from whoosh.scoring import BM25F, BM25FScorer

# Weights: a term in the title counts most; bigrams back jieba up.
WORD_FIELDS = (("title", 4.0), ("tags", 2.5), ("headings", 2.0), ("summary", 1.5), ("body", 1.0))
BIGRAM_FIELDS = (("title_bi", 1.5), ("body_bi", 0.4))
# The fields whose terms a query scores.
SCORED_FIELDS = tuple(name for name, _weight in WORD_FIELDS + BIGRAM_FIELDS) + ("pinyin",)
# Postings whose scores TermScores keeps (12 bytes each): about 12 MB.
SCORED_POSTINGS_KEPT = 1_000_000
# After an index change, at most this many postings of the previous generation's most
# recently used clauses are scored again ahead of the searches (a few seconds of one core
# at most; half the budget, so the searches' own clauses always find room).
WARM_UP_POSTINGS = SCORED_POSTINGS_KEPT // 2
# How often (in postings, a fraction of a millisecond) the warm-up asks whether to go on.
WARM_UP_STEP = 256
WEIGHTING = BM25F(B=0.75, K1=1.2, title_B=0.5, tags_B=0.3)


class TermScores:
    """Each clause's BM25F score in every document it matches, kept per index generation.

    A visitor's query is a flat OR of weighted clauses (field, term) and phrases, and a
    clause's score in a document depends only on the index, not on the query it is part
    of: scoring a posting in Whoosh costs microseconds of Python, adding a kept score a
    fraction of one. Searches share most clauses (客户, 续费率, retention…), so a query's
    cost becomes the sum of its new clauses' postings plus one addition per posting. The
    sum is the one Whoosh's array union computes, in the same order, so ranks and totals
    are the same. Least recently used clauses go first past SCORED_POSTINGS_KEPT; a new
    index generation starts a new TermScores, which `warm` fills with the previous one's
    most recently used clauses (state.SearchState runs it on a thread of its own)."""

    def __init__(self, generation=None, *, kept: int = SCORED_POSTINGS_KEPT):
        # The index generation these scores belong to: a searcher of another one must
        # use another TermScores (its statistics and document numbers differ).
        self.generation = generation
        self.kept = kept
        self._clauses: OrderedDict = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        # The previous generation's popular clauses this one's warm-up was given.
        self.inherited: list[tuple[tuple, int]] = []
        # Field name -> each document's length, once the warm-up has read them.
        self.lengths: dict[str, np.ndarray] = {}
        self._masks: dict[str, np.ndarray] = {}
        # Each document's article id, and back (read once per generation).
        self._article_ids: tuple[list[int], dict[int, int]] | None = None

    def of(self, searcher, clause: Q.Query) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, scores) of a Term or Phrase clause, without its boost."""
        key = _clause_key(clause)
        with self._lock:
            found = self._clauses.get(key)
            if found is not None:
                self._clauses.move_to_end(key)
                return found
        found = _scored(searcher, key, lengths=self.lengths)
        with self._lock:
            if key not in self._clauses:
                self._clauses[key] = found
                self._size += len(found[0])
            self._clauses.move_to_end(key)
            while self._size > self.kept and len(self._clauses) > 1:
                _old, (dropped, _scores) = self._clauses.popitem(last=False)
                self._size -= len(dropped)
        return found

    def recent(self, postings: int) -> list[tuple[tuple, int]]:
        """(clause, postings) of the most recently used clauses, newest first, up to
        `postings` in all; then those handed to this generation's warm-up that it has
        not scored yet, so edits in quick succession do not forget what was popular."""
        with self._lock:
            kept = [(key, len(numbers)) for key, (numbers, _scores) in reversed(self._clauses.items())]
        chosen, seen, total = [], set(), 0
        for key, size in kept + self.inherited:
            if key in seen or total + size > postings:
                continue
            chosen.append((key, size))
            seen.add(key)
            total += size
        return chosen

    def warm(self, searcher, clauses: list[tuple[tuple, int]], *, go_on=lambda: True) -> int:
        """Read the field lengths, then score `clauses` ((clause, postings), most used
        first) not kept yet, as long as
        go_on() (asked every WARM_UP_STEP postings) says so and they fit in the budget. They go to the least recently used
        end, so the warm-up never pushes out what searches brought in. Returns how many
        were scored."""
        self.article_ids(searcher)
        if not self.lengths:
            lengths = field_lengths(searcher, SCORED_FIELDS, go_on)
            if lengths is None:
                return 0
            self.lengths = lengths
        scored = 0
        for key, _size in clauses:
            if not go_on():
                break
            with self._lock:
                if key in self._clauses:
                    continue
            found = _scored(searcher, key, go_on, self.lengths)
            if found is None:
                break
            with self._lock:
                if key in self._clauses or self._size + len(found[0]) > self.kept:
                    continue
                self._clauses[key] = found
                self._clauses.move_to_end(key, last=False)
                self._size += len(found[0])
            scored += 1
        return scored

    def allowed(self, searcher, wanted: Q.Query) -> np.ndarray:
        """The documents a kind/category/locale filter lets through: True per document
        number."""
        key = repr(wanted)
        found = self._masks.get(key)
        if found is None:
            found = np.zeros(searcher.reader().doc_count_all(), dtype=bool)
            found[list(searcher.docs_for_query(wanted))] = True
            self._masks[key] = found
        return found

    def article_ids(self, searcher) -> tuple[list[int], dict[int, int]]:
        """(the article id of each document number, the document number of each article
        id), read from the index's id column once per generation: a search then looks its
        hits up instead of opening the column (and a search by meaning its articles
        instead of asking the index for each)."""
        found = self._article_ids
        if found is None:
            ids = [int(value) if value else 0 for value in searcher.reader().column_reader("id")]
            deleted = searcher.reader().is_deleted
            numbers = {
                article: number for number, article in enumerate(ids) if article and not deleted(number)
            }
            found = self._article_ids = (ids, numbers)
        return found


def _scored(searcher, key: tuple, go_on=None, lengths: dict | None = None) -> tuple | None:
    """Every (document number, score) of one clause, as Whoosh scores it; None when
    go_on(), asked every WARM_UP_STEP postings, says to stop. A term's postings are read
    first and scored all at once (numpy, the arithmetic of Whoosh's BM25F in the same
    order, so the same numbers); with the generation's field lengths read already, no
    document's length is looked up. A phrase is scored posting by posting by Whoosh."""
    plain = Q.Term(key[1], key[2]) if key[0] == "term" else Q.Phrase(key[1], list(key[2]))
    matcher = plain.matcher(searcher, searcher.context())
    scorer = None
    if key[0] == "term" and matcher.is_active():
        scorer = searcher.weighting.scorer(searcher, key[1], searcher.schema[key[1]].to_bytes(key[2]))
        if type(scorer) is not BM25FScorer:
            scorer = None
    numbers, values = array("i"), array("d")
    value = matcher.score if scorer is None else matcher.weight
    while matcher.is_active():
        numbers.append(matcher.id())
        values.append(value())
        matcher.next()
        if go_on is not None and not len(numbers) % WARM_UP_STEP and not go_on():
            return None
    found = np.frombuffer(numbers, dtype=np.intc).copy()
    values = np.frombuffer(values, dtype=np.float64)
    if scorer is None:
        return found, values.copy()
    length_of = (lengths or {}).get(key[1])
    if length_of is None:
        length_of = np.fromiter(
            (searcher.doc_field_length(number, key[1], 1) for number in numbers),
            dtype=np.float64,
            count=len(numbers),
        )
    else:
        length_of = length_of[found]
    return found, bm25(scorer, values, length_of)


def bm25(scorer: BM25FScorer, weights: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """whoosh.scoring.bm25 over arrays: each operation as Whoosh orders it."""
    idf, avgfl, B, K1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
    return idf * ((weights * (K1 + 1)) / (weights + K1 * ((1 - B) + B * lengths.astype(np.float64) / avgfl)))


def field_lengths(searcher, names, go_on=lambda: True) -> dict[str, np.ndarray] | None:
    """Each document's length in the fields `names`, by document number (what BM25F
    reads per posting; 4 bytes a document and field); None when go_on() says to stop."""
    reader = searcher.reader()
    found = {}
    for name in names:
        lengths = array("I")
        for number in range(reader.doc_count_all()):
            length = reader.doc_field_length(number, name, 1)
            # None: a deleted document, which no posting list yields.
            lengths.append(0 if length is None else length)
            if not number % WARM_UP_STEP and not go_on():
                return None
        found[name] = np.frombuffer(lengths, dtype=np.uintc)
    return found


def _clause_key(clause: Q.Query) -> tuple:
    if isinstance(clause, Q.Term):
        return ("term", clause.fieldname, clause.text)
    return ("phrase", clause.fieldname, tuple(clause.words))


def flat(query: Q.Query) -> bool:
    """A plain OR of terms and phrases (what `plan` builds without quoted phrases)."""
    return isinstance(query, Q.Or) and all(
        type(sub) in (Q.Term, Q.Phrase) and (type(sub) is Q.Term or sub.slop == 1) for sub in query.subqueries
    )


def ranked(
    searcher, query: Q.Query, scores: TermScores, wanted, hidden, page: int, per_page: int
) -> tuple[int, list[tuple[int, float]]]:
    """(how many documents match, the page's (document, score)), from the kept scores:
    best score first, the lower document number first on a tie (as Whoosh orders them).
    Each document's sum adds its clauses' scores in the query's order, as Whoosh's array
    union does."""
    found = [(scores.of(searcher, clause), clause.boost) for clause in query.subqueries]
    if not found:
        return 0, []
    size = searcher.reader().doc_count_all()
    numbers = np.concatenate([numbers for (numbers, _values), _boost in found])
    total = np.bincount(
        numbers,
        weights=np.concatenate([values * boost for (_numbers, values), boost in found]),
        minlength=size,
    )
    matched = np.zeros(size, dtype=bool)
    matched[numbers] = True
    if wanted is not None:
        matched &= scores.allowed(searcher, wanted)
    if hidden:
        matched[[number for number in hidden if number < size]] = False
    candidates = np.flatnonzero(matched)
    best = candidates[np.argsort(-total[candidates], kind="stable")[: page * per_page]]
    return len(candidates), [(int(number), float(total[number])) for number in best[(page - 1) * per_page :]]
