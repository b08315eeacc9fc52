"""Planning: from what a visitor typed to the query that searches it, and the spelling
corrections ("did you mean") of words the public articles do not have.

No query parser: the text is analysed like the documents and the query is built from its
terms, so `AND ( * ~ :` and friends are searched as text and nothing a visitor types can
raise. A whole question works: every meaningful term is OR-grouped and BM25F ranks the
documents that match most of them, in the most important fields, first. Quoted phrases
must match (by position, in the bigram fields). Synonyms of the typed terms and
corrections of unknown English words join with lower weights.
"""

import re
from dataclasses import dataclass, field

from pypinyin import Style, lazy_pinyin
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
