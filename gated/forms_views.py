"""The lead forms' per-visitor needs, kept off the (cacheable) form pages:

    GET  /forms/challenge   a fresh proof-of-work challenge, JSON (the widget's `challenge` URL)
    GET  /forms/start       the form's signed start time, JSON, fetched by static/js/form-start.js
                            when the visitor first focuses a lead form
    GET  /forms/known       what a known visitor (the lead cookie) need not type again, JSON,
                            for static/js/lead-form.js (progressive profiling)
    POST /forms/confirm     "yes, I am a person": a held submission becomes a lead
    POST /forms/sms-code    send a verification code to a mobile number (JSON; the
                            form's proof-of-work first: gated.phonecodes)

The confirm form carries a signed, expiring token naming the held submission, and the
CSRF token; it works without JavaScript, so nobody is kept out by the check.
"""

from contextlib import nullcontext

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import gettext as _

from core.extensions import db, limiter
from core.i18n import page_language
from core.security import csrf_by_origin
from core.timeutil import utcnow
from gated import challenge, holding, phonecodes, visitor
from gated.forms import FIELDS
from gated.lead_form import known_lead, thanks_redirect, visible_fields
from gated.validation import InvalidSubmission

bp = Blueprint("gated_forms", __name__, url_prefix="/forms", template_folder="templates")


def _limit():
    return current_app.config["PUBLIC_POST_RATE_LIMIT"]


@bp.get("/challenge")
@limiter.limit(_limit)
def new_challenge():
    response = jsonify(challenge.new_challenge(now=utcnow()))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/start")
@limiter.limit(_limit)
def form_start():
    """The minimum fill time counts from the visitor's first focus on the form (a page
    with the time in it would be one visitor's own, and no cache could serve it).
    Without JavaScript the time is missing and the submission is held for the person to
    confirm (gated.holding), so nobody is kept out."""
    response = jsonify({"started": visitor.form_start_token(utcnow())})
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/known")
@limiter.limit(_limit)
def known():
    """Progressive profiling off the (cacheable) form page: for a visitor whose browser
    carries the lead cookie, the greeting, the few fields still to ask (`ask`) and whether
    the consent box is shown; {"known": false} for everyone else. Without JavaScript a
    known visitor sees the whole form, and what they type updates their record."""
    kind = request.args.get("kind", "")
    lead = known_lead() if kind in FIELDS else None
    # The form's page says its language (lang="zh-CN"): the greeting speaks it too.
    code = request.args.get("lang", "").replace("-", "_")
    language = page_language(code) if code in current_app.config["LOCALES"] else nullcontext()
    if lead is None:
        payload = {"known": False}
    else:
        with language:
            payload = _known_payload(kind, lead)
    response = jsonify(payload)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.vary.add("Cookie")
    return response


def _known_payload(kind: str, lead) -> dict:
    payload = {
        "known": True,
        "greeting": _("Welcome back, %(who)s.", who=lead.first_name or lead.email or lead.phone),
        "forget": _("Not you?"),
        "fields": FIELDS[kind],
        "ask": visible_fields(kind, lead),
        "consent": not lead.marketing_consent,
    }
    if kind == "whitepaper" and not payload["ask"]:
        payload["submit"] = _("Download")  # everything known: one click
    return payload


@bp.post("/confirm")
@limiter.limit(_limit)
@csrf_by_origin
def confirm():
    """One click on the held page stores what the person sent. Checked by Origin like the
    forms themselves (no session token): it must work in a form framed on a partner's
    site, where the browser keeps our cookies out of the frame."""
    held_id = holding.held_id_from_token(request.form.get("token", ""))
    if held_id is None:
        return render_template("gated/notice.html", notice="held_invalid"), 400
    try:
        held = holding.release(held_id, now=utcnow())
    except holding.AlreadyReleased as done:
        held = done.held  # a second click: the same thank-you page, nothing sent twice
    except InvalidSubmission:
        # The form's rules changed since (e.g. consent became required): fill it again.
        return render_template("gated/notice.html", notice="held_invalid"), 422
    if held.lead_id is None:  # released, then the person was erased
        return render_template("gated/notice.html", notice="held_invalid"), 400
    return thanks_redirect(held.form, held.slug, held.lead_id, held.submission_id)


def _sms_limit():
    return current_app.config["SMS_CODE_RATE_LIMIT"]


@bp.post("/sms-code")
@limiter.limit(_sms_limit)
@csrf_by_origin
def sms_code():
    """Send a verification code to the number typed (the "Send code" button). A text
    costs money: the form's proof-of-work is required (unless FORM_CHALLENGE is off),
    then the per-number and per-IP counts of gated.phonecodes. JSON either way:
    {"ok": true, "resend_after": s} or {"ok": false, "field", "error", "retry_after"}."""
    now = utcnow()
    if current_app.config["FORM_CHALLENGE"] != "off":
        reason = challenge.spend(request.form.get(challenge.FIELD), now=now)
        if reason is not None:
            db.session.rollback()
            return _no_store(
                jsonify(
                    ok=False,
                    field="sms_code",
                    error=_(
                        "Please wait a moment while your browser is checked, then press the button again."
                    ),
                ),
                400,
            )
    try:
        sent = phonecodes.request_code(request.form.get("phone", ""), ip=request.remote_addr, now=now)
    except phonecodes.CodeRefused as refused:
        db.session.commit()  # the proof-of-work stays spent
        return _no_store(
            jsonify(ok=False, field=refused.field, error=refused.message, retry_after=refused.retry_after),
            429 if refused.retry_after else 422,
        )
    return _no_store(jsonify(ok=True, resend_after=sent.resend_after), 200)


def _no_store(response, status):
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
