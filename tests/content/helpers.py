"""What the article editor posts, for the content tests (articles themselves: tests.factories.make_article)."""

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
