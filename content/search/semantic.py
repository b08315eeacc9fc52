"""Search by meaning beside the words: the in-memory matrices each process scans (of the
vectors embedding.py keeps current in the database) and the fusion of the two rankings.

    Vectors.meaning(vectors)       how close each article is to a query, by every encoder
    fuse(lexical, closeness)       one ranking of the two

How the two are fused: BM25F scores cannot be compared across queries and cosines of two
encoders live on scales of their own, so each side speaks in what it can say. The words
give their k-th hit WORDS_WEIGHT / sqrt(k); meaning gives every article its closeness:
each encoder's cosine to the article's best passage, standardised over all articles
(how many standard deviations above the average article), averaged over the encoders.
A hit of the words that meaning also finds close rises; a hit that matches a word but
not the sense sinks below an article that says the same thing in other words. Chosen on
the development sets only (docs/SEARCH.md, *Relevance*).
"""

import logging
import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select

from content.search import dense
from content.search.models import ArticleVector
from content.search.ranking import Results, bare_hit, dress
from core.extensions import db

log = logging.getLogger(__name__)
# What the words' first hit counts, in standard deviations of closeness by meaning (the
# k-th counts WORDS_WEIGHT / sqrt(k)). Development sets (relevance.yml, paraphrase.yml and
# the two used-up held-out sets): 1.0 / 1.25 / 1.5 / 1.75 / 2.0 gave relevance.yml 0.948 /
# 0.957 / 0.963 / 0.967 / 0.968 and their paraphrases (105 queries) 0.72 / 0.73 / 0.72 /
# 0.71 / 0.69: 1.5 keeps the keyword queries and gains most of the paraphrases.
WORDS_WEIGHT = 1.5
# How many hits of the words take part in the fusion.
FUSION_DEPTH = 50
# How many of the articles closest by meaning may join the words' hits, and how close an
# article found by meaning alone must be (in standard deviations above the average one).
DENSE_DEPTH = 20
CLOSENESS_FLOOR = 0.5


# The matrices ----------------------------------------------------------------------------


@dataclass
class Matrix:
    """One encoder's passage vectors: rows grouped by article, ascending."""

    vectors: np.ndarray
    articles: np.ndarray  # the article of each row
    starts: np.ndarray  # where each row's passage starts in its article's text
    groups: np.ndarray  # the first row of each article

    @classmethod
    def of(cls, rows: list, dimensions: int) -> "Matrix":
        articles = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        vectors = np.zeros((len(rows), dimensions), dtype=np.float32)
        for number, row in enumerate(rows):
            vectors[number] = np.frombuffer(row[2], dtype=np.float32)
        starts = np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows))
        groups = np.flatnonzero(np.r_[True, articles[1:] != articles[:-1]]) if len(rows) else articles
        return cls(vectors, articles, starts, groups)

    def best(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(each row's cosine to `vector`, each article's best)"""
        scores = self.vectors @ vector
        return scores, np.maximum.reduceat(scores, self.groups)

    def best_start(self, scores: np.ndarray, group: int) -> int:
        first = self.groups[group]
        last = self.groups[group + 1] if group + 1 < len(self.groups) else len(scores)
        return int(self.starts[first + int(np.argmax(scores[first:last]))])


@dataclass
class Meaning:
    """How close each article is to one query: `closeness` in standard deviations above
    the average article, averaged over the encoders; `above_floor` whether an encoder
    finds it at least as close as that encoder's absolute floor."""

    ids: np.ndarray
    closeness: np.ndarray
    above_floor: np.ndarray
    position: dict
    start_of: object  # index -> start of the best passage, for the snippet

    def of(self, article_id: int) -> float:
        """An article's closeness (0.0, the average, when it has no vectors yet)."""
        index = self.position.get(article_id)
        return 0.0 if index is None else float(self.closeness[index])

    def closest(self, depth: int) -> list[tuple[int, float, bool, int]]:
        """(article id, closeness, above the floors, its best passage's start), closest
        first (the first article first on a tie). Only those at least as close as the
        depth-th are sorted, not every article."""
        distance = -self.closeness
        if 0 < depth < len(distance):
            ahead = np.flatnonzero(distance <= np.partition(distance, depth - 1)[depth - 1])
        else:
            ahead = np.arange(len(distance))
        order = ahead[np.argsort(distance[ahead], kind="stable")][:depth]
        return [
            (int(self.ids[i]), float(self.closeness[i]), bool(self.above_floor[i]), self.start_of(int(i)))
            for i in order
        ]


@dataclass
class Vectors:
    """Every stored passage vector of this process, one matrix per encoder, re-read when
    the table changed (checked at most once a second). `articles` are those embedded by
    every encoder; the others wait for the worker."""

    signature: tuple | None = None
    checked: float = float("-inf")
    every: float = 1.0
    matrices: dict = field(default_factory=dict)
    articles: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # For each encoder, the group of each of `articles` in its matrix.
    groups: dict = field(default_factory=dict)
    position: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self) -> None:
        if time.monotonic() - self.checked < self.every:
            return
        with self.lock:
            signature = tuple(
                db.session.execute(
                    select(
                        func.count(ArticleVector.id),
                        func.max(ArticleVector.id),
                        func.max(ArticleVector.embedded_at),
                    )
                ).one()
            )
            self.checked = time.monotonic()
            if signature == self.signature:
                return
            matrices = {}
            for encoder in dense.ENCODERS:
                rows = db.session.execute(
                    select(ArticleVector.article_id, ArticleVector.start, ArticleVector.vector)
                    .where(ArticleVector.model == encoder.name)
                    .order_by(ArticleVector.article_id, ArticleVector.passage)
                ).all()
                matrices[encoder.name] = Matrix.of(rows, encoder.dimensions)
            embedded = [matrix.articles[matrix.groups] for matrix in matrices.values()]
            articles = embedded[0]
            for more in embedded[1:]:
                articles = np.intersect1d(articles, more)
            self.groups = {
                name: np.searchsorted(ids, articles) for name, ids in zip(matrices, embedded, strict=True)
            }
            self.matrices, self.articles, self.signature = matrices, articles, signature
            self.position = {int(article_id): index for index, article_id in enumerate(articles)}

    def meaning(self, vectors: dict[str, np.ndarray]) -> Meaning | None:
        """How close every embedded article is to a query given as {encoder: vector}."""
        if not len(self.articles):
            return None
        closeness = np.zeros(len(self.articles), dtype=np.float64)
        above = np.zeros(len(self.articles), dtype=bool)
        # The snippet comes from the encoder that reads the most passages.
        snippets = max(dense.ENCODERS, key=lambda encoder: encoder.passages)
        for encoder in dense.ENCODERS:
            matrix = self.matrices[encoder.name]
            scores, best = matrix.best(vectors[encoder.name])
            best = best[self.groups[encoder.name]]
            spread = float(best.std())
            closeness += (best - best.mean()) / (spread if spread > 1e-6 else 1.0)
            if encoder.floor is not None:
                above |= best >= encoder.floor
            if encoder is snippets:
                snippet_scores = scores
        closeness /= len(dense.ENCODERS)
        matrix, groups = self.matrices[snippets.name], self.groups[snippets.name]
        return Meaning(
            self.articles,
            closeness,
            above,
            self.position,
            lambda index: matrix.best_start(snippet_scores, int(groups[index])),
        )


