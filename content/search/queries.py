"""From what a visitor typed to ranked, highlighted results.

No query parser: the text is analysed like the documents and the query is built from its
terms, so `AND ( * ~ :` and friends are searched as text and nothing a visitor types can
raise. A whole question works: every meaningful term is OR-grouped and BM25F ranks the
documents that match most of them, in the most important fields, first. Quoted phrases
must match (by position, in the bigram fields). Synonyms of the typed terms and
corrections of unknown English words join with lower weights.
"""

import heapq
import re
import threading
import time
import unicodedata
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup
from pypinyin import Style, lazy_pinyin
from whoosh import query as Q
from whoosh.scoring import BM25F, WeightLengthScorer

from content.search.analysis import (
    CJK_RE,
    TOKEN_RE,
    bigram_tokens,
    bigrams,
    fold,
    fold_chars,
    query_pieces,
    segment,
    syllable_pairs,
    word_tokens,
)

MAX_QUERY_CHARS = 200
MAX_PIECES = 24
# Weights: a term in the title counts most; bigrams back jieba up; pinyin catches
# homophone typos; synonyms and spelling corrections count less than the words typed.
WORD_FIELDS = (("title", 4.0), ("tags", 2.5), ("headings", 2.0), ("summary", 1.5), ("body", 1.0))
BIGRAM_FIELDS = (("title_bi", 1.5), ("body_bi", 0.4))
PINYIN_WEIGHT = 0.5
SYNONYM_WEIGHT = 0.5
CROSS_LANGUAGE = 0.5
CORRECTION_WEIGHT = 0.7
PHRASE_WEIGHT = 2.0
RUN_WEIGHT = 3.0
SUGGEST_BELOW = 3
LONG_FIELDS = ("body", "body_bi")
# The fields whose terms a query scores.
SCORED_FIELDS = tuple(name for name, _weight in WORD_FIELDS + BIGRAM_FIELDS) + ("pinyin",)
# A body term in more than this share of the documents (and in more than COMMON_MIN_DOCS
# of them, so small sites keep every term) is "common".
COMMON_SHARE = 0.10
COMMON_MIN_DOCS = 200
SNIPPET_CHARS = 160
# Postings whose scores TermScores keeps (12 bytes each): about 12 MB.
SCORED_POSTINGS_KEPT = 1_000_000
# After an index change, at most this many postings of the previous generation's most
# recently used clauses are scored again ahead of the searches (a few seconds of one core
# at most; half the budget, so the searches' own clauses always find room).
WARM_UP_POSTINGS = SCORED_POSTINGS_KEPT // 2
# How often (in postings, a fraction of a millisecond) the warm-up asks whether to go on.
WARM_UP_STEP = 256
WEIGHTING = BM25F(B=0.75, K1=1.2, title_B=0.5, tags_B=0.3)
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」|『([^』]+)』')
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


def clean(text: str | None) -> str:
    """The query as it will be searched and recorded: no control characters, one line,
    at most MAX_QUERY_CHARS characters."""
    text = _CONTROL.sub(" ", str(text or ""))
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def normalise(text: str) -> str:
    """The form under which analytics group "the same search"."""
    return " ".join(fold(clean(text)).split())


