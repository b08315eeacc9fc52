"""Search's evidence for "what to write next" (content.ideas): the searches that found
nothing (write the article they looked for) and the pages people left to search again
(the article did not answer: write what it lacks)."""

from datetime import datetime

from sqlalchemy import func, select

from content.ideas import Idea
from content.models import Article
from content.search.analytics import zero_result_searches
from content.search.exits import searched_again
from content.search.models import SearchQuery
from core.extensions import db


def empty_searches(since: datetime, until: datetime, limit: int) -> list[Idea]:
    """The most frequent searches that found nothing, with when each was last typed."""
    stats = zero_result_searches(since, until, limit=limit)
    last = dict(
        db.session.execute(
            select(SearchQuery.normalised, func.max(SearchQuery.created_at))
            .where(
                SearchQuery.normalised.in_([stat.normalised for stat in stats]),
                SearchQuery.created_at >= since,
                SearchQuery.created_at < until,
            )
            .group_by(SearchQuery.normalised)
        ).all()
    )
    return [
        Idea(f"search:{stat.normalised}"[:200], stat.example, stat.searches, last.get(stat.normalised))
        for stat in stats
    ]


def left_pages(since: datetime, until: datetime, limit: int) -> list[Idea]:
    """The articles opened from a search and followed by another search in the same visit,
    most often first: their titles start a piece that answers what they did not."""
    counted = searched_again(since).add_columns(func.max(SearchQuery.clicked_at)).subquery()
    article_id, hits, last_at = counted.c
    rows = db.session.execute(
        select(Article.id, Article.title, Article.kind, hits, last_at)
        .join(counted, article_id == Article.id)
        .order_by(hits.desc(), last_at.desc(), Article.id)
        .limit(limit)
    ).all()
    return [Idea(f"left:{row[0]}", row[1], int(row[3]), row[4], row[2]) for row in rows]
