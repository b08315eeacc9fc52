"""Making articles for tests through the real service (rendering, revisions, slugs)."""

from datetime import datetime, timedelta

from content.documents import article_defaults
from content.services import save_article
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
    return save_article(values, body, now=now)


# What the article editor posts (tests add "action").
ARTICLE_FORM = {
    "title": "如何提高续费率",
    "slug": "",
    "kind": "help",
    "locale": "zh-CN",
    "category": "客户成功",
    "tags": "续费，客户成功, NPS",
    "summary": "摘要",
    "body": "## 第一步\r\n\r\n正文<script>x()</script>",
    "published_at": "",
    "review_by": "",
    "translation_key": "",
    "seo_title": "",
    "seo_description": "",
    "sequence": "",
}
