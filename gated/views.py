"""Public pages: white paper landing pages with the lead form, the demo request and
newsletter forms, thank-you pages, signed downloads, fresh links and double opt-in (the
lead form itself, shown and sent, is gated.lead_form).

Views parse the request, call one service and render. Every public POST is rate limited
per IP, CSRF-checked (the lead forms by Origin / Sec-Fetch-Site, core.security.csrf_by_origin,
so their pages carry no token and start no session; the rest by CSRFProtect) and size-capped, then screened (gated.holding): a
filled honeypot is shown the thank-you page and counted, never stored; a submission that
looks automated otherwise is kept and answered with a page that asks the visitor to
confirm (gated.forms_views), never with a thank-you.
"""

from functools import wraps
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from content.slugs import public_article_or_redirect
from core.extensions import limiter
from core.hooks import advisor_card
from core.i18n import page_language
from core.pagecache import cached_page, remembered
from core.security import csrf_by_origin
from core.timeutil import utcnow
from core.tokens import InvalidToken
from core.useragent import in_wechat
from gated import assets, downloads, lead_form, visitor
from gated.capture import landing_facts
from gated.consent import confirm_lead
from gated.downloads import (
    link_days,
    record_download,
    resolve_download,
    send_fresh_link,
    send_link_by_sms,
)
from gated.leads import NotFound

bp = Blueprint("gated", __name__, template_folder="templates")


def _public_post_limit():
    return current_app.config["PUBLIC_POST_RATE_LIMIT"]


def _on_posts(limit):
    """`limit` (a Flask-Limiter decorator) applied to a view's POSTs only. The public
    forms' views also serve their page by GET, a cached page the limit exempts anyway;
    without this every page view would still pay the limiter's evaluation of the view's
    limits (a sixth of a cached landing page's cost)."""

    def decorator(view):
        limited = limit(view)

        @wraps(view)
        def dispatch(*args, **kwargs):
            if request.method == "POST":
                return limited(*args, **kwargs)
            return view(*args, **kwargs)

        return dispatch

    return decorator


public_post = _on_posts(limiter.limit(_public_post_limit, methods=["POST"]))


@bp.url_value_preprocessor
def cap_form_size(endpoint, values):
    """Public forms are small: cap their bodies at FORM_MAX_BYTES (413 beyond). This
    runs before every before_request hook, CSRFProtect's included, which reads the form
    first and would otherwise parse it under the site-wide limit."""
    if request.method == "POST":
        request.max_content_length = current_app.config["FORM_MAX_BYTES"]


def whitepaper_or_404(slug):
    article = public_article_or_redirect("whitepaper", slug, now=utcnow())
    return article, assets.asset_for_article(article.id)


@bp.route("/library/<slug>", methods=["GET", "POST"])
@public_post
@csrf_by_origin
@cached_page
def whitepaper(slug):
    template = "gated/whitepaper.html"
    if request.method == "POST":
        # What the submission needs of the white paper, remembered like the cached page:
        # the article and its asset rows are loaded only to show the form again.
        landing = remembered(("whitepaper", slug), lambda: landing_facts(slug, now=utcnow()))
        if landing is None:
            abort(404)
        return lead_form.submit(
            "whitepaper",
            template,
            asset=landing["asset"],
            sequence=landing["sequence"],
            locale=landing.get("locale"),
            slug=slug,
            page=lambda: dict(zip(("article", "asset"), whitepaper_or_404(slug), strict=True)),
        )
    article, asset = whitepaper_or_404(slug)
    return lead_form.render_form(
        "whitepaper", template, lead_form.new_form(), None, article=article, asset=asset
    )


@bp.get("/library/<slug>/thanks")
def whitepaper_thanks(slug):
    from gated.video_gate import is_gated_video

    if is_gated_video(slug):  # a gated video's form, held and confirmed later
        return redirect(url_for("gated_video.watch", slug=slug, t=request.args.get("t", "")), 303)
    article, asset = whitepaper_or_404(slug)
    submission = visitor.thanks_submission(request.args.get("t"))
    download_url = download_token = None
    if submission is not None and submission.asset_id:
        download_token = downloads.download_token(submission.lead_id, submission.asset_id)
        download_url = url_for("gated.download", token=download_token)
    with page_language(article.locale):
        return render_template(
            "gated/thanks.html",
            kind="whitepaper",
            article=article,
            asset=asset,
            submission=submission,
            form_url=url_for("gated.whitepaper", slug=slug),
            download_url=download_url,
            download_token=download_token,
            link_days=link_days(),
            mailed=visitor.thanks_mailed(request.args.get("t")),
            in_wechat=in_wechat(request.user_agent.string),
            advisor=advisor_card(
                current_app, lead_id=submission.lead_id if submission else None, placement="thanks"
            ),
        )


