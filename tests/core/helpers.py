"""Helpers shared by this package's tests."""


def services_fields(article):
    return {
        name: getattr(article, name)
        for name in (
            "kind",
            "locale",
            "category",
            "tags",
            "summary",
            "status",
            "featured",
            "translation_key",
            "seo_title",
            "seo_description",
            "asset_source",
            "sequence_slug",
            "review_by",
            "published_at",
            "slug",
        )
    }
