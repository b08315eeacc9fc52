"""What visitors searched for and opened: each search and click stored (a click through a
signed token naming its result), and the figures staff read: the top searches, the ones
that found nothing, the totals."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from content.models import Article
from content.search import queries
from content.search.models import SearchQuery
from core.extensions import db
from core.ids import token_id
from core.tokens import InvalidToken, sign, unsign

CLICK_PURPOSE = "search-click"
CLICK_MAX_AGE = 7 * 86400


def record_search(
    text: str, *, results: int, kind: str, locale: str, source: str, now: datetime, visit: str = ""
) -> int:
    row = SearchQuery(
        visit=visit[:32],
        query=queries.clean(text),
        normalised=queries.normalise(text)[:200],
        results=results,
        kind=(kind or "")[:20],
        locale=(locale or "")[:10],
        source=source,
        created_at=now,
    )
    db.session.add(row)
    db.session.flush()
    # Read before the commit expires the row: after it, reading the id is another query.
    row_id = row.id
    db.session.commit()
    return row_id


def click_token(*, query_id: int | None, text: str, results: int, article_id: int, rank: int) -> str:
    """A signed token naming one result of one search; searches from the typeahead are
    not stored until a result is opened, so their token carries the query itself."""
    payload = {"a": article_id, "r": rank}
    if query_id:
        payload["q"] = query_id
    else:
        payload.update(t=queries.clean(text), n=results)
    return sign(CLICK_PURPOSE, payload)


def click_payload(token: str) -> tuple[dict, int, int] | None:
    """A click token's payload, article id and rank; None when forged, expired or odd."""
    try:
        payload = unsign(CLICK_PURPOSE, str(token or ""), max_age=CLICK_MAX_AGE)
        article_id, rank = token_id(payload["a"]), int(payload["r"])
    except (InvalidToken, KeyError, TypeError, ValueError):
        return None
    return None if article_id is None else (payload, article_id, rank)


def record_click(token: str, *, now: datetime, locale: str = "", visit: str = "") -> bool:
    """Store which result a visitor opened. False for a forged, expired or stale token."""
    clicked = click_payload(token)
    if clicked is None:
        return False
    payload, article_id, rank = clicked
    if db.session.get(Article, article_id) is None:
        return False
    if payload.get("q"):
        query_id = token_id(payload["q"])
        row = db.session.get(SearchQuery, query_id) if query_id else None
        if row is None:
            return False
        if row.clicked_article_id is not None:
            # A second click on the same search is a new row, so every open counts.
            row = SearchQuery(
                query=row.query,
                normalised=row.normalised,
                results=row.results,
                kind=row.kind,
                locale=row.locale,
                source=row.source,
                visit=row.visit,
                created_at=now,
            )
            db.session.add(row)
    else:
        text = queries.clean(payload.get("t", ""))
        if not text:
            return False
        row = SearchQuery(
            query=text,
            normalised=queries.normalise(text)[:200],
            results=int(payload.get("n", 0)),
            locale=locale[:10],
            source="typeahead",
            visit=visit[:32],
            created_at=now,
        )
        db.session.add(row)
    row.clicked_article_id, row.clicked_rank, row.clicked_at = article_id, rank, now
    db.session.commit()
    return True


# The search report lists at most this many different searches of a period, the most
# frequent first (the long tail past them is one-off typing).
GROUPS_CAP = 5000


@dataclass
class SearchStat:
    normalised: str
    example: str
    searches: int
    clicks: int
    results: int


def _stats(
    since: datetime, until: datetime, *, only_empty: bool, limit: int, containing: str = ""
) -> list[SearchStat]:
    searches = func.count(SearchQuery.id)
    stmt = (
        select(
            SearchQuery.normalised,
            func.max(SearchQuery.query),
            searches,
            func.sum(case((SearchQuery.clicked_article_id.is_not(None), 1), else_=0)),
            func.max(SearchQuery.results),
        )
        .where(SearchQuery.created_at >= since, SearchQuery.created_at < until)
        .group_by(SearchQuery.normalised)
        .order_by(searches.desc(), SearchQuery.normalised)
        .limit(limit)
    )
    if containing:
        stmt = stmt.where(SearchQuery.normalised.contains(queries.normalise(containing), autoescape=True))
    if only_empty:
        stmt = stmt.having(func.max(SearchQuery.results) == 0)
    return [SearchStat(n, q, int(s), int(c or 0), int(r or 0)) for n, q, s, c, r in db.session.execute(stmt)]


def search_groups(
    since: datetime, until: datetime, *, containing: str = "", only_empty: bool = False
) -> list[SearchStat]:
    """The searches of a period grouped as "the same search" (the most frequent
    GROUPS_CAP of them), those whose folded text contains `containing`, or that found
    nothing: the search report's list."""
    return _stats(since, until, only_empty=only_empty, limit=GROUPS_CAP, containing=containing)


def top_searches(since: datetime, until: datetime, *, limit: int = 50) -> list[SearchStat]:
    """The most frequent searches of a period, with their clicks."""
    return _stats(since, until, only_empty=False, limit=limit)


def zero_result_searches(since: datetime, until: datetime, *, limit: int = 50) -> list[SearchStat]:
    """Searches that found nothing in a period: the articles to write next."""
    return _stats(since, until, only_empty=True, limit=limit)


def search_totals(since: datetime, until: datetime) -> dict:
    row = db.session.execute(
        select(
            func.count(SearchQuery.id),
            func.sum(case((SearchQuery.results == 0, 1), else_=0)),
            func.sum(case((SearchQuery.clicked_article_id.is_not(None), 1), else_=0)),
        ).where(SearchQuery.created_at >= since, SearchQuery.created_at < until)
    ).one()
    total, empty, clicked = (int(value or 0) for value in row)
    return {"searches": total, "empty": empty, "clicked": clicked}
