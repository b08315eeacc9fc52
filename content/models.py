"""Articles and their revisions.

An article is one piece of Markdown of one kind (help, whitepaper, case-study, solution,
blog, video) in one locale. Its HTML is rendered and sanitised on save and stored, never per
request.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.timeutil import utcnow

KINDS = ("help", "whitepaper", "case-study", "solution", "blog", "video")
STATUSES = ("draft", "in_review", "published", "archived")
LOCALES = ("zh-CN", "en")


def other_locale(locale: str) -> str:
    """The site's other language (zh-CN for en, en for zh-CN): what a page in one
    language offers apart, never mixed in."""
    return next(other for other in LOCALES if other != locale)


# The public URL prefix of each kind (the URL contract, docs/CONTENT.md).
KIND_PREFIX = {
    "help": "help",
    "whitepaper": "library",
    "case-study": "cases",
    "solution": "solutions",
    "blog": "blog",
    "video": "videos",
}


class Article(db.Model):
    __tablename__ = "articles"
    __table_args__ = (Index("ix_articles_kind_status_published_at", "kind", "status", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN")
    # Articles that are translations of each other share a translation_key.
    translation_key: Mapped[str | None] = mapped_column(String(120), index=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(120), default="", index=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    toc_html: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    reading_minutes: Mapped[int] = mapped_column(default=1)
    # Derived on save with the HTML: [{"level", "id", "title"}] and, for Q&A pages,
    # [{"question", "answer"}] (FAQPage JSON-LD).
    headings: Mapped[list] = mapped_column(JSON, default=list)
    faq: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    featured: Mapped[bool] = mapped_column(default=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    review_by: Mapped[datetime | None]
    # Content operations (content.teams, content.standards, content.freshness): the
    # owning team, when someone last confirmed the article is still right, and the
    # reviewer's checklist items ticked so far (cleared when the article is published).
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    verified_at: Mapped[datetime | None]
    checklist: Mapped[list | None] = mapped_column(JSON)
    seo_title: Mapped[str] = mapped_column(String(300), default="")
    seo_description: Mapped[str] = mapped_column(String(500), default="")
    # White papers: the gated file named in front matter and the nurture sequence a
    # download enrols into (by slug: the sequence may be imported later).
    asset_source: Mapped[str] = mapped_column(String(500), default="")
    sequence_slug: Mapped[str] = mapped_column(String(120), default="")
    # The slugs of the articles an editor chose to show as related, in order (the page
    # fills the rest from the category and tags: content.public.related_articles).
    related: Mapped[list | None] = mapped_column(JSON, default=list)
    # Videos (content.video): an uploaded file (its stored name) or a platform's page URL,
    # the chapters [{"t": seconds, "title"}], the transcript (Markdown, rendered and
    # sanitised on save like the body) and the minutes free before the lead form.
    video_file: Mapped[str] = mapped_column(String(200), default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    chapters: Mapped[list | None] = mapped_column(JSON, default=list)
    transcript_md: Mapped[str] = mapped_column(Text, default="")
    transcript_html: Mapped[str] = mapped_column(Text, default="")
    transcript_text: Mapped[str] = mapped_column(Text, default="")
    free_minutes: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    owner = relationship("User", lazy="joined")

    def is_public(self, now: datetime) -> bool:
        """Published and not scheduled for later."""
        return self.status == "published" and self.published_at is not None and self.published_at <= now

    @property
    def url_path(self) -> str:
        return f"/{KIND_PREFIX[self.kind]}/{self.slug}"


class Revision(db.Model):
    """One row per save: who, when, and the whole article as it was."""

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(300))
    body_md: Mapped[str] = mapped_column(Text, default="")
    # Every other field as saved (front matter), so a restore brings all of it back.
    fields: Mapped[dict] = mapped_column(JSON, default=dict)

    author = relationship("User")


class Feedback(db.Model):
    """A reader's answer to "was this helpful?", with an optional comment."""

    __tablename__ = "article_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
