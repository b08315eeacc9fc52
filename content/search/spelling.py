"""Spelling corrections ("did you mean") of words the public articles do not have: English
words by edit distance to the index's vocabulary, shown as a word a reader would write;
Chinese words typed with the wrong homophone, by their pinyin.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from pypinyin import Style, lazy_pinyin
from whoosh.support.levenshtein import distance

from content.search.analysis import CJK_RE, english_word, fold, word_tokens
from content.search.termscores import WORD_FIELDS

if TYPE_CHECKING:
    from content.search.queries import Plan

# The fields whose English words are offered: the editors' own words first.
SUGGESTION_FIELDS = ("title", "body")
# Endings an indexed (stemmed) word may have lost, to write the suggestion as a word again
# (renew -> renewal for "renwal") and to compare what was typed with the stem.
ENDINGS = (
    "",
    "s",
    "e",
    "es",
    "ed",
    "ing",
    "er",
    "ers",
    "al",
    "ion",
    "ions",
    "ation",
    "ations",
    "ment",
    "ments",
    "ity",
    "ive",
    "ness",
    "ly",
    "ize",
    "ization",
    "ance",
    "ence",
    "able",
    "ic",
    "ics",
    "ical",
    "y",
    "ies",
)
LONGEST_ENDING = max(len(ending) for ending in ENDINGS)
# How many of the stems closest to a typed word are written out and compared as words.
NEAR_STEMS = 10


def visible(reader, field: str, term: str, hidden: frozenset[int]) -> bool:
    """Whether a public document has the term in the field: scheduled articles are in the
    index, and a word only they contain must not be suggested (it would tell their news)."""
    if not reader.doc_frequency(field, term):
        return False
    if not hidden:
        return True
    return any(number not in hidden for number in reader.postings(field, term).all_ids())


def known(reader, word: str, hidden: frozenset[int] = frozenset()) -> bool:
    """Whether a document not in `hidden` has the word in one of the word fields."""
    return any(visible(reader, name, word, hidden) for name, _weight in WORD_FIELDS)


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
        # A word the site does not use but that is spelled right ("lead" on a site that
        # says MQL) is not a typo: offering "leav" for it would be.
        if token is None or known(reader, token, hidden) or word in english_words():
            continue
        meant = english_correction(reader, word, hidden)
        if meant:
            fixes[word] = meant
    for run in plan_.chinese:
        # Greedy, longest first: a stretch the index does not know whose sound is a word
        # it does know (续废率 -> 续费率).
        start = 0
        while start < len(run) - 1:
            for length in range(min(6, len(run) - start), 1, -1):
                part = run[start : start + length]
                if known(reader, part, hidden):
                    continue
                same_sound = chinese_words.get(sound_of(part))
                if same_sound and same_sound != part and known(reader, same_sound, hidden):
                    fixes[part] = same_sound
                    start += length - 1
                    break
            start += 1
    return fixes


def english_correction(reader, typed: str, hidden: frozenset[int] = frozenset()) -> str | None:
    """The word a visitor most likely meant by `typed` (lower case, unknown to the index),
    written as a word (renewal, not the index's stem renew); None when nothing is close.

    The index keeps stems, which lack the endings of what people type, so a stem is
    compared with the typed word less any ending it may carry: "renwal" is one edit from
    renew (as renw), two from real. Misspellings rarely touch the first letter
    (Whoosh's own advice): only words that share it are read."""
    limit = 2 if len(typed) > 5 else 1
    shortest = max(3, len(typed) - LONGEST_ENDING)
    for name in SUGGESTION_FIELDS:
        field = reader.schema[name]
        near: list[tuple[int, int, str]] = []
        for raw in reader.expand_prefix(name, typed[0]):
            stem = field.from_bytes(raw)
            if not shortest - limit <= len(stem) <= len(typed) + limit or not stem.isalpha():
                continue
            # Only the heads within `limit` of the stem's length can be within `limit` edits.
            sizes = range(max(shortest, len(stem) - limit), min(len(typed), len(stem) + limit) + 1)
            edits = min(distance(typed[:size], stem, limit=limit + 1) for size in sizes)
            if edits <= limit:
                near.append((edits, -reader.doc_frequency(name, stem), stem))
        # The closest stems, then the closest as written: "pricng" is as near pai (as
        # pri) as price (as pric), but paiing is two edits from it and pricing one.
        written = []
        for _edits, frequency, stem in sorted(near)[:NEAR_STEMS]:
            word = written_form(stem, typed)
            edits = distance(word, typed)
            if edits <= limit and visible(reader, name, stem, hidden):
                written.append((edits, frequency, word))
        if written:
            return min(written)[2]
    return None


def written_form(stem: str, typed: str) -> str:
    """The word with this stem closest to what was typed: the stem with one of ENDINGS
    (and English spelling's e, y and doubled letter), else the stem itself."""
    bases = {stem, stem + "e", stem + stem[-1]}
    if stem.endswith("i"):
        bases.add(stem[:-1] + "y")
    if stem.endswith("e"):
        bases.add(stem[:-1])
    words = {base + ending for base in bases for ending in ENDINGS}
    fitting = [word for word in words if english_word(word) == stem] or [stem]
    dictionary = english_words()

    def closeness(word: str) -> tuple:
        # Nearest to what was typed; then a word of the dictionary (single, not the stem
        # singl), ending as it does (renewl -> renewal, not renews), as long as it.
        return (
            distance(word, typed),
            word not in dictionary,
            -len(_common_suffix(word, typed)),
            abs(len(word) - len(typed)),
            word,
        )

    return min(fitting, key=closeness)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The words of pyspellchecker's English frequency list (about 160,000; 17 MB once
    read, on the first correction a process makes)."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en", distance=1).word_frequency.keys())


def _common_suffix(a: str, b: str) -> str:
    size = 0
    while size < min(len(a), len(b)) and a[-1 - size] == b[-1 - size]:
        size += 1
    return a[len(a) - size :]


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


def suggestion_text(cleaned: str, fixes: dict[str, str]) -> str | None:
    """The query as the visitor typed it (queries.clean), with the corrections made."""
    if not fixes:
        return None
    out = fold(cleaned)
    for wrong, right in fixes.items():
        out = re.sub(
            rf"(?<![a-z0-9]){re.escape(wrong)}(?![a-z0-9])" if wrong.isascii() else re.escape(wrong),
            right,
            out,
        )
    return out
