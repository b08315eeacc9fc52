"""Lead forms on other sites (see gated.embedding and docs/LEADS.md, "Embedding"):

    GET  /embed.js                       the one-line script: mounts the form where it stands
    GET  /embed/<form>                   the form alone, for a frame (cacheable: the same bytes
                                         for every visitor; embed-frame.js adds the host page)
    POST /embed/<form>                   its submission: the own-site form's whole flow
    GET  /embed/thanks/<form>?t=…        the thank-you page in the frame, download link included
    GET  /embed/about/<form>             JSON for embed.js, readable (CORS) by allowed origins only

<form> is library/<slug>, demo-request or newsletter. Every route answers with CORS
headers (flask-cors) and a frame-ancestors policy for exactly the form's allowed origins.
"""

import re
from functools import wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_cors import cross_origin

from core.i18n import page_language
from core.pagecache import cached_page
from core.security import csrf_by_origin, embeddable_by
from core.timeutil import utcnow
from gated import embedding, lead_form, views, visitor
from gated.capture import landing_facts
from gated.downloads import link_days, make_download_url
from gated.embedding import EmbeddedForm
from gated.visitor import COOKIE

bp = Blueprint("gated_embed", __name__, template_folder="templates")


def _form_or_404(path: str) -> EmbeddedForm:
    form = embedding.form_for_path(path)
    if form is None:
        abort(404)
    return form


def host_origin() -> str | None:
    """The host site of this request: the Origin a page of another site sends, or the
    origin of the page that framed the form (its Referer)."""
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return embedding.normalise_origin(origin)
    if request.referrer:
        return embedding.normalise_origin(request.referrer)
    return None


def _own_origins() -> set[str]:
    return {
        embedding.normalise_origin(request.host_url),
        embedding.normalise_origin(current_app.config["SITE_URL"]),
    }


def for_allowed_origins(view):
    """CORS (flask-cors) and frame-ancestors for exactly the form's allowed origins, and
    the host's sighting recorded (at most every few minutes per process)."""

    @wraps(view)
    def wrapper(form, **kwargs):
        allowed = embedding.allowed_origins(_form_or_404(form).path)
        host = host_origin()
        if host in allowed:
            embedding.record_sighting(form, host, now=utcnow())
        # Exact patterns: flask-cors reads a plain string with [ or ] (an IPv6 host) as a
        # regular expression; a compiled one is matched as written, and gets Vary: Origin.
        patterns = [re.compile(re.escape(origin) + r"\Z", re.IGNORECASE) for origin in sorted(allowed)]
        cors = cross_origin(origins=patterns, methods=["GET", "POST"], vary_header=True)
        response = cors(view)(form=form, **kwargs)
        # flask-cors adds its Vary: Origin as a header of its own: one header for caches.
        varies = [value for header in response.headers.getlist("Vary") for value in header.split(",")]
        response.headers["Vary"] = ", ".join(
            dict.fromkeys(value.strip() for value in varies if value.strip())
        )
        if not response.headers["Vary"]:
            del response.headers["Vary"]
        embeddable_by(response, allowed)
        return response

    return wrapper


def _allowed_for_form(form: str) -> frozenset[str]:
    return embedding.allowed_origins(_form_or_404(form).path)


def _article_context(form: EmbeddedForm) -> dict:
    if form.kind != "whitepaper":
        return {}
    article, asset = views.whitepaper_or_404(form.slug)
    return {"article": article, "asset": asset}


def _claimed_host(form: EmbeddedForm) -> str | None:
    """The host the submission says it came from (embed-frame.js writes it), or the Origin
    of the host's own page; None when the form was not embedded (our own page)."""
    origin = request.headers.get("Origin")
    if origin and embedding.normalise_origin(origin) not in _own_origins():
        return embedding.normalise_origin(origin)
    return (
        embedding.normalise_origin(request.form.get("embed_host", ""))
        if request.form.get("embed_host")
        else None
    )


