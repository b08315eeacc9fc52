"""Running a visitor's search on an open searcher: the plan ranked (from the kept term
scores when the query is a flat OR), a page of hits with their snippets, a "did you
mean" when little matched, and the counts per kind."""

import time
from dataclasses import dataclass, field

from markupsafe import Markup
from whoosh import query as Q

from content.search.highlight import mark, snippet
from content.search.queries import SynonymMap, clean, filters, plan
from content.search.spelling import corrections_for, suggestion_text
from content.search.termscores import TermScores, flat, ranked

SUGGEST_BELOW = 3


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
    # The index's document number (for dressing a hit with its snippet later).
    docnum: int | None = None


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
    # The words to mark in snippets and titles.
    highlight: list = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


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
    dressed: bool = True,
) -> Results:
    """Run a visitor's search on an open searcher. Never raises on odd input. `hidden`:
    document numbers left out (articles not yet public); `scores`: the clauses' scores
    kept for this searcher's index generation (without, Whoosh scores every match);
    `dressed=False` gives bare hits (the article and document number, from the id column,
    without reading a stored document) and leaves the rest to `dress` (a caller that shows
    only some of the hits, such as the fusion with meaning, dresses those)."""
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
        if scores is not None and flat(query):
            return ranked(searcher, query, scores, wanted, hidden, page, per_page)
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
        results.suggestion = suggestion_text(clean(text), fixes)
        if fixes:
            built = plan(text, synonyms, fixes, reader=reader)
            page_results = run(built.query)
            results.total = page_results[0] if page_results is not None else 0
    if page_results is None:
        return results
    results.highlight = list(built.highlight)
    if page_results[1]:
        ids = reader.column_reader("id") if scores is None else scores.article_ids(searcher)[0]
        results.hits = [bare_hit(int(ids[docnum]), docnum, score) for docnum, score in page_results[1]]
    if dressed:
        for hit in results.hits:
            dress(searcher, hit, results.highlight)
    if with_facets:
        results.facets = kind_facets(searcher, built.query, category=category, locale=locale, hidden=hidden)
    results.took_ms = (time.perf_counter() - started) * 1000
    return results


def bare_hit(article_id: int, docnum: int, score: float) -> Hit:
    """A hit known by its article and document number only: `dress` gives it the rest."""
    return Hit(
        id=article_id,
        slug="",
        kind="",
        title="",
        url="",
        snippet=Markup(""),
        title_html=Markup(""),
        score=score,
        docnum=docnum,
    )


def dress(searcher, hit: Hit, highlight: list, *, passage_at: int | None = None) -> Hit:
    """A hit with its stored fields, its snippet (the body around the words found) and its
    title marked. `passage_at`: for an article found by meaning alone, where the passage
    that matched starts in the body; the snippet is that passage, unmarked."""
    stored = searcher.stored_fields(hit.docnum)
    hit.slug, hit.kind, hit.title, hit.url = stored["slug"], stored["kind"], stored["title"], stored["url"]
    hit.locale, hit.category = stored.get("locale", ""), stored.get("category", "")
    hit.published = stored.get("published")
    body = stored.get("body", "")
    if passage_at is None:
        hit.snippet = snippet(body, highlight, fallback=stored.get("summary", ""))
        hit.title_html = mark(stored["title"], highlight)
    else:
        hit.snippet = snippet(body[passage_at:] or stored.get("summary", ""), [])
        hit.title_html = mark(stored["title"], [])
    return hit


def kind_facets(
    searcher, built: Q.Query, *, category=None, locale=None, hidden: frozenset[int] = frozenset()
) -> dict[str, int]:
    """How many results each kind has, ignoring the kind filter (to switch between them)."""
    found = searcher.search(
        built, limit=1, filter=filters(None, category, locale), mask=set(hidden) or None, groupedby="kind"
    )
    return {key: len(docs) for key, docs in found.groups("kind").items() if key}


# Snippets ----------------------------------------------------------------------------------
