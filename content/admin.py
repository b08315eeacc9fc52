"""The editor: /admin/content/ — the list, the edit form with preview, the workflow
buttons, revisions (diff and restore) and uploads. Editors and admins only.

Views parse the form, call one service and render; the role rules live in
content.workflow (allowed_actions), so the buttons shown and the actions accepted agree.
"""

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from accounts.guards import roles_required
from accounts.models import User
from content import notices, uploads, video
from content.bounds import TooComplex
from content.documents import DocumentError, Problem, from_utc, normalise_body, validate_fields
from content.editor import asset_options, editor_extras, picked, sequence_options
from content.feedback import feedback_counts
from content.forms import KIND_LABELS, STATUS_LABELS, ArticleForm, UploadForm
from content.models import KINDS, STATUSES, Article, Revision
from content.revision_notes import note_words
from content.revisions import restore_revision, revision_diff
from content.services import (
    bulk_transition,
    editor_articles,
    is_stale,
    related_choices,
    render_body,
    save_article,
)
from content.standards import checklist_kinds, standard_for
from content.teams import team_names
from content.workflow import ACTIONS, ContentError, NotAllowed, allowed_actions, can_edit
from core.extensions import db
from core.hooks import article_panels
from core.ids import record_id
from core.listing import Sort, bulk_request, chosen_sort, list_args, request_page
from core.localtime import zone
from core.signals import send_staff_action
from core.timeutil import utcnow
from core.views import safe_next

admin_bp = Blueprint("content_admin", __name__, url_prefix="/admin/content", template_folder="templates")
EDITORS = ("editor",)
PAGE_SIZE = 50


def _timezone() -> str:
    """The editor's own zone (else the site's): dates typed in the form mean what the
    editor's clock says, as every time the admin shows them does."""
    return str(zone())


def _local_input(value, with_time: bool) -> str:
    local = from_utc(value, _timezone())
    if local is None:
        return ""
    if not with_time:
        return local.strftime("%Y-%m-%d") if hasattr(local, "strftime") else str(local)
    return local.strftime("%Y-%m-%dT%H:%M") if hasattr(local, "hour") else f"{local.isoformat()}T00:00"


# The editor's list orders (?sort=), the first the default.
SORTS = [
    Sort("updated", Article.updated_at),
    Sort("updated_asc", Article.updated_at, descending=False),
    Sort("title", Article.title, descending=False),
    Sort("title_desc", Article.title),
]
BULK_ACTIONS = ("publish", "archive")
MAX_BULK = 200


@admin_bp.get("/")
@roles_required(*EDITORS)
def index():
    now = utcnow()
    kind = request.args.get("kind", "") if request.args.get("kind") in KINDS else ""
    status = request.args.get("status", "") if request.args.get("status") in STATUSES else ""
    owner_id = request.args.get("owner", type=record_id)
    team_id = request.args.get("team", type=record_id)
    stale = request.args.get("stale") == "1"
    q = (request.args.get("q") or "").strip()[:200]
    sort = chosen_sort(SORTS, request.args.get("sort"))
    query = editor_articles(
        q=q, kind=kind, status=status, owner_id=owner_id, team_id=team_id, stale=stale, now=now
    )
    page = request_page(query, sort=sort, id_column=Article.id, per_page=PAGE_SIZE, session=db.session)
    owners = db.session.scalars(
        select(User).where(User.role.in_(("admin", "editor"))).order_by(User.email)
    ).all()
    filters = {
        "q": q,
        "kind": kind,
        "status": status,
        "owner": owner_id,
        "team": team_id,
        "stale": "1" if stale else "",
    }
    filter_args = {name: value for name, value in filters.items() if value}
    return render_template(
        "content/admin/index.html",
        page=page,
        owners=owners,
        owner_names={user.id: user.display_name for user in owners},
        owner_choices=[(user.id, user.display_name) for user in owners],
        team_choices=list(team_names().items()),
        filters=filters,
        filter_args=filter_args,
        args=list_args(filter_args, sort, SORTS),
        sort=sort.key,
        kinds=KIND_LABELS,
        statuses=STATUS_LABELS,
        now=now,
        is_stale=is_stale,
        bulk_actions=[ACTIONS[name] for name in BULK_ACTIONS] if current_user.has_role("admin") else [],
    )