@dataclass
class SynonymMap:
    """Folded term -> the other terms of its groups."""

    groups: list[list[str]] = field(default_factory=list)
    _latin: dict[str, list[int]] = field(default_factory=dict)
    _cjk: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, groups: list[list[str]]) -> "SynonymMap":
        folded = [
            [" ".join(fold(term).split()) for term in group if term and term.strip()] for group in groups
        ]
        mapping = cls(groups=[g for g in folded if len(g) > 1])
        for number, group in enumerate(mapping.groups):
            for term in group:
                target = mapping._cjk if CJK_RE.search(term) else mapping._latin
                target.setdefault(term, []).append(number)
        return mapping

    def expand(self, folded_query: str) -> list[str]:
        """The terms of every group one of whose terms the query contains, minus those
        already in the query."""
        found: set[int] = set()
        compact = folded_query.replace(" ", "")
        for term, numbers in self._cjk.items():
            if term.replace(" ", "") in compact:
                found.update(numbers)
        padded = f" {' '.join(TOKEN_RE.findall(folded_query))} "
        for term, numbers in self._latin.items():
            if f" {term} " in padded:
                found.update(numbers)
        extra = []
        for number in sorted(found):
            for term in self.groups[number]:
                if term.replace(" ", "") not in compact and f" {term} " not in padded and term not in extra:
                    extra.append(term)
        return extra


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
    most recently used clauses (services runs it on a thread of its own)."""

    def __init__(self, generation=None, *, kept: int = SCORED_POSTINGS_KEPT):
        # The index generation these scores belong to: a searcher of another one must
        # use another TermScores (its statistics and document numbers differ).
        self.generation = generation
        self.kept = kept
        self._clauses: OrderedDict = OrderedDict()
        self._size = 0
        self._filters: dict[str, frozenset[int]] = {}
        self._lock = threading.Lock()
        # The previous generation's popular clauses this one's warm-up was given.
        self.inherited: list[tuple[tuple, int]] = []
        # Field name -> each document's length, once the warm-up has read them.
        self.lengths: dict[str, array] = {}

    def of(self, searcher, clause: Q.Query) -> tuple[array, array]:
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

    def allowed(self, searcher, wanted: Q.Query) -> frozenset[int]:
        """The documents a kind/category/locale filter lets through."""
        key = repr(wanted)
        found = self._filters.get(key)
        if found is None:
            found = self._filters[key] = frozenset(searcher.docs_for_query(wanted))
        return found


def _scored(searcher, key: tuple, go_on=None, lengths: dict | None = None) -> tuple[array, array] | None:
    """Every (document number, score) of one clause, as Whoosh scores it; None when
    go_on(), asked every WARM_UP_STEP postings, says to stop. With the generation's field
    lengths read already, a term's postings are scored from them (the same BM25F
    arithmetic; Whoosh looks each document's length up anew, ~30% of a term's cost)."""
    plain = Q.Term(key[1], key[2]) if key[0] == "term" else Q.Phrase(key[1], list(key[2]))
    numbers, scores = array("i"), array("d")
    matcher = plain.matcher(searcher, searcher.context())
    length_of = (lengths or {}).get(key[1]) if key[0] == "term" else None
    score = None
    if length_of is not None and matcher.is_active():
        scorer = searcher.weighting.scorer(searcher, key[1], searcher.schema[key[1]].to_bytes(key[2]))
        if isinstance(scorer, WeightLengthScorer):
            score = scorer._score
    while matcher.is_active():
        number = matcher.id()
        numbers.append(number)
        scores.append(matcher.score() if score is None else score(matcher.weight(), length_of[number]))
        matcher.next()
        if go_on is not None and not len(numbers) % WARM_UP_STEP and not go_on():
            return None
    return numbers, scores


def field_lengths(searcher, names, go_on=lambda: True) -> dict[str, array] | None:
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
        found[name] = lengths
    return found


def _clause_key(clause: Q.Query) -> tuple:
    if isinstance(clause, Q.Term):
        return ("term", clause.fieldname, clause.text)
    return ("phrase", clause.fieldname, tuple(clause.words))


def _flat(query: Q.Query) -> bool:
    """A plain OR of terms and phrases (what `plan` builds without quoted phrases)."""
    return isinstance(query, Q.Or) and all(
        type(sub) in (Q.Term, Q.Phrase) and (type(sub) is Q.Term or sub.slop == 1) for sub in query.subqueries
    )


def _ranked(
    searcher, query: Q.Query, scores: TermScores, wanted, hidden, page: int, per_page: int
) -> tuple[int, list[tuple[int, float]]]:
    """(how many documents match, the page's (document, score)), from the kept scores:
    best score first, the lower document number first on a tie (as Whoosh orders them)."""
    total: dict[int, float] = {}
    get = total.get
    for clause in query.subqueries:
        numbers, values = scores.of(searcher, clause)
        boost = clause.boost
        for number, value in zip(numbers, values, strict=True):
            total[number] = get(number, 0.0) + value * boost
    if wanted is not None:
        allowed = scores.allowed(searcher, wanted)
        total = {number: score for number, score in total.items() if number in allowed}
    for number in hidden:
        total.pop(number, None)
    best = heapq.nsmallest(page * per_page, total.items(), key=lambda item: (-item[1], item[0]))
    return len(total), best[(page - 1) * per_page :]


@dataclass
class Hit:
    id: int
    slug: str
    kind: str
    title: str
    url: str
    snippet: Markup
    title_html: Markup
    score: float
    locale: str = ""
    category: str = ""
    published: object = None


@dataclass
class Results:
    query: str
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    page: int = 1
    per_page: int = 10
    facets: dict[str, int] = field(default_factory=dict)
    suggestion: str | None = None
    took_ms: float = 0.0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass
class Plan:
    """A query built from text, and what to highlight in the results."""

    query: Q.Query | None
    highlight: list[str]
    english: list[str]
    chinese: list[str]
    # Some stretch or word the index does not know: a typo, most likely.
    unknown: bool = False


class _Clauses:
    """The query's terms, each (field, term) once with its weights summed, and its
    phrases: one flat OR is much cheaper for Whoosh than nested ones."""

    def __init__(self):
        self.terms: dict[tuple[str, str], float] = {}
        self.phrases: list[Q.Query] = []

    def term(self, name: str, text: str, boost: float) -> None:
        self.terms[(name, text)] = self.terms.get((name, text), 0.0) + boost

    def words(self, tokens, boost: float) -> None:
        for token in tokens:
            for name, weight in WORD_FIELDS:
                self.term(name, token, weight * boost)

    def phrase(self, tokens: list[str], boost: float, *, bodies: bool = True) -> None:
        for name, weight in BIGRAM_FIELDS:
            if not bodies and name in LONG_FIELDS:
                continue
            if len(tokens) == 1:
                self.term(name, tokens[0], weight * boost)
            else:
                self.phrases.append(Q.Phrase(name, tokens, boost=weight * boost))

    def query(self, reader=None) -> Q.Query | None:
        terms = self.terms
        if reader is not None:
            terms = _prune(terms, reader)
        queries = [Q.Term(name, text, boost=boost) for (name, text), boost in terms.items()]
        queries += self.phrases
        if not queries:
            return None
        query = Q.Or(queries)
        # Score every matching document in one array, term by term: with dozens of terms
        # Whoosh's default tree of union matchers spends its time in bookkeeping.
        query.matcher_type = Q.Or.ARRAY_MATCHER
        return query


def _prune(terms: dict[tuple[str, str], float], reader) -> dict[tuple[str, str], float]:
    """Drop terms the index does not have, and, when the query has rarer terms, the
    terms most documents' bodies contain (客户, data…): they barely move BM25 but their
    long posting lists are most of a query's cost (the "common terms" idea of Lucene)."""
    total = max(reader.doc_count(), 1)
    frequency = {key: reader.doc_frequency(*key) for key in terms}
    present = {key: boost for key, boost in terms.items() if frequency[key]}
    cutoff = max(COMMON_SHARE * total, COMMON_MIN_DOCS)
    common = {key for key in present if key[0] in LONG_FIELDS and frequency[key] > cutoff}
    if len(common) < len(present):
        return {key: boost for key, boost in present.items() if key not in common}
    return present


def _phrase_query(text: str, boost: float) -> Q.Query | None:
    tokens = list(bigram_tokens(text))
    if not tokens:
        return None
    clauses = _Clauses()
    clauses.phrase(tokens, boost)
    return clauses.query()


def plan(
    text: str,
    synonyms: SynonymMap | None = None,
    corrections: dict[str, str] | None = None,
    reader=None,
) -> Plan:
    """Build the Whoosh query of a visitor's text."""
    text = clean(text)
    phrases = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(text)]
    rest = _QUOTED.sub(" ", text)
    folded = fold(rest)
    pieces = query_pieces(folded)[:MAX_PIECES]
    corrections = corrections or {}
    clauses = _Clauses()
    highlight: list[str] = []
    english: list[str] = []
    chinese: list[str] = []
    unknown = False
    for kind, piece in pieces:
        if kind == "en":
            english.append(piece)
            highlight.append(piece)
            if (
                reader is not None
                and piece.isalpha()
                and not all(_known(reader, t) for t in word_tokens(piece))
            ):
                unknown = True
            clauses.words(word_tokens(piece), 1.0)
            if piece in corrections:
                clauses.words(word_tokens(corrections[piece]), CORRECTION_WEIGHT)
                highlight.append(corrections[piece])
            continue
        words = segment(piece)
        chinese.append(piece)
        # Single characters are marked only when typed alone (a 续 of 续废率 is noise).
        highlight.extend(w for w in words if len(w) > 1 or len(piece) == 1)
        clauses.words([w for w in words if len(w) > 1 or len(piece) == 1], 1.0)
        pairs = bigrams(piece)
        # Words the index knows need no help; a stretch it does not know (a word jieba
        # splits differently, a new name, a typo) is searched by its character pairs in
        # the bodies too, and by sound.
        known = reader is not None and all(_known(reader, word) for word in words if len(word) > 1)
        unknown = unknown or (reader is not None and not known)
        for name, weight in BIGRAM_FIELDS:
            if known and name in LONG_FIELDS:
                continue
            for pair in pairs:
                clauses.term(name, pair, weight)
        if len(words) > 1:
            # The run as typed, in order: a question copied from a heading wins.
            clauses.phrase(pairs, RUN_WEIGHT)
        if not known:
            for pair in syllable_pairs(piece):
                clauses.term("pinyin", pair, PINYIN_WEIGHT)
        for wrong, right in corrections.items():
            if wrong in piece:
                clauses.words(word_tokens(right), CORRECTION_WEIGHT)
                highlight.append(right)
    if synonyms and pieces:
        typed_chinese = bool(chinese)
        typed_english = bool(english)
        for term in synonyms.expand(" ".join(piece for _kind, piece in pieces)):
            tokens = list(bigram_tokens(term))
            if not tokens:
                continue
            highlight.append(term)
            chinese_term = bool(CJK_RE.search(term))
            # A synonym in the other language than everything typed counts less: an
            # English page must not outrank Chinese ones for a Chinese query.
            other_language = (chinese_term and not typed_chinese) or (not chinese_term and not typed_english)
            weight = SYNONYM_WEIGHT * (CROSS_LANGUAGE if other_language else 1.0)
            if chinese_term and " " not in term and len(segment(term)) == 1:
                # A word of the shipped dictionary, which jieba keeps whole at index time
                # too: one term per field, no phrase. (Terms added in the admin are not
                # taught to jieba, so indexing never depends on the table's state.)
                clauses.words([term], weight)
            elif len(tokens) == 1:
                clauses.words(word_tokens(term), weight)
            else:
                # In titles only: a synonym's phrase in the bodies weighs 0.2 and is the
                # costliest clause a query has (positions read in thousands of bodies).
                clauses.phrase(tokens, weight, bodies=False)
    required = []
    for phrase in phrases:
        folded_phrase = fold(phrase)
        query = _phrase_query(folded_phrase, PHRASE_WEIGHT)
        if query is not None:
            required.append(query)
            highlight.append(" ".join(folded_phrase.split()))
    optional = clauses.query(reader)
    if required:
        must = Q.And(required) if len(required) > 1 else required[0]
        built = Q.AndMaybe(must, optional) if optional is not None else must
    else:
        built = optional
    return Plan(built, highlight, english, chinese, unknown)


