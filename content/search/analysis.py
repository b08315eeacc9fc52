"""Text analysis for Chinese and English search.

The same folding runs at index and at query time, so that what a visitor types meets
what an editor wrote whatever the keyboard: full-width and half-width (NFKC), traditional
and simplified (OpenCC), upper and lower case, and the spelling variants of the B2B field
(ToB = To B = 2B). Then three token streams feed three kinds of field:

- words: jieba segmentation (jieba-rs, through rjieba) for Chinese (with the domain words of the synonym dictionary,
  so 客户成功 or 落地页 stay whole) and stemmed English words;
- bigrams: every pair of neighbouring Chinese characters, so that a word jieba splits
  oddly, or does not know, is still found, and phrases can be matched by position;
- pinyin: pairs of toneless syllables, so that a homophone typed by mistake with a pinyin
  keyboard (落第页 for 落地页) still finds the page.

The analyzers are pickled into the index schema, so they hold no state: jieba's
tokenizer lives at module level and is loaded once per process.
"""

import logging
import os
import re
import threading
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import opencc
import yaml
from pypinyin import Style, lazy_pinyin
from whoosh.analysis import Token, Tokenizer
from whoosh.analysis.filters import STOP_WORDS
from whoosh.lang.porter import stem

DICTIONARY_FILE = Path(__file__).with_name("synonyms.yml")

CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A run of Chinese characters, or an English/number word ("q3", "v2.1", "o'reilly").
TOKEN_RE = re.compile(rf"[{CJK_CLASS}]+|[a-z0-9]+(?:['.&][a-z0-9]+)*")
CJK_RE = re.compile(rf"[{CJK_CLASS}]")

# Chinese function words that carry no meaning on their own in the words field.
_STOP_ZH = "的 了 和 与 及 或 是 在 把 被 之 等 着 过 得 地 也 就 都 又 吗 呢 吧 啊 呀 么"
STOP_ZH = frozenset(_STOP_ZH.split())
# Words that ask rather than say what is sought: dropped from queries (never from the
# index, where they belong to the text and to phrases).
_QUESTION_ZH = (
    "如何 怎么 怎么样 怎样 怎么办 什么 什么样 为什么 为何 哪里 哪儿 哪个 哪些 哪 是否 能否 可以 能 能不能 "
    "可不可以 请问 请 想 想要 要 我 我们 你 你们 该 应该 如果 有没有 有 没有 一下 多少 几 谁 让 将 对 给 从 "
    "后 前 时 中 里 上 下 还 这 那 这个 那个 个"
)
QUESTION_WORDS_ZH = STOP_ZH | frozenset(_QUESTION_ZH.split())
_QUESTION_EN = (
    "how what why when where which who whom whose do does did doing done is are was were be been "
    "can could should would will shall may might must i me my we our us you your it its a an the "
    "to of for in on at by with from into about please help there this that these those get "
    "way ways best"
)
QUESTION_WORDS_EN = frozenset(_QUESTION_EN.split())
STOP_EN = STOP_WORDS | frozenset({"s", "t"})

log = logging.getLogger(__name__)
_jieba_lock = threading.Lock()
_jieba = None


def _new_lock_after_fork() -> None:
    # A worker forked (gunicorn --preload) while the parent's warm-up thread was loading
    # would inherit the lock held by a thread it does not have: it loads its own instead.
    global _jieba_lock
    _jieba_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_lock_after_fork)


def load_dictionary(path: Path = DICTIONARY_FILE) -> dict:
    """The shipped dictionary: {"variants": {canonical: [spellings]}, "synonyms": [[terms]]}."""
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@lru_cache(maxsize=1)
def _variants() -> tuple[re.Pattern, dict[str, str]]:
    """One pattern matching every listed spelling, and {spelling without spaces or
    hyphens: canonical form}."""
    canonical_of, alternatives = {}, []
    for canonical, spellings in load_dictionary().get("variants", {}).items():
        for spelling in spellings:
            parts = [part for part in re.split(r"[\s\-]+", spelling.lower()) if part]
            canonical_of["".join(parts)] = canonical.lower()
            alternatives.append(r"[\s\-]*".join(re.escape(part) for part in parts))
    alternatives.sort(key=len, reverse=True)
    pattern = re.compile(rf"(?<![a-z0-9])(?:{'|'.join(alternatives)})(?![a-z0-9])")
    return pattern, canonical_of


def _canonical(match: re.Match) -> str:
    return _variants()[1].get(re.sub(r"[\s\-]+", "", match.group()), match.group())


# Taiwan's forms and phrases to the mainland's (軟體 → 软件, 資料庫 → 数据库), as a visitor
# in Taipei types what an editor in Shanghai wrote.
OPENCC_CONFIG = "tw2sp"
# Simplified characters OpenCC keeps apart that mainland text uses one for (帳號 becomes
# 帐号, written 账号): folded alike at index and query time, so either finds the other.
SIMPLIFIED_VARIANTS = str.maketrans({"帐": "账"})


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC(OPENCC_CONFIG)


@lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """The Chinese characters the conversion changes: most text is simplified already
    and skips it."""
    chars = [
        chr(code) for start, end in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF)) for code in range(start, end + 1)
    ]
    # One call for them all (a call costs far more than a character), one per line so no
    # two characters form a phrase.
    converted = _converter().convert("\n".join(chars)).split("\n")
    return frozenset(char for char, new in zip(chars, converted, strict=True) if new != char) | {"帐"}


