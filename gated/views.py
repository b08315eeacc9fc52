"""Public pages: white paper landing pages with the lead form, the demo request and
newsletter forms, thank-you pages, signed downloads, fresh links and double opt-in.

Views parse the request, call one service and render. Every public POST is rate limited
per IP, CSRF-checked (the lead forms by Origin / Sec-Fetch-Site, core.security.csrf_by_origin,
so their pages carry no token and start no session; the rest by CSRFProtect) and size-capped, then screened (gated.holding): a
filled honeypot is shown the thank-you page and counted, never stored; a submission that
looks automated otherwise is kept and answered with a page that asks the visitor to
confirm (gated.forms_views), never with a thank-you.
"""

from contextlib import nullcontext
from functools import wraps
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from markupsafe import Markup

from content.slugs import public_article_or_redirect
from core.extensions import limiter
from core.hooks import advisor_card, form_extras
from core.i18n import page_language
from core.pagecache import cached_page, remembered
from core.privacy import tracking_refused
from core.security import csrf_by_origin
from core.timeutil import utcnow
from core.tokens import InvalidToken
from core.useragent import in_wechat
from gated import assets, consent, downloads, holding, identity, phonecodes, visitor
from gated.attribution import CLICK_IDS
from gated.capture import RequestMeta, capture_lead, landing_facts
from gated.consent import confirm_lead
from gated.downloads import (
    link_days,
    record_download,
    resolve_download,
    send_fresh_link,
    send_link_by_sms,
)
from gated.form_input import REQUIRED
from gated.forms import AUTOCOMPLETE, FIELDS, HIDDEN, LeadForm
from gated.leads import NotFound
from gated.models import UTM_FIELDS
from gated.validation import InvalidSubmission
from gated.visitor import COOKIE

bp = Blueprint("gated", __name__, template_folder="templates")
TOUCH_COOKIE = "lodestar_touch"


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


def _request_meta() -> RequestMeta:
    return RequestMeta(
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
        referrer=request.referrer or "",
        landing_page=request.full_path.rstrip("?"),
    )


def _known_lead():
    if request.args.get("forget"):
        return None
    return visitor.lead_from_cookie(request.cookies.get(COOKIE))


CAMPAIGN_PARAMETERS = frozenset((*UTM_FIELDS, *CLICK_IDS))


def _is_campaign_landing() -> bool:
    """Whether this URL carries utm parameters or an ad click id. Runs after every
    request: most carry no query at all, and a missing key costs MultiDict an exception."""
    if not request.query_string:
        return False
    args = request.args
    return any(args[name] for name in CAMPAIGN_PARAMETERS.intersection(args))


def remember_landing(_app, page, response, **_ignored):
    """A visit that lands on any page from a campaign keeps that landing in a session
    cookie, so its attribution survives a search or a click through the site. Set on the
    page's beacon (core.beacon), never on the page, which is the same for everyone."""
    if tracking_refused() or not any(page.args.get(name) for name in CAMPAIGN_PARAMETERS):
        return
    response.set_cookie(
        TOUCH_COOKIE,
        visitor.touch_cookie_value(
            {name: page.args.get(name, "")[:200] for name in UTM_FIELDS}, page.referrer, page.full_path
        ),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )


def _visit_touch() -> dict | None:
    """The campaign landing of this visit when the form's own page is not one (read and
    verified once per request, though every hidden field asks)."""
    if "visit_touch" not in g:
        g.visit_touch = (
            None if _is_campaign_landing() else visitor.touch_from_cookie(request.cookies.get(TOUCH_COOKIE))
        )
    return g.visit_touch


def _new_form() -> LeadForm:
    """A form as first shown: the same for every visitor, so a cache may serve its page.
    Where the visit came from is added when it is sent (_with_attribution); the start time
    comes from GET /forms/start when the visitor first focuses the form, what a known
    visitor need not type again from GET /forms/known (gated.forms_views)."""
    return LeadForm(formdata=None)