def filters(
    kind: str | None = None, category: str | None = None, locale: str | None = None
) -> Q.Query | None:
    terms = [
        Q.Term(name, value)
        for name, value in (("kind", kind), ("category", category), ("locale", locale))
        if value
    ]
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else Q.And(terms)


def _visible(reader, field: str, term: str, hidden: frozenset[int]) -> bool:
    """Whether a public document has the term in the field: scheduled articles are in the
    index, and a word only they contain must not be suggested (it would tell their news)."""
    if not reader.doc_frequency(field, term):
        return False
    if not hidden:
        return True
    return any(number not in hidden for number in reader.postings(field, term).all_ids())


def _known(reader, word: str, hidden: frozenset[int] = frozenset()) -> bool:
    """Whether a document not in `hidden` has the word in one of the word fields."""
    return any(_visible(reader, name, word, hidden) for name, _weight in WORD_FIELDS)


def corrections_for(
    searcher, plan_: Plan, chinese_words: dict[str, str], hidden: frozenset[int] = frozenset()
) -> dict[str, str]:
    """Spelling corrections from the vocabulary of the public articles: English words they
    do not have (edit distance), Chinese words typed with the wrong homophone (pinyin)."""
    fixes: dict[str, str] = {}
    reader = searcher.reader()
    for word in plan_.english:
        if not word.isalpha() or len(word) < 4:
            continue
        token = next(iter(word_tokens(word)), None)
        if token is None or _known(reader, token, hidden):
            continue
        for name in ("title", "body"):
            suggestions = searcher.suggest(name, token, limit=5, maxdist=2 if len(word) > 5 else 1)
            public = [suggestion for suggestion in suggestions if _visible(reader, name, suggestion, hidden)]
            if public:
                fixes[word] = public[0]
                break
    for run in plan_.chinese:
        # Greedy, longest first: a stretch the index does not know whose sound is a word
        # it does know (续废率 -> 续费率).
        start = 0
        while start < len(run) - 1:
            for length in range(min(6, len(run) - start), 1, -1):
                part = run[start : start + length]
                if _known(reader, part, hidden):
                    continue
                same_sound = chinese_words.get(sound_of(part))
                if same_sound and same_sound != part and _known(reader, same_sound, hidden):
                    fixes[part] = same_sound
                    start += length - 1
                    break
            start += 1
    return fixes


