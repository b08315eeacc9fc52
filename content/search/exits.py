"""Pages people leave after a search: a search result opened, then the same visit
searching again, which says the page did not answer. The count per article lifts it in
the review queue (content.freshness.add_queue_signal)."""

from datetime import datetime

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import aliased

from content.search.models import SearchQuery


def searched_again(since: datetime) -> Select:
    """(article_id, opens followed by another search in the same visit) since `since`."""
    later = aliased(SearchQuery)
    return (
        select(SearchQuery.clicked_article_id, func.count())
        .where(
            SearchQuery.clicked_article_id.is_not(None),
            SearchQuery.clicked_at >= since,
            SearchQuery.visit != "",
            exists().where(
                and_(
                    later.visit == SearchQuery.visit,
                    later.id != SearchQuery.id,
                    later.created_at > SearchQuery.clicked_at,
                )
            ),
        )
        .group_by(SearchQuery.clicked_article_id)
    )
