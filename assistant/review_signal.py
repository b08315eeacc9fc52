"""Per-article figures of the assistant for other packages, each one grouped query over
the rounds' offered lists, unnested by the database (json_each on SQLite,
json_array_elements on PostgreSQL):

- help articles the assistant offered that did not help (rounds the visitor answered
  "not yet"), which lift an article in the review queue (content.freshness.add_queue_signal);
- deflections, the conversations in which the assistant offered an article and the
  visitor did not hand over to a person (a column of insights' content results,
  core.hooks.add_article_figure).
"""

from datetime import datetime

from sqlalchemy import Integer, Select, cast, func, select, true

from assistant.models import Conversation, Round
from core.extensions import db

# A conversation that reached these asked for a person.
HANDED_OVER = ("escalating", "escalated")


def _offered_articles(*conditions) -> Select:
    """(article_id, rounds) of the rounds matching `conditions` that offered it."""
    if db.engine.dialect.name == "postgresql":
        item = func.json_array_elements(Round.offered).table_valued("value")
        article_id = cast(item.c.value.op("->>")("id"), Integer)
    else:
        item = func.json_each(Round.offered).table_valued("value")
        article_id = cast(func.json_extract(item.c.value, "$.id"), Integer)
    return select(article_id, func.count()).select_from(Round).join(item, true()).where(*conditions)


def unhelpful_offers(since: datetime) -> Select:
    """(article_id, rounds that offered it and were answered "not yet") since `since`."""
    query = _offered_articles(Round.answer == "not_yet", Round.created_at >= since)
    return query.group_by(query.selected_columns[0])


def deflections(start: datetime, end: datetime) -> Select:
    """(article_id, conversations begun in [start, end) that offered it and were never
    handed to a person). An article is offered at most once per conversation (each
    round leaves out what was shown), so rounds count conversations."""
    query = _offered_articles(
        Round.conversation_id == Conversation.id,
        Conversation.created_at >= start,
        Conversation.created_at < end,
        Conversation.status.not_in(HANDED_OVER),
    )
    return query.group_by(query.selected_columns[0])