def sound_of(word: str) -> str:
    return "".join(lazy_pinyin(word, style=Style.NORMAL, errors="ignore"))


def homophone_table(reader) -> dict[str, str]:
    """pinyin key -> the most frequent Chinese word with that sound, over titles, tags and
    headings (the words editors chose)."""
    best: dict[str, tuple[int, str]] = {}
    for name in ("title", "tags", "headings"):
        for term_bytes, info in reader.iter_field(name):
            word = term_bytes.decode("utf-8") if isinstance(term_bytes, bytes) else term_bytes
            if len(word) < 2 or not CJK_RE.fullmatch(word[0]):
                continue
            key = sound_of(word)
            freq = info.doc_frequency()
            if key not in best or best[key][0] < freq:
                best[key] = (freq, word)
    return {key: word for key, (_freq, word) in best.items()}


def suggestion_text(text: str, fixes: dict[str, str]) -> str | None:
    if not fixes:
        return None
    out = fold(clean(text))
    for wrong, right in fixes.items():
        out = re.sub(
            rf"(?<![a-z0-9]){re.escape(wrong)}(?![a-z0-9])" if wrong.isascii() else re.escape(wrong),
            right,
            out,
        )
    return out


def search(
    searcher,
    text: str,
    *,
    kind: str | None = None,
    category: str | None = None,
    locale: str | None = None,
    page: int = 1,
    per_page: int = 10,
    synonyms: SynonymMap | None = None,
    with_facets: bool = False,
    homophones=None,
    hidden: frozenset[int] = frozenset(),
    scores: TermScores | None = None,
) -> Results:
    """Run a visitor's search on an open searcher. Never raises on odd input. `hidden`:
    document numbers left out (articles not yet public); `scores`: the clauses' scores
    kept for this searcher's index generation (without, Whoosh scores every match)."""
    started = time.perf_counter()
    text = clean(text)
    page = max(1, min(int(page or 1), 1000))
    per_page = max(1, min(int(per_page or 10), 50))
    results = Results(query=text, page=page, per_page=per_page)
    reader = searcher.reader()
    built = plan(text, synonyms, reader=reader)
    wanted = filters(kind, category, locale)

    def run(query) -> tuple[int, list[tuple[int, float]]] | None:
        if query is None:
            return None
        if scores is not None and _flat(query):
            return _ranked(searcher, query, scores, wanted, hidden, page, per_page)
        found = searcher.search_page(
            query, page, pagelen=per_page, filter=wanted, mask=set(hidden) or None, optimize=False
        )
        return len(found), [(hit.docnum, hit.score or 0.0) for hit in found]

    page_results = run(built.query)
    results.total = page_results[0] if page_results is not None else 0
    if page > results.pages:
        # Whoosh answers the last page instead; a page past the end is empty.
        return results
    if page == 1 and (built.unknown or results.total < SUGGEST_BELOW) and (built.english or built.chinese):
        table = homophones(reader) if homophones and built.chinese else {}
        fixes = corrections_for(searcher, built, table, hidden)
        results.suggestion = suggestion_text(text, fixes)
        if fixes:
            built = plan(text, synonyms, fixes, reader=reader)
            page_results = run(built.query)
            results.total = page_results[0] if page_results is not None else 0
    if page_results is None:
        return results
    for docnum, score in page_results[1]:
        stored = searcher.stored_fields(docnum)
        results.hits.append(
            Hit(
                id=int(stored["id"]),
                slug=stored["slug"],
                kind=stored["kind"],
                title=stored["title"],
                url=stored["url"],
                snippet=snippet(stored.get("body", ""), built.highlight, fallback=stored.get("summary", "")),
                title_html=mark(stored["title"], built.highlight),
                score=score,
                locale=stored.get("locale", ""),
                category=stored.get("category", ""),
                published=stored.get("published"),
            )
        )
    if with_facets:
        results.facets = kind_facets(searcher, built.query, category=category, locale=locale, hidden=hidden)
    results.took_ms = (time.perf_counter() - started) * 1000
    return results