def _with_attribution(form, host_page=None):
    """The form as sent, with where the visit came from: `host_page` when the form sits in
    a frame on another site (gated.embedding.host_touch: that page is where the visit is),
    else the campaign landing earlier in the visit (the touch cookie), else the utm
    parameters and path of the URL the form was sent to (a lead form posts to its own
    page's URL, query included) and the referrer the page's script read from
    `document.referrer` (static/js/lead-form.js)."""
    data = form.copy()
    if host_page is not None:
        for name, value in host_page.items():
            data[name] = value
        return data
    touch = _visit_touch()
    if touch is not None:
        data["referrer"] = str(touch.get("referrer") or "")
        data["landing_page"] = str(touch.get("landing_page") or "")
        for name in UTM_FIELDS:
            data[name] = str(touch["utm"].get(name) or "")[:200]
        return data
    if not data.get("landing_page"):
        data["landing_page"] = request.full_path.rstrip("?")
    for name in UTM_FIELDS:
        if not data.get(name):
            data[name] = request.args.get(name, "")[:200]
    return data


def _visible(kind: str, lead) -> list[str]:
    """The fields to ask for: all of the form's, or for a known visitor the next few
    still unknown (PROGRESSIVE_FIELDS at a time, so the form stays short)."""
    if lead is None:
        return form_fields(kind)
    names = FIELDS[kind]
    unknown = [name for name in names if name != "message" and not getattr(lead, name)]
    asked = unknown[: current_app.config["PROGRESSIVE_FIELDS"]]
    return asked + (["message"] if "message" in names else [])


