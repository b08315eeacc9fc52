"""Help articles the assistant offered that did not help: rounds the visitor answered
"not yet". The count per article lifts it in the review queue
(content.freshness.add_queue_signal); one grouped query over the rounds' offered lists,
unnested by the database (json_each on SQLite, json_array_elements on PostgreSQL)."""

from datetime import datetime

from sqlalchemy import Integer, Select, cast, func, select, true

from assistant.models import Round
from core.extensions import db


def unhelpful_offers(since: datetime) -> Select:
    """(article_id, rounds that offered it and were answered "not yet") since `since`."""
    if db.engine.dialect.name == "postgresql":
        item = func.json_array_elements(Round.offered).table_valued("value")
        article_id = cast(item.c.value.op("->>")("id"), Integer)
    else:
        item = func.json_each(Round.offered).table_valued("value")
        article_id = cast(func.json_extract(item.c.value, "$.id"), Integer)
    return (
        select(article_id, func.count())
        .select_from(Round)
        .join(item, true())
        .where(Round.answer == "not_yet", Round.created_at >= since)
        .group_by(article_id)
    )