def kind_facets(
    searcher, built: Q.Query, *, category=None, locale=None, hidden: frozenset[int] = frozenset()
) -> dict[str, int]:
    """How many results each kind has, ignoring the kind filter (to switch between them)."""
    found = searcher.search(
        built, limit=1, filter=filters(None, category, locale), mask=set(hidden) or None, groupedby="kind"
    )
    return {key: len(docs) for key, docs in found.groups("kind").items() if key}


# Snippets ----------------------------------------------------------------------------------


def _spans(folded: str, terms: list[str]) -> list[tuple[int, int, str]]:
    spans = []
    for term in terms:
        term = " ".join(term.split())
        if not term:
            continue
        if CJK_RE.search(term):
            pattern = r"\s*".join(re.escape(part) for part in term.split())
        else:
            # English: the word and its inflections ("renewal" finds "renewals").
            stem = term if len(term) < 5 else term[: max(4, len(term) - 2)]
            body = r"[\s-]+".join(re.escape(part) for part in stem.split())
            pattern = rf"(?<![a-z0-9]){body}[a-z0-9]*"
        for match in re.finditer(pattern, folded):
            spans.append((match.start(), match.end(), term))
            if len(spans) > 400:
                return spans
    return spans


def _merge(spans):
    merged = []
    for start, end, term in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]), merged[-1][2])
        else:
            merged.append((start, end, term))
    return merged


