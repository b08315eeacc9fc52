"""What the editor page offers beyond the article's own fields: a signed preview link to
share a draft with someone who has no login, and the pickers' choices (categories in use,
and whatever later packages offer, e.g. nurture's sequences), so nobody types a slug.

A preview link carries the article's id, signed with its own purpose and expiring after
CONTENT_PREVIEW_LINK_HOURS; it shows the article as it is when opened (the latest save),
never indexed or cached.
"""

from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from content import standards
from content.models import Article
from content.video import EMBED_HOSTS
from core.extensions import db
from core.ids import record_id
from core.security import content_security_policy
from core.timeutil import utcnow
from core.tokens import InvalidToken, sign, unsign
from core.urls import absolute_url_for

PURPOSE = "article-preview"
PICKERS_KEY = "content.pickers"

preview_bp = Blueprint("content_preview", __name__, template_folder="templates")


def add_picker(
    app,
    field: str,
    choices: Callable[[], list[tuple[str, str]]],
    resolve: Callable[[str], str | None] | None = None,
) -> None:
    """A later package offers the choices of an editor field: `choices()` returns
    (value, label) pairs, e.g. nurture's sequences for `sequence`; `resolve(value)` turns
    a chosen value into what the article stores, when that is not the value itself (the
    gated file an asset id names)."""
    app.extensions.setdefault(PICKERS_KEY, {})[field] = (choices, resolve)


def picker_choices(field: str) -> list[tuple[str, str]] | None:
    """The choices offered for `field`, or None when no package offers any."""
    picker = current_app.extensions.get(PICKERS_KEY, {}).get(field)
    return picker[0]() if picker else None


def picked(field: str, value: str) -> str | None:
    """What the article stores for a value chosen in `field`'s picker; None for a value
    that was not offered (a forged form may name anything: never trust it)."""
    picker = current_app.extensions.get(PICKERS_KEY, {}).get(field)
    if not picker or not value or value not in {choice for choice, _label in picker[0]()}:
        return None
    return picker[1](value) if picker[1] else value


def categories() -> list[str]:
    """Every category in use, for the category field's suggestions."""
    return list(
        db.session.scalars(
            select(Article.category).where(Article.category != "").distinct().order_by(Article.category)
        )
    )


def preview_link(article: Article) -> str:
    """An absolute, signed, expiring link to the article as it is (draft or not)."""
    # On SITE_URL, never the request's Host header (core.urls).
    return absolute_url_for("content_preview.show", token=sign(PURPOSE, {"article": article.id}))


def lifetime() -> timedelta:
    return timedelta(hours=current_app.config["CONTENT_PREVIEW_LINK_HOURS"])


def sequence_options(current: str) -> list[tuple[str, str]]:
    """The sequence picker's options: none, each offered sequence, and the current value
    even when no package offers it (an imported article may name one not yet there)."""
    from flask_babel import gettext as _

    offered = picker_choices("sequence") or []
    options = [("", _("None")), *offered]
    if current and current not in {value for value, _label in offered}:
        options.append((current, current))
    return options


def editor_labels() -> dict:
    """The Markdown editor's toolbar and messages, translated (static/js/markdown-editor.js)."""
    from flask_babel import gettext as _

    return {
        "bold": _("Bold (Ctrl+B)"),
        "italic": _("Italic (Ctrl+I)"),
        "heading": _("Heading"),
        "quote": _("Quote"),
        "bullets": _("Bulleted list"),
        "numbers": _("Numbered list"),
        "link": _("Link (Ctrl+K)"),
        "image": _("Upload an image"),
        "table": _("Insert a table"),
        "code": _("Code"),
        "preview": _("Preview"),
        "side": _("Side by side"),
        "save": _("Save (Ctrl+S)"),
        "uploading": _("Uploading…"),
        "uploaded": _("Uploaded."),
        "failed": _("The upload failed."),
        "too_large": _("The file is too large."),
        "not_image": _("Only images can be pasted."),
        "column": _("Column"),
        "text": _("Text"),
    }


def asset_options() -> list[tuple[str, str]]:
    """The gated-file picker's options: keep the current file, or one already stored."""
    from flask_babel import gettext as _

    return [("", _("Keep the current file")), *(picker_choices("asset") or [])]


def editor_extras(article: Article | None) -> dict:
    """The editor template's values beyond the form."""
    return {
        "editor_labels": editor_labels(),
        "preview_link": preview_link(article) if article is not None else "",
        "preview_expires": utcnow() + lifetime() if article is not None else None,
        "categories": categories(),
        "still_needed": (
            standards.still_needed(article)
            if article is not None and article.status in ("draft", "in_review")
            else []
        ),
    }


@preview_bp.get("/preview/<token>")
def show(token: str):
    """The shared preview of a draft: the public article page, marked as a preview, for
    anyone with the link until it expires."""
    from content.views import render_article

    try:
        payload = unsign(PURPOSE, token, max_age=int(lifetime().total_seconds()))
    except InvalidToken as exc:
        return render_template(
            "content/preview_expired.html", expired=exc.expired
        ), 410 if exc.expired else 404
    article_id = record_id(payload.get("article")) if isinstance(payload, dict) else None
    article = db.session.get(Article, article_id) if article_id else None
    if article is None:
        abort(404)
    response = current_app.make_response(render_article(article, now=utcnow(), preview=True))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    if article.kind == "video":  # a video's players, as on its public page
        response.headers["Content-Security-Policy"] = content_security_policy(current_app, frames=EMBED_HOSTS)
    return response
