"""A lead form as shown and as sent, for every page that carries one (the white paper's
landing page, the demo request and newsletter pages, a gated video, a form in a frame on
another site): the fields to ask for, the page around them, where the visit came from,
and the POST that screens, captures and thanks (or holds and asks to confirm)."""

from contextlib import nullcontext

from flask import current_app, g, make_response, redirect, render_template, request, url_for
from markupsafe import Markup

from core.hooks import form_extras
from core.i18n import page_language
from core.privacy import tracking_refused
from core.timeutil import utcnow
from gated import consent, holding, identity, phonecodes, visitor
from gated.attribution import CLICK_IDS
from gated.capture import RequestMeta, capture_lead
from gated.form_input import REQUIRED
from gated.forms import AUTOCOMPLETE, FIELDS, HIDDEN, LeadForm
from gated.models import UTM_FIELDS
from gated.validation import InvalidSubmission
from gated.visitor import COOKIE

TOUCH_COOKIE = "lodestar_touch"


def request_meta() -> RequestMeta:
    return RequestMeta(
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
        referrer=request.referrer or "",
        landing_page=request.full_path.rstrip("?"),
    )


def known_lead():
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


def new_form() -> LeadForm:
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


def visible_fields(kind: str, lead) -> list[str]:
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


def render_form(kind, template, form, lead, status=200, **context):
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
        # The consent in the page's language, as the submission records it (submit).
        _version, consent_text = consent.consent_text()
        # Inputs other packages add (core.hooks.add_form_extra), e.g. nurture's opt-in topics.
        extras = Markup("".join(str(render(kind)) for _name, render in form_extras(current_app)))
        return render_template(
            template,
            form=form,
            kind=kind,
            lead=lead,
            visible=visible_fields(kind, lead),
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


def submit(
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
                    kind, data, reason=reason, slug=slug, request_meta=request_meta(), now=now, **known
                )
                return held_page(held.id, held.form)
            capture = capture_lead(
                kind,
                data,
                asset=asset,
                request_meta=request_meta(),
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
        return render_form(kind, template, form, lead, 422, **{"asset": asset, **(page() if page else {})})
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