def _form_page(kind: str):
    """The demo request and newsletter pages: one template, one flow."""
    template = "gated/form_page.html"
    if request.method == "POST":
        return lead_form.submit(kind, template)
    return lead_form.render_form(kind, template, lead_form.new_form(), None)


def _thanks_page(kind: str):
    submission = visitor.thanks_submission(request.args.get("t"))
    return render_template(
        "gated/thanks.html",
        kind=kind,
        submission=submission,
        form_url=url_for("gated.demo_request" if kind == "demo" else "gated.newsletter"),
        double_opt_in=current_app.config["DOUBLE_OPT_IN"],
        mailed=visitor.thanks_mailed(request.args.get("t")),
        advisor=advisor_card(
            current_app, lead_id=submission.lead_id if submission else None, placement="thanks"
        ),
    )


@bp.route("/demo-request", methods=["GET", "POST"])
@public_post
@csrf_by_origin
@cached_page
def demo_request():
    return _form_page("demo")


@bp.get("/demo-request/thanks")
def demo_thanks():
    return _thanks_page("demo")


@bp.route("/newsletter", methods=["GET", "POST"])
@public_post
@csrf_by_origin
@cached_page
def newsletter():
    return _form_page("newsletter")


@bp.get("/newsletter/thanks")
def newsletter_thanks():
    return _thanks_page("newsletter")


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """attachment (or inline) with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    fallback = filename.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "") or "download"
    if fallback.startswith("."):
        fallback = "download" + fallback
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@bp.errorhandler(InvalidToken)
def bad_token(exc):
    """A tampered link is a clear page, never the file; an expired download link offers
    a fresh one by mail."""
    if exc.expired and request.endpoint == "gated.download":
        return render_template("gated/notice.html", notice="expired", token=request.view_args["token"]), 410
    return render_template("gated/notice.html", notice="invalid"), 400


@bp.errorhandler(NotFound)
def gone(exc):
    return render_template("gated/notice.html", notice="gone"), 404


@bp.get("/download/<token>")
def download(token):
    lead, asset, mailed = resolve_download(token)
    path = assets.asset_path(asset)
    if not path.is_file():
        current_app.logger.error("Asset file missing: %s (%s)", asset.slug, path)
        abort(404)
    record_download(lead, asset, ip=request.remote_addr, now=utcnow(), proven=mailed)
    response = send_file(path, mimetype=asset.content_type, conditional=False, etag=False, max_age=0)
    # WeChat's browser drops downloads silently; a PDF inline opens in its viewer.
    inline = asset.content_type == "application/pdf" and in_wechat(request.user_agent.string)
    response.headers["Content-Disposition"] = content_disposition(asset.filename, inline=inline)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return lead_form.remember_lead(response, lead.id) if mailed else response


@bp.post("/download/fresh")
@public_post
def fresh_link():
    mailed = send_fresh_link(request.form.get("token", ""), now=utcnow())
    notice = "no_email" if mailed is None else "sent" if mailed else "not_sent"
    return render_template("gated/notice.html", notice=notice)


@bp.post("/download/sms")
@public_post
def link_by_sms():
    texted = send_link_by_sms(request.form.get("token", ""), now=utcnow())
    return render_template("gated/notice.html", notice="texted" if texted else "not_texted")


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@public_post
def confirm(token):
    """GET shows a button, POST confirms: mail scanners that open links do not confirm."""
    if request.method == "GET":
        return render_template("gated/notice.html", notice="confirm", token=token)
    lead = confirm_lead(token, now=utcnow())
    return lead_form.remember_lead(
        make_response(render_template("gated/notice.html", notice="confirmed")), lead.id
    )