@admin_bp.post("/bulk")
@roles_required("admin")
def bulk():
    """Publish or archive the ticked articles, each through the same workflow checks."""
    ticked = bulk_request(request.form, "article", limit=MAX_BULK, fallback=url_for("content_admin.index"))
    action = request.form.get("action", "")
    back = ticked.back
    if action not in BULK_ACTIONS or not ticked.ids:
        flash(_("Tick the articles and choose what to do with them."), "error")
        return redirect(back)
    done, refused = bulk_transition(ticked.ids, action, user=current_user, now=utcnow())
    flash(_("%(n)d articles changed.", n=done), "success")
    if refused:
        flash(_("%(n)d could not change from their status.", n=refused), "error")
    return redirect(back)


def _form_for(article: Article | None) -> ArticleForm:
    form = ArticleForm()
    if request.method == "GET":
        if article is not None:
            for name in ArticleForm.FRONT_MATTER:
                attribute = ArticleForm.ATTRIBUTES.get(name, name)
                getattr(form, name).data = getattr(article, attribute)
            form.tags.data = ", ".join(article.tags or [])
            form.chapters.data = "\n".join(video.chapter_lines(article.chapters))
            form.free_minutes.data = str(article.free_minutes or "")
            form.body.data = article.body_md
            form.published_at.data = _local_input(article.published_at, True)
            form.review_by.data = _local_input(article.review_by, False)
        else:
            form.kind.data = request.args.get("kind") if request.args.get("kind") in KINDS else "help"
            form.locale.data = current_app.config["DEFAULT_LOCALE"].replace("_", "-")
            form.body.data = standard_for(
                form.kind.data
            ).template  # a new article starts from its kind's template
    return form


def _render_editor(form, article, *, preview=None, status=200, comment_error=""):
    user = current_user._get_current_object()
    form.sequence.choices = sequence_options(form.sequence.data or "")
    form.library_file.choices = asset_options()
    form.related.choices = related_choices(article, form.locale.data or "zh-CN")
    actions = allowed_actions(user, article)
    # Who may publish a new article ticks its checklist on the form, to publish it at once
    # (an existing article's is on its review panel).
    kinds_of_item = {}
    if article is None and any(action.name == "publish" for action in actions):
        kinds_of_item = checklist_kinds()
        form.checklist.choices = [(item, item) for item in kinds_of_item]
    return (
        render_template(
            "content/admin/edit.html",
            form=form,
            article=article,
            actions=actions,
            checklist_kinds=kinds_of_item,
            can_edit=can_edit(user, article),
            preview=preview,
            feedback=feedback_counts(article.id) if article else None,
            panels=article_panels(current_app, article) if article else [],
            statuses=STATUS_LABELS,
            upload_form=UploadForm(),
            max_upload=current_app.config["CONTENT_UPLOAD_MAX_BYTES"],
            comment_error=comment_error,
            **editor_extras(article),
        ),
        status,
    )


def _preview_html(body: str) -> str:
    """The body as a save would render it; raises TooComplex past the Markdown bounds."""
    return render_body(normalise_body(body)).html


# The workflow actions that change what the public sees (the audit log records them).
AUDITED_ACTIONS = ("publish", "unpublish", "archive", "return")


@admin_bp.url_value_preprocessor
def room_for_a_video(endpoint, values):
    """The editor's form may carry a video (VIDEO_MAX_BYTES and its fields); set before
    CSRFProtect reads the form, under the site-wide limit otherwise."""
    if endpoint == "content_admin.edit" and request.method == "POST":
        config = current_app.config
        request.max_content_length = max(
            config["MAX_CONTENT_LENGTH"], config["VIDEO_MAX_BYTES"] + 1024 * 1024
        )


