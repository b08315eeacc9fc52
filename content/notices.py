"""Editorial notices: who is told what about an article's review.

When an article is sent to review, everyone who may publish (the reviewers: admins) is
told; when it is published, or returned to draft with a comment, its author is. Each
notice is a row shown in the person's staff home until they open the article, and a
staff mail: content cannot queue mail itself (nurture owns every outgoing message and
sits above it), so it sends `staff_mail_requested` and nurture queues the mail in the
same transaction.
"""

from datetime import datetime

from flask import current_app
from sqlalchemy import ForeignKey, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.timeutil import utcnow
from core.urls import absolute_url_for

# What happened, and the mail template that says it (content/templates/content/email/…).
KINDS = ("review", "published", "returned")
TEMPLATES = {kind: f"content/email/{kind}" for kind in KINDS}
# The workflow action that tells someone, and what it tells.
NOTICE_OF_ACTION = {"submit": "review", "publish": "published", "return": "returned"}


class Notice(db.Model):
    __tablename__ = "editorial_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    article = relationship("Article")
    actor = relationship("User", foreign_keys=[actor_id])


def reviewers() -> list:
    """Everyone who may publish: they review what editors send."""
    from accounts.models import User

    return list(db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True))))


def recipients(article, kind: str, actor) -> list:
    """Who a notice of `kind` about `article` goes to, never the person who acted."""
    people = reviewers() if kind == "review" else [article.owner] if article.owner is not None else []
    return [person for person in people if actor is None or person.id != actor.id]


def add_notices(article, action: str, *, actor, comment: str = "", now: datetime) -> list[Notice]:
    """Add (the caller commits) the notices a workflow action on `article` gives, and ask
    for their mails. An action that tells nobody adds nothing."""
    from content.signals import staff_mail_requested

    kind = NOTICE_OF_ACTION.get(action)
    if kind is None:
        return []
    added = []
    for person in recipients(article, kind, actor):
        notice = Notice(
            user_id=person.id,
            article_id=article.id,
            kind=kind,
            comment=comment,
            actor_id=actor.id if actor is not None else None,
            created_at=now,
        )
        db.session.add(notice)
        added.append(notice)
        if person.email:
            staff_mail_requested.send(
                current_app._get_current_object(),
                to=person.email,
                template=TEMPLATES[kind],
                context={
                    "title": article.title,
                    "comment": comment,
                    "actor": actor.display_name if actor is not None else "",
                    "article_url": absolute_url_for("content_admin.edit", article_id=article.id),
                    "locale": current_app.config["DEFAULT_LOCALE"].replace("_", "-"),
                },
                now=now,
            )
    return added


def unread(user_id: int, *, limit: int = 10) -> list[Notice]:
    """The person's notices not yet seen, newest first."""
    return list(
        db.session.scalars(
            select(Notice)
            .where(Notice.user_id == user_id, Notice.read_at.is_(None))
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        )
    )


def mark_read(user_id: int, article_id: int, *, now: datetime) -> None:
    """The person opened the article: its notices to them are seen (committed)."""
    result = db.session.execute(
        update(Notice)
        .where(Notice.user_id == user_id, Notice.article_id == article_id, Notice.read_at.is_(None))
        .values(read_at=now)
    )
    if result.rowcount:
        db.session.commit()


def home_panel(user):
    """The staff home's list of what waits for this person (left out when nothing does)."""
    from flask import url_for
    from flask_babel import gettext as _
    from markupsafe import Markup

    from core.home import Row, panel
    from core.localtime import local_time

    waiting = unread(user.id)
    if not waiting:
        return Markup("")
    says = {
        "review": _("Waiting for your review: %(title)s"),
        "published": _("Published: %(title)s"),
        "returned": _("Returned to you: %(title)s"),
    }
    rows = [
        Row(
            says[notice.kind] % {"title": notice.article.title}
            + (f" — {notice.comment}" if notice.comment else ""),
            url_for("content_admin.edit", article_id=notice.article_id),
            note=local_time(notice.created_at),
            urgent=notice.kind != "published",
        )
        for notice in waiting
    ]
    return panel("editorial-notices", _("For you"), rows=rows)
