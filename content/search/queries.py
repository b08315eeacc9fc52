"""Planning: from what a visitor typed to the query that searches it (with the spelling
corrections of spelling.py, when a search found little).

No query parser: the text is analysed like the documents and the query is built from its
terms, so `AND ( * ~ :` and friends are searched as text and nothing a visitor types can
raise. A whole question works: every meaningful term is OR-grouped and BM25F ranks the
documents that match most of them, in the most important fields, first. Quoted phrases
must match (by position, in the bigram fields). Synonyms of the typed terms and
corrections of unknown English words join with lower weights.
"""

import re
from dataclasses import dataclass, field

from whoosh import query as Q

from content.search.analysis import (
    CJK_RE,
    TOKEN_RE,
    bigram_tokens,
    bigrams,
    fold,
    query_pieces,
    segment,
    syllable_pairs,
    word_tokens,
)
from content.search.spelling import known as _known
from content.search.termscores import BIGRAM_FIELDS, WORD_FIELDS

MAX_QUERY_CHARS = 200
MAX_PIECES = 24
# Pinyin catches homophone typos; synonyms and spelling corrections count less than the
# words typed.
PINYIN_WEIGHT = 0.5
SYNONYM_WEIGHT = 0.5
CROSS_LANGUAGE = 0.5
CORRECTION_WEIGHT = 0.7
PHRASE_WEIGHT = 2.0
RUN_WEIGHT = 3.0
LONG_FIELDS = ("body", "body_bi")
# A query of one Chinese character searches the pairs it starts, the most common first.
ONE_CHARACTER_PAIRS = 16
# A body term in more than this share of the documents (and in more than COMMON_MIN_DOCS
# of them, so small sites keep every term) is "common".
COMMON_SHARE = 0.10
COMMON_MIN_DOCS = 200
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
            if len(piece) == 1 and reader is not None:
                # One character is rarely a word of its own: the pairs it starts are
                # the words it begins (续 -> 续费, 续约, 续签).
                for pair in _pairs_starting(reader, name, piece):
                    clauses.term(name, pair, weight)
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
        for term in synonyms.expand(_as_meant(pieces, corrections)):
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


def _pairs_starting(reader, name: str, character: str) -> list[str]:
    """The ONE_CHARACTER_PAIRS character pairs of the field that start with `character`
    and are found in the most documents."""
    field = reader.schema[name]
    found = []
    for raw in reader.expand_prefix(name, character):
        pair = field.from_bytes(raw)
        if len(pair) == 2:
            found.append((-reader.doc_frequency(name, pair), pair))
    return [pair for _count, pair in sorted(found)[:ONE_CHARACTER_PAIRS]]


def _as_meant(pieces: list[tuple[str, str]], corrections: dict[str, str]) -> str:
    """The typed text and the words its spelling corrections offer: a corrected word
    brings its synonyms as if it had been typed (intergration -> integration -> 集成),
    and what was typed keeps its own (a phrase such as "landing page" stays whole)."""
    return " ".join([piece for _kind, piece in pieces] + list(corrections.values()))


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
