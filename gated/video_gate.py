"""A gated video: the lead form after the free minutes, and the whole file for a lead.

A video article with `free_minutes` and an uploaded file shows its file at a public
address (content.views.video_media) and the white paper's lead form under the player
(through core.hooks.article_gate); the player stops at the end of the free minutes
(static/js/video-player.js). A submission is captured as a white paper's is, but as its
own form type ("video", with the video's article) so reports tell video leads from white
paper leads; then the visitor lands on the watch page, whose player reads the file through a signed, expiring
address (the purpose and lifetime of a download link).

What this does not stop, said in docs/CONTENT.md too: the free part is kept by the
player, not the server, so a determined viewer can fetch the public file's bytes.
"""

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for
from markupsafe import Markup

from content import video
from content.models import Article
from content.public import get_public_article
from core.extensions import db
from core.ids import token_id
from core.pagecache import remembered
from core.security import csrf_by_origin
from core.timeutil import utcnow
from core.tokens import InvalidToken, sign, unsign
from gated import lead_form, views, visitor
from gated.models import Lead

bp = Blueprint("gated_video", __name__, template_folder="templates")
PURPOSE = "video-watch"
# The white paper's fields and checks, under a form type of its own.
FORM_KIND = "video"


def is_gated(article) -> bool:
    return article.kind == "video" and bool(article.free_minutes) and bool(article.video_file)


def is_gated_video(slug: str) -> bool:
    """Whether `slug` is a public gated video (where a held submission, confirmed later,
    lands through the white paper's thank-you address)."""
    article = get_public_article("video", slug, now=utcnow())
    return article is not None and is_gated(article)


def gate_form(article) -> str:
    """The lead form under a gated video's player (core.hooks.article_gate), or ""."""
    if not is_gated(article):
        return ""
    return Markup(
        lead_form.form_html(FORM_KIND, "gated/_video_gate.html", lead_form.new_form(), None, article=article)
    )


@bp.url_value_preprocessor
def cap_form_size(endpoint, values):
    """The form is small (FORM_MAX_BYTES), as every lead form's."""
    if request.method == "POST":
        request.max_content_length = current_app.config["FORM_MAX_BYTES"]


def _gated_or_404(slug: str) -> Article:
    article = get_public_article("video", slug, now=utcnow())
    if article is None or not is_gated(article):
        abort(404)
    return article


def _watch_redirect(kind, slug, lead_id, submission_id, *, mailed=True):
    token = visitor.thanks_token(lead_id, submission_id, mailed=mailed)
    return redirect(url_for("gated_video.watch", slug=slug, t=token), 303)


@bp.post("/videos/<slug>/watch")
@views.public_post
@csrf_by_origin
def watch_form(slug: str):
    """The lead form of a gated video: captured as a white paper's, then the watch page."""

    if not remembered(("video-gate", slug), lambda: is_gated_video(slug)):
        abort(404)
    article = _gated_or_404(slug)
    return lead_form.submit(
        FORM_KIND,
        "gated/video_form.html",
        slug=slug,
        page=lambda: {"article": article},
        thanks=_watch_redirect,
        article_id=article.id,
    )


@bp.get("/videos/<slug>/watch")
def watch(slug: str):
    """The whole video for the visitor who just left their details (the thank-you
    token of their submission); anyone else goes back to the free minutes."""
    article = _gated_or_404(slug)
    submission = visitor.thanks_submission(request.args.get("t"))
    if submission is None:
        return redirect(article.url_path, 303)
    shown = video.player(article)
    token = sign(PURPOSE, {"l": submission.lead_id, "a": article.id})
    shown.update(src=url_for("gated_video.media", token=token), free_seconds=0)
    response = make_response(render_template("gated/video_watch.html", article=article, video=shown))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/videos/full/<token>")
def media(token: str):
    """A lead's whole video, by a signed address that expires as download links do."""
    try:
        payload = unsign(PURPOSE, token, max_age=current_app.config["DOWNLOAD_LINK_MAX_AGE"])
    except InvalidToken as exc:
        return render_template("gated/notice.html", notice="invalid"), 410 if exc.expired else 400
    article_id = token_id(payload.get("a")) if isinstance(payload, dict) else None
    lead_id = token_id(payload.get("l")) if isinstance(payload, dict) else None
    article = db.session.get(Article, article_id) if article_id else None
    if (
        article is None
        or lead_id is None
        or db.session.get(Lead, lead_id) is None
        or not article.is_public(utcnow())
        or not video.is_video_name(article.video_file)
    ):
        abort(404)
    return video.send_video(current_app.config["VIDEO_DIR"], article.video_file, private=True)
