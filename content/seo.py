"""What search engines and feed readers read: absolute URLs, page descriptions, JSON-LD
(Article, BreadcrumbList, FAQPage) — pure functions over an article and the site URL."""

import re
from datetime import UTC, datetime

from content.models import Article

DESCRIPTION_LENGTH = 160
# Categories that make a help article a page of questions and answers.
FAQ_CATEGORIES = {"常见问题", "faq", "q&a", "问答"}


def absolute(site_url: str, path: str) -> str:
    return site_url.rstrip("/") + path


def description(article: Article) -> str:
    """The meta description: the SEO field, else the summary, else the start of the text."""
    text = article.seo_description or article.summary or (article.body_text or "").replace("\n", " ")
    text = " ".join(text.split())
    return text if len(text) <= DESCRIPTION_LENGTH else text[: DESCRIPTION_LENGTH - 1].rstrip() + "…"


_IMG_SRC = re.compile(r"""<img\b[^>]*?\ssrc=["']([^"']+)["']""", re.IGNORECASE)


def share_image(article: Article, site_url: str) -> str | None:
    """The absolute URL of the article's first picture served by this site (for og:image),
    or None: a picture on another host may vanish or refuse hot-linking."""
    match = _IMG_SRC.search(article.body_html or "")
    if not match:
        return None
    src = match.group(1)
    if src.startswith(site_url.rstrip("/") + "/"):
        return src
    if src.startswith("/") and not src.startswith("//"):
        return absolute(site_url, src)
    return None


def page_title(article: Article) -> str:
    return article.seo_title or article.title


def iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=UTC).isoformat() if value else None


def is_faq(article: Article) -> bool:
    """A help article is Q&A when its category says so or its headings are questions."""
    if article.kind != "help" or not article.faq:
        return False
    if (article.category or "").strip().lower() in FAQ_CATEGORIES:
        return True
    return len(article.faq) >= 2 and len(article.faq) * 2 >= len(article.headings or [])


def breadcrumb_ld(site_url: str, crumbs: list[tuple[str, str]]) -> dict:
    """crumbs: (name, path) from the home page down to the article."""
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "name": str(name), "item": absolute(site_url, path)}
            for position, (name, path) in enumerate(crumbs, start=1)
        ],
    }


def article_ld(article: Article, site_url: str, site_name: str) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "BlogPosting" if article.kind == "blog" else "Article",
        "headline": article.title[:110],
        "description": description(article),
        "inLanguage": article.locale,
        "datePublished": iso(article.published_at),
        "dateModified": iso(article.updated_at),
        "mainEntityOfPage": absolute(site_url, article.url_path),
        "author": {"@type": "Organization", "name": site_name},
        "publisher": {"@type": "Organization", "name": site_name},
        "keywords": ", ".join(article.tags or []),
    }


def faq_ld(article: Article) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {
                "@type": "Question",
                "name": item["question"],
                "acceptedAnswer": {"@type": "Answer", "text": item["answer"]},
            }
            for item in article.faq
        ],
    }


def structured_data(
    article: Article, crumbs: list[tuple[str, str]], site_url: str, site_name: str
) -> list[dict]:
    """Every JSON-LD block of an article page."""
    blocks = [article_ld(article, site_url, site_name), breadcrumb_ld(site_url, crumbs)]
    if is_faq(article):
        blocks.append(faq_ld(article))
    return blocks
