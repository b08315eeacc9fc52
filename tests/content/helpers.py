"""Making articles for tests through the real service (rendering, revisions, slugs)."""

from datetime import datetime, timedelta

from content import services
from core.timeutil import utcnow

BASE = {
    "title": "测试文章",
    "kind": "help",
    "locale": "zh-CN",
    "category": "",
    "tags": [],
    "summary": "",
    "status": "published",
    "featured": False,
    "translation_key": "",
    "seo_title": "",
    "seo_description": "",
    "asset_source": "",
    "sequence_slug": "",
    "review_by": None,
}


def make_article(body="正文", *, now: datetime | None = None, **fields):
    """A saved article (published a day ago unless told otherwise)."""
    now = now or utcnow()
    values = {**BASE, "published_at": now - timedelta(days=1), **fields}
    return services.save_article(values, body, now=now)