def held_page(held_id: int, kind: str, status: int = 202):
    """The answer to a held submission: what we kept, and a button to confirm it."""
    response = make_response(
        render_template(
            "gated/held.html",
            kind=kind,
            token=holding.confirm_token(held_id),
            # A number alone gets no mail: the page promises none.
            has_email=holding.held_has_email(held_id),
        ),
        status,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def form_fields(kind: str) -> list[str]:
    """A form's fields in order: what identifies the lead first (gated.identity), then
    the rest. A form identifying by phone alone still offers the email where it asks for
    the whole profile (phone included), never on the short newsletter form."""
    first = identity.identity_fields(kind)
    whole_profile = "phone" in FIELDS[kind]
    rest = [name for name in FIELDS[kind] if name not in first and (name != "email" or whole_profile)]
    return [*first, *rest]


def _render(kind, template, form, lead, status=200, **context):
    response = make_response(form_html(kind, template, form, lead, **context), status)
    if request.args.get("forget"):
        response.delete_cookie(COOKIE)
    return response


def form_html(kind, template, form, lead, **context) -> str:
    """`template` rendered with a lead form of `kind` and all it needs (the fields to
    show, consent, challenge, SMS code); a page, or a part of one (a gated video's form)."""
    rule = identity.form_identity(kind)
    required = (*(() if rule == "email_or_phone" else (rule,)), *REQUIRED.get(kind, ()))
    for name in ("email", "phone"):
        form[name].flags.required = False  # the identity rule decides (gated.identity)
    for name in required:
        form[name].flags.required = True
    # A white paper's landing page speaks the white paper's language, chrome included.
    article = context.get("article")
    language = page_language(article.locale) if article is not None else nullcontext()
    with language:
        # The consent in the page's language, as the submission records it (_submit).
        _version, consent_text = consent.consent_text()
        # Inputs other packages add (core.hooks.add_form_extra), e.g. nurture's opt-in topics.
        extras = Markup("".join(str(render(kind)) for _name, render in form_extras(current_app)))
        return render_template(
            template,
            form=form,
            kind=kind,
            lead=lead,
            visible=_visible(kind, lead),
            required=required,
            hidden=HIDDEN,
            autocomplete=AUTOCOMPLETE,
            consent_text=consent_text,
            consent_required=current_app.config["CONSENT_REQUIRED"] or kind == "newsletter",
            form_challenge=current_app.config["FORM_CHALLENGE"] != "off",
            identity=rule,
            sms_code=phonecodes.asks_for_code(kind),
            show_consent=not (lead is not None and lead.marketing_consent),
            form_extras=extras,
            **context,
        )


def _submit(
    kind,
    template,
    *,
    asset=None,
    sequence=None,
    slug="",
    page=None,
    thanks=None,
    captured=None,
    article_id=None,
    locale=None,
    host_page=None,
):
    """The POST of every lead form: screen, then capture and 303 to the thank-you page,
    or hold and ask the visitor to confirm. `page()` gives the template's context when
    the form is shown again with errors; `thanks(kind, slug, lead_id, submission_id,
    mailed=…)` answers a stored submission (default: the form's own thank-you page) and
    `captured()` runs once it is stored. `article_id`: the article the form is on when
    no asset says it (a gated video's). `locale`: the page's language when it is not the
    visitor's (a white paper's), in which the consent it showed is recorded. `host_page`:
    the attribution of a form in a frame on another site (see _with_attribution)."""
    thanks = thanks or thanks_redirect
    now = utcnow()
    data = _with_attribution(request.form, host_page)
    reason = holding.screen(data, now=now)
    if reason == holding.HONEYPOT:
        visitor.record_blocked(kind, reason, now=now)
        return (
            redirect(thanks_url(kind, slug), 303) if thanks is thanks_redirect else thanks(kind, slug, 0, 0)
        )
    lead = visitor.lead_from_cookie(request.cookies.get(COOKIE))
    known = {
        "known_lead_id": lead.id if lead is not None else None,
        "consent_shown": lead is None or not lead.marketing_consent,
    }
    language = page_language(locale) if locale else nullcontext()
    try:
        with language:
            # A wrong SMS code is refused before anything else (and counted).
            code_id = phonecodes.proof_for(kind, data, now=now)
            if reason:
                held = holding.hold(
                    kind, data, reason=reason, slug=slug, request_meta=_request_meta(), now=now, **known
                )
                return held_page(held.id, held.form)
            capture = capture_lead(
                kind,
                data,
                asset=asset,
                request_meta=_request_meta(),
                now=now,
                sequence=sequence,
                phone_code_id=code_id,
                article_id=article_id,
                **known,
            )
    except InvalidSubmission as exc:
        # Bound to what was sent, the start time included: the form's first showing
        # counts, so a quick correction is not taken for a bot.
        form = LeadForm()
        for name, message in exc.errors.items():
            if name in form:
                form[name].errors = [message]
        if exc.errors.keys() & {"email", "phone", phonecodes.FIELD}:
            lead = None  # ask for the address or number (and its code) again
        return _render(kind, template, form, lead, 422, **{"asset": asset, **(page() if page else {})})
    if captured is not None:
        captured()
    response = thanks(kind, slug, capture.lead_id, capture.submission_id, mailed=capture.mailed)
    # An SMS code proves the number as a mailed link proves the address.
    return remember_lead(response, capture.lead_id) if code_id is not None else response


def thanks_url(kind: str, slug: str = "", **args) -> str:
    """The thank-you page of a form (a white paper's carries its slug; a gated video's is
    the white paper's address, which sends it on to the video)."""
    if kind in ("whitepaper", "video"):
        return url_for("gated.whitepaper_thanks", slug=slug, **args)
    return url_for(f"gated.{kind}_thanks", **args)


def thanks_redirect(kind: str, slug: str, lead_id: int, submission_id: int, *, mailed: bool = True):
    """303 to the thank-you page of a stored submission. No lead cookie here: whoever
    typed the address has not shown it is theirs (remember_lead, once a mailed link or
    the double opt-in proves it). `mailed`: whether its mails were queued (the page says
    "we have emailed you" only then)."""
    token = visitor.thanks_token(lead_id, submission_id, mailed=mailed)
    return redirect(thanks_url(kind, slug, t=token), 303)


def remember_lead(response, lead_id: int):
    """Give this browser the lead's cookie (progressive profiling, the greeting, and
    submissions that may change what the lead stored): only after it opened a link that
    went to the lead's mailbox. Never to a visitor who sends Do Not Track or GPC."""
    if not tracking_refused():
        response.set_cookie(
            COOKIE,
            visitor.lead_cookie_value(lead_id),
            max_age=current_app.config["LEAD_COOKIE_MAX_AGE"],
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response


def _whitepaper_or_404(slug):
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
        return _submit(
            "whitepaper",
            template,
            asset=landing["asset"],
            sequence=landing["sequence"],
            locale=landing.get("locale"),
            slug=slug,
            page=lambda: dict(zip(("article", "asset"), _whitepaper_or_404(slug), strict=True)),
        )
    article, asset = _whitepaper_or_404(slug)
    return _render("whitepaper", template, _new_form(), None, article=article, asset=asset)


@bp.get("/library/<slug>/thanks")
def whitepaper_thanks(slug):
    from gated.video_gate import is_gated_video

    if is_gated_video(slug):  # a gated video's form, held and confirmed later
        return redirect(url_for("gated_video.watch", slug=slug, t=request.args.get("t", "")), 303)
    article, asset = _whitepaper_or_404(slug)
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
        return _submit(kind, template)
    return _render(kind, template, _new_form(), None)


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
    return remember_lead(response, lead.id) if mailed else response


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
    return remember_lead(make_response(render_template("gated/notice.html", notice="confirmed")), lead.id)