def _render(text: str, spans, start: int, end: int) -> Markup:
    out, cursor = [], start
    for s, e, _term in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(_plain(text[cursor:s]))
        out.append(f"<mark>{_plain(text[s:e])}</mark>")
        cursor = e
    out.append(_plain(text[cursor:end]))
    return Markup("".join(out))


def _plain(text: str) -> str:
    """Escaped, on one line (the body text keeps the paragraphs' line breaks)."""
    return escape(text.replace("\r", " ").replace("\n", " "))


def mark(text: str, terms: list[str]) -> Markup:
    """The whole text, escaped, with the matched terms in <mark>."""
    text = unicodedata.normalize("NFC", text or "")
    return _render(text, _merge(_spans(fold_chars(text), _terms(terms))), 0, len(text))


def _terms(terms: list[str]) -> list[str]:
    # Longest first, so 客户成功经理 is marked whole rather than as 客户成功 + 经理.
    return sorted({t for t in terms if t and t.strip()}, key=len, reverse=True)


def snippet(text: str, terms: list[str], *, fallback: str = "", width: int = SNIPPET_CHARS) -> Markup:
    """About `width` characters of `text` around the densest group of matched terms,
    escaped, with the terms in <mark>. Without a match: the start of `fallback` or text."""
    text = text or ""
    spans = _merge(_spans(fold_chars(text), _terms(terms)))
    if not spans and fallback:
        # The body does not say it (the title or tags did): show the summary instead.
        text, spans = fallback, _merge(_spans(fold_chars(fallback), _terms(terms)))
    if not spans:
        end = min(len(text), width)
        return _render(text, [], 0, end) + Markup("…" if len(text) > width else "")
    best_start, best_score = spans[0][0], -1
    for i, (start, _end, _term) in enumerate(spans):
        covered = {term for s, e, term in spans[i:] if e <= start + width}
        score = len(covered) * 10 + sum(1 for s, e, _t in spans[i:] if e <= start + width)
        if score > best_score:
            best_start, best_score = start, score
    start = max(0, best_start - width // 4)
    if start > 0:
        # Start on a sentence or word boundary between there and the first match.
        for boundary in ("。", "！", "？", ". ", "\n", "，", ", ", " "):
            found = text.find(boundary, start, best_start)
            if found != -1:
                start = found + len(boundary)
                break
    end = min(len(text), start + width)
    body = _render(text, spans, start, end)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return Markup(prefix) + body + Markup(suffix)