@admin_bp.route("/new", methods=["GET", "POST"])
@admin_bp.route("/<int:article_id>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(article_id: int | None = None):
    article = db.get_or_404(Article, article_id) if article_id else None
    form = _form_for(article)
    if request.method == "GET":
        if article is not None:
            notices.mark_read(current_user.id, article.id, now=utcnow())
        return _render_editor(form, article)
    action = request.form.get("action", "save")
    comment = (request.form.get("review_comment") or "").strip()[:2000]
    if action == "return" and not comment:
        form.validate()
        return _render_editor(
            form, article, comment_error=_("Say what should change before returning it."), status=422
        )
    if action == "preview":
        try:
            return _render_editor(form, article, preview=_preview_html(form.body.data or ""))
        except TooComplex as exc:
            return _show_problems(form, article, [Problem(exc.message, None, "body")])
    if not form.validate():
        return _render_editor(form, article, status=422)
    offered = {slug for slug, _title in related_choices(article, form.locale.data or "zh-CN")}
    if set(form.related.data or []) - offered:
        form.related.errors = [_("Choose related articles from the list: published ones in this language.")]
        return _render_editor(form, article, status=422)
    fields, problems = validate_fields(
        form.front_matter(), default_locale=current_app.config["DEFAULT_LOCALE"], timezone=_timezone()
    )
    if article is not None:
        if not fields.get("slug"):
            fields.pop("slug", None)  # left empty: the article keeps its address
        fields["asset_source"] = article.asset_source
        keep = fields.get("kind") == "video" and not form.remove_video.data
        fields["video_file"] = article.video_file if keep else ""
    if problems:
        return _show_problems(form, article, problems)
    if form.gated_file.data and form.gated_file.data.filename:
        try:
            stored = uploads.save(
                form.gated_file.data, _asset_sources(), max_bytes=current_app.config["MAX_CONTENT_LENGTH"]
            )
        except uploads.UploadError as exc:
            if exc.status == 413:
                abort(413)
            form.gated_file.errors = [_("The file is empty.")]
            return _render_editor(form, article, status=422)
        fields["asset_source"] = str(stored)
    elif form.library_file.data:
        chosen = picked("asset", form.library_file.data)
        if chosen is None:
            form.library_file.errors = [_("Choose one of the files listed.")]
            return _render_editor(form, article, status=422)
        fields["asset_source"] = chosen
    uploaded = None
    if form.video_upload.data and form.video_upload.data.filename:
        try:
            if fields.get("kind") != "video":
                raise video.VideoError(_("A video file is only for videos (kind: video)."))
            uploaded = video.save_video(
                form.video_upload.data,
                current_app.config["VIDEO_DIR"],
                max_bytes=current_app.config["VIDEO_MAX_BYTES"],
            )
        except video.VideoError as exc:
            return _show_problems(form, article, [Problem(exc.message, None, "video_upload")])
        fields["video_file"] = uploaded.name
    try:
        saved = save_article(
            fields,
            normalise_body(form.body.data or ""),
            article=article,
            user=current_user._get_current_object(),
            action=action if action in ACTIONS else "save",
            now=utcnow(),
            comment=comment,
            checklist=form.checklist.data if article is None else None,
        )
    except DocumentError as exc:
        _forget(uploaded)
        return _show_problems(form, article, exc.problems)
    except ContentError as exc:
        _forget(uploaded)
        flash(str(exc), "error")
        return _render_editor(form, article, status=403 if isinstance(exc, NotAllowed) else 409)
    if action in AUDITED_ACTIONS:
        send_staff_action(
            f"content.{action}", user=current_user, target=f"article:{saved.id}", details={"slug": saved.slug}
        )
    flash(
        _("Saved: %(title)s (%(status)s).", title=saved.title, status=STATUS_LABELS[saved.status]), "success"
    )
    return redirect(url_for("content_admin.edit", article_id=saved.id), code=303)


def _forget(uploaded: Path | None) -> None:
    """A video stored for a save that was refused: nothing half-saved stays behind."""
    if uploaded is not None:
        uploaded.unlink(missing_ok=True)


# Problems of attributes the form edits under another name.
PROBLEM_FIELDS = {"video_file": "video_upload"}


def _show_problems(form, article, problems):
    for problem in problems:
        target = getattr(form, PROBLEM_FIELDS.get(problem.field, problem.field or ""), None) or form.title
        target.errors = [*target.errors, str(problem.message)]
    flash(_("Please correct the marked fields."), "error")
    return _render_editor(form, article, status=422)


def _asset_sources() -> Path:
    """Gated files as uploaded, outside every public folder; the gated package copies
    them into its store when it sees article_changed."""
    return Path(current_app.instance_path) / "asset-sources"


@admin_bp.post("/preview")
@roles_required(*EDITORS)
def preview():
    """The live preview: the same pipeline as a save, nothing stored. A body past the
    Markdown bounds answers 422 with the message the save would show beside the body."""
    try:
        return jsonify({"html": _preview_html(request.form.get("body", ""))})
    except TooComplex as exc:
        return jsonify({"error": str(exc.message), "field": "body"}), 422


@admin_bp.get("/<int:article_id>/revisions")
@roles_required(*EDITORS)
def revisions(article_id: int):
    article = db.get_or_404(Article, article_id)
    rows = db.session.scalars(
        select(Revision)
        .where(Revision.article_id == article.id)
        .order_by(Revision.created_at.desc(), Revision.id.desc())
    ).all()
    selected = request.args.get("rev", type=int)
    current = next((row for row in rows if row.id == selected), rows[0] if rows else None)
    diff = []
    if current is not None:
        older = rows[rows.index(current) + 1] if rows.index(current) + 1 < len(rows) else None
        diff = revision_diff(older, current, _timezone())
    return render_template(
        "content/admin/revisions.html",
        article=article,
        revisions=rows,
        current=current,
        diff=diff,
        can_edit=can_edit(current_user, article),
        revision_note=note_words,
    )


@admin_bp.post("/<int:article_id>/revisions/<int:revision_id>/restore")
@roles_required(*EDITORS)
def restore(article_id: int, revision_id: int):
    revision = db.session.get(Revision, revision_id)
    if revision is None or revision.article_id != article_id:
        abort(404)
    try:
        restore_revision(revision, user=current_user._get_current_object(), now=utcnow())
    except NotAllowed as exc:
        flash(str(exc), "error")
        return redirect(url_for("content_admin.revisions", article_id=article_id), code=303)
    flash(_("Revision restored."), "success")
    return redirect(url_for("content_admin.edit", article_id=article_id), code=303)


@admin_bp.post("/uploads")
@roles_required(*EDITORS)
def upload():
    """Store an image or file for articles; answer with its URL (JSON) or a page that
    shows the Markdown to paste (without JavaScript)."""
    limit = current_app.config["CONTENT_UPLOAD_MAX_BYTES"]
    if request.content_length and request.content_length > limit + 64 * 1024:
        abort(413)
    form = UploadForm()
    if not form.validate():
        abort(400)
    try:
        stored = uploads.save(form.file.data, current_app.config["UPLOAD_DIR"], max_bytes=limit)
    except uploads.UploadError as exc:
        if exc.status == 413:
            abort(413)
        flash(_("Choose a file to upload."), "error")
        return redirect(url_for("content_admin.index"), code=303)
    url = url_for("content.uploaded", name=stored.name)
    alt = Path(form.file.data.filename).stem
    markdown = f"![{alt}]({url})" if uploads.is_inline(stored.name) else f"[{form.file.data.filename}]({url})"
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"url": url, "markdown": markdown}), 201
    back = safe_next(
        request.referrer and urlsplit(request.referrer)._replace(scheme="", netloc="").geturl(),
        url_for("content_admin.index"),
    )
    return render_template("content/admin/uploaded.html", url=url, markdown=markdown, back=back), 201