@bp.get("/embed.js")
def script():
    """The loader, the same for every site: who may embed is decided per form by the server."""
    return send_from_directory(current_app.static_folder, "js/embed.js", max_age=3600)


@bp.route("/embed/<path:form>", methods=["GET", "POST"])
@views.public_post
@for_allowed_origins
@csrf_by_origin(allowed_origins=_allowed_for_form)
@cached_page(vary_cookies=(COOKIE,))
def frame(form):
    embedded = _form_or_404(form)
    if not embedding.public_form_exists(embedded, now=utcnow()):
        abort(404)
    if request.method == "POST":
        return _submit(embedded)
    return lead_form.render_form(
        embedded.kind,
        "gated/embed.html",
        lead_form.new_form(),
        lead_form.known_lead(),
        thanks=False,
        **_article_context(embedded),
    )


def _submit(embedded: EmbeddedForm):
    """The own-site form's flow; a host that is not allowed stores nothing."""
    host = _claimed_host(embedded)
    if host is not None and host not in embedding.allowed_origins(embedded.path):
        current_app.logger.info("Embedded form %s refused from %s", embedded.path, host)
        return make_response(render_template("gated/notice.html", notice="embed_refused"), 403)
    landing = None
    if embedded.kind == "whitepaper":
        landing = landing_facts(embedded.slug, now=utcnow())
        if landing is None:
            abort(404)

    def thanks(kind, slug, lead_id, submission_id, *, mailed=True):
        token = visitor.thanks_token(lead_id, submission_id, mailed=mailed)
        return redirect(url_for("gated_embed.thanks", form=embedded.path, t=token), 303)

    def captured():
        if host is not None:
            embedding.record_sighting(embedded.path, host, now=utcnow(), submitted=True)

    return lead_form.submit(
        embedded.kind,
        "gated/embed.html",
        asset=landing["asset"] if landing else None,
        sequence=landing["sequence"] if landing else None,
        slug=embedded.slug,
        page=lambda: {"thanks": False, **_article_context(embedded)},
        thanks=thanks,
        captured=captured,
        host_page=None if host is None else embedding.host_touch(request.form, host),
    )


@bp.get("/embed/thanks/<path:form>")
@for_allowed_origins
def thanks(form):
    embedded = _form_or_404(form)
    context = _article_context(embedded)
    submission = visitor.thanks_submission(request.args.get("t"))
    download_url = None
    if submission is not None and submission.asset_id:
        download_url = make_download_url(submission.lead_id, submission.asset_id, external=False)
    response = make_response(
        render_template(
            "gated/embed.html",
            thanks=True,
            embedded=True,
            kind=embedded.kind,
            submission=submission,
            form_url=url_for("gated_embed.frame", form=embedded.path),
            download_url=download_url,
            link_days=link_days(),
            double_opt_in=current_app.config["DOUBLE_OPT_IN"],
            mailed=visitor.thanks_mailed(request.args.get("t")),
            **context,
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/embed/about/<path:form>")
@for_allowed_origins
def about(form):
    """What embed.js needs to mount the form: its frame's URL. Readable only by an allowed
    origin (CORS), so a page elsewhere learns nothing and shows nothing."""
    embedded = _form_or_404(form)
    if not embedding.public_form_exists(embedded, now=utcnow()):
        abort(404)
    response = jsonify(
        {
            "form": embedded.path,
            "frame": url_for("gated_embed.frame", form=embedded.path, _external=True),
            # The frame's name for screen readers, as the form's heading says it.
            "title": _form_title(embedded),
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _form_title(embedded: EmbeddedForm) -> str:
    if embedded.kind == "whitepaper":
        article = _article_context(embedded)["article"]
        with page_language(article.locale):
            return _("Form: %(title)s", title=article.title)
    return _("Request a demo") if embedded.kind == "demo" else _("Subscribe to the newsletter")