def fuse(lexical: list[int], closeness: dict[int, float], *, weight: float = WORDS_WEIGHT) -> list[int]:
    """One ranking: the words' k-th hit scores weight / sqrt(k), plus every article's
    closeness by meaning (those found by meaning alone score their closeness). Ties keep
    the words' order (typed words are the surer sign)."""
    scores = {item: closeness.get(item, 0.0) for item in closeness}
    for rank, item in enumerate(lexical, start=1):
        scores[item] = closeness.get(item, 0.0) + weight / math.sqrt(rank)
    position = {item: rank for rank, item in enumerate(lexical)}
    return sorted(scores, key=lambda item: (-scores[item], position.get(item, len(position)), item))


def merge(
    searcher,
    lexical: Results,
    meaning: Meaning,
    *,
    allowed: np.ndarray | None,
    hidden: frozenset[int],
    numbers: dict[int, int],
    page: int,
    per_page: int,
    with_facets: bool = False,
) -> Results:
    """The page of the fused ranking: `lexical` holds the first FUSION_DEPTH lexical hits,
    bare. Of the DENSE_DEPTH articles closest by meaning, one the words did not find joins
    when it is public, passes the filters (`allowed`: True for each document they let
    through, None without a filter) and is at least CLOSENESS_FLOOR close (and, when the words found
    nothing, above an encoder's absolute floor). Only the hits on the page are dressed;
    the snippet of one found by meaning alone is the passage that matched. `with_facets`:
    the counts per kind take in those found by meaning alone, so they add up to the
    total the page shows. `numbers`: each article's document number (what
    TermScores.article_ids keeps)."""
    hits = {hit.id: hit for hit in lexical.hits}
    closeness = {hit.id: meaning.of(hit.id) for hit in lexical.hits}
    starts = {}  # where the passage that matched starts, for articles found by meaning alone
    for article_id, close, above_floor, start in meaning.closest(DENSE_DEPTH):
        if article_id in hits or close < CLOSENESS_FLOOR or not (lexical.hits or above_floor):
            continue
        docnum = numbers.get(article_id)
        if docnum is None or docnum in hidden or (allowed is not None and not allowed[docnum]):
            continue
        hits[article_id] = bare_hit(article_id, docnum, close)
        closeness[article_id] = close
        starts[article_id] = start
    order = fuse([hit.id for hit in lexical.hits], closeness)
    added = len(order) - len(lexical.hits)
    facets = dict(lexical.facets)
    if with_facets:
        for article_id in starts:
            kind = searcher.stored_fields(hits[article_id].docnum).get("kind", "")
            facets[kind] = facets.get(kind, 0) + 1
    results = Results(
        query=lexical.query,
        total=lexical.total + added,
        page=page,
        per_page=per_page,
        facets=facets,
        suggestion=lexical.suggestion,
        took_ms=lexical.took_ms,
        highlight=lexical.highlight,
    )
    results.hits = [
        dress(searcher, hits[item], lexical.highlight, passage_at=starts.get(item))
        for item in order[(page - 1) * per_page : page * per_page]
    ]
    return results
