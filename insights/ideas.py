"""Insights' evidence for "what to write next" (content.ideas): the articles people
leave the site from after a search brought them there (the page did not answer what was
searched: write what it lacks), over the last WINDOW, with their search entrances, the
share of those that were the last page of the visit, and when one was last seen.

Counted from the raw events (insights.visits orders them; kept far longer than the
window), grouped per article in one statement. An article needs MIN_VIEWS entrances
before its rate is evidence: one visitor who left is not.
"""

from datetime import datetime, timedelta

from sqlalchemy import and_, func, select

from content.ideas import Idea
from content.models import Article
from core.extensions import db
from insights.visits import _count, _ordered

WINDOW = timedelta(days=30)
MIN_VIEWS = 5
HIGH_EXIT_RATE = 0.5


def high_exit_pages(since: datetime, until: datetime, limit: int) -> list[Idea]:
    """The articles whose search entrances of the last WINDOW (within since..until) were
    the last page of their visit at least HIGH_EXIT_RATE of the time, from MIN_VIEWS
    entrances up; the highest rate first, then the most entrances."""
    ordered, entrance, exit_, in_period = _ordered(max(since, until - WINDOW), until)
    article_id = ordered.c.prev_ref
    counted = (
        select(
            article_id.label("article_id"),
            func.count().label("views"),
            _count(and_(entrance, exit_)).label("exits"),
            func.max(ordered.c.occurred_at).label("last_at"),
        )
        .where(*in_period, entrance, article_id.is_not(None))
        .group_by(article_id)
        .having(func.count() >= MIN_VIEWS)
        .subquery()
    )
    rate = counted.c.exits * 1.0 / counted.c.views
    rows = db.session.execute(
        select(Article.id, Article.title, Article.kind, counted.c.views, counted.c.exits, counted.c.last_at)
        .join(counted, counted.c.article_id == Article.id)
        .where(rate >= HIGH_EXIT_RATE)
        .order_by(rate.desc(), counted.c.views.desc(), Article.id)
        .limit(limit)
    ).all()
    return [
        Idea(f"exit:{id_}", title, int(views), last_at, kind, rate=int(exits) / int(views))
        for id_, title, kind, views, exits, last_at in rows
    ]