def to_simplified(text: str) -> str:
    if not _traditional_chars().isdisjoint(text):
        return _converter().convert(text).translate(SIMPLIFIED_VARIANTS)
    return text


def fold(text: str) -> str:
    """Full-width to half-width, traditional to simplified, lower case, variants folded."""
    text = unicodedata.normalize("NFKC", text or "")
    if CJK_RE.search(text):
        text = to_simplified(text)
    return _variants()[0].sub(_canonical, text.lower())


def fold_chars(text: str) -> str:
    """`fold` without the variants and with one output character per input character, so
    that positions found in the folded text are positions in the original (snippets)."""
    folded = to_simplified(unicodedata.normalize("NFKC", text)).lower() if text else ""
    if len(folded) == len(text):
        return folded
    out = []
    for char in text:
        one = to_simplified(unicodedata.normalize("NFKC", char)).lower()
        out.append(one if len(one) == 1 else char.lower())
    return "".join(out)


def jieba_tokenizer():
    """jieba's segmenter (jieba-rs through rjieba: jieba's dictionary and algorithm,
    maintained, and as good for search as jieba itself: bench/segmenters.py), loaded once
    per process with the domain words."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import rjieba

                tokenizer = rjieba.Jieba()
                for word in domain_words(load_dictionary()):
                    tokenizer.add_word(word, 20000, None)
                _jieba = tokenizer
    return _jieba


def domain_words(dictionary: dict) -> set[str]:
    """The Chinese terms of the synonym groups, for jieba to keep whole."""
    return {
        fold(term).replace(" ", "")
        for group in dictionary.get("synonyms", [])
        for term in group
        if CJK_RE.search(term) and len(term) <= 12
    }


def segment(run: str) -> list[str]:
    """jieba's words of a run of Chinese characters (precise mode: for queries)."""
    return [word for word in jieba_tokenizer().cut(run, hmm=True) if word.strip()]


def segment_for_index(run: str) -> list[str]:
    """jieba's search mode: each word and the known words inside it (流失率 -> 流失, 流失率),
    so a query for the shorter word finds the longer one."""
    return [word for word in jieba_tokenizer().cut_for_search(run, hmm=True) if word.strip()]


def english_word(word: str) -> str | None:
    """The indexed form of an English word or number, or None for a stop word."""
    if word in STOP_EN:
        return None
    return stem(word) if word.isalpha() else word


def bigrams(run: str) -> list[str]:
    if len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def syllable_pairs(run: str) -> list[str]:
    """Toneless pinyin of neighbouring characters, joined: 落地页 -> luodi, diye."""
    syllables = lazy_pinyin(run, style=Style.NORMAL, errors="ignore")
    if len(syllables) < 2:
        return syllables
    return [a + b for a, b in zip(syllables, syllables[1:], strict=False)]


def word_tokens(text: str) -> Iterator[str]:
    """The words field's terms of already folded text."""
    for match in TOKEN_RE.finditer(text):
        piece = match.group()
        if CJK_RE.match(piece):
            for word in segment_for_index(piece):
                if word not in STOP_ZH:
                    yield word
        else:
            word = english_word(piece)
            if word:
                yield word


def bigram_tokens(text: str) -> Iterator[str]:
    """The bigram field's terms of already folded text: Chinese pairs and English words,
    in order, so phrases match by position."""
    for match in TOKEN_RE.finditer(text):
        piece = match.group()
        if CJK_RE.match(piece):
            yield from bigrams(piece)
        else:
            yield english_word(piece) or piece


def pinyin_tokens(text: str) -> Iterator[str]:
    for match in TOKEN_RE.finditer(text):
        piece = match.group()
        if CJK_RE.match(piece):
            yield from syllable_pairs(piece)


class _StreamTokenizer(Tokenizer):
    """A Whoosh tokenizer over one of the token functions above (by name, so the schema
    pickles without state)."""

    stream = "words"

    def __eq__(self, other):
        return other is not None and self.__class__ is other.__class__

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        produce = STREAMS[self.stream]
        for pos, text in enumerate(produce(fold(value)), start_pos):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = pos
            if chars:
                # Offsets are not kept (snippets are made from the stored text instead).
                token.startchar = start_char
                token.endchar = start_char
            yield token


class WordTokenizer(_StreamTokenizer):
    stream = "words"


class BigramTokenizer(_StreamTokenizer):
    stream = "bigrams"


class PinyinTokenizer(_StreamTokenizer):
    stream = "pinyin"


STREAMS = {"words": word_tokens, "bigrams": bigram_tokens, "pinyin": pinyin_tokens}


def query_pieces(folded: str) -> list[tuple[str, str]]:
    """Split a folded query into ("zh", run) and ("en", word) pieces without the words
    that only ask: 试用期结束后怎么让客户付费 -> 试用期结束, 客户付费."""
    pieces: list[tuple[str, str]] = []
    for match in TOKEN_RE.finditer(folded):
        piece = match.group()
        if not CJK_RE.match(piece):
            if piece not in QUESTION_WORDS_EN:
                pieces.append(("en", piece))
            continue
        words = segment(piece)
        run = ""
        for word in words:
            if word in QUESTION_WORDS_ZH:
                if run:
                    pieces.append(("zh", run))
                run = ""
            else:
                run += word
        if run:
            pieces.append(("zh", run))
    return pieces
