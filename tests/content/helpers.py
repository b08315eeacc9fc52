"""Making articles for tests through the real service (rendering, revisions, slugs)."""

from datetime import datetime, timedelta

from content import services
from content.documents import article_defaults
from core.timeutil import utcnow

BASE = {
    **article_defaults(),
    "title": "测试文章",
    "kind": "help",
    "locale": "zh-CN",
    "status": "published",
}


def make_article(body="正文", *, now: datetime | None = None, **fields):
    """A saved article (published a day ago unless told otherwise)."""
    now = now or utcnow()
    values = {**BASE, "published_at": now - timedelta(days=1), **fields}
    return services.save_article(values, body, now=now)
