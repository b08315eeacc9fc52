"""Public endpoints reached from mail: the open pixel, click redirects, unsubscribe
(the page and RFC 8058 one-click), and the provider's bounce/complaint webhook.

Every token is signed (core.tokens); a tampered one gets a 400 page, never a redirect.
"""

import base64
import contextlib
import hmac

from flask import Blueprint, current_app, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, validate_csrf

from core import tokens
from core.errors import render_error
from core.extensions import csrf, limiter
from core.ids import parse_id, token_id
from core.security import reads_json
from core.timeutil import utcnow
from nurture import preferences, suppression, tracking

bp = Blueprint("nurture", __name__, template_folder="templates")

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _post_limit():
    return current_app.config["UNSUBSCRIBE_RATE_LIMIT"]


def _events_limit():
    return current_app.config["PUBLIC_POST_RATE_LIMIT"]


def _unsubscribe_key() -> str:
    """Whose budget an unsubscribe POST spends: its message's, when the token is genuine.
    Gmail and Yahoo send one-click POSTs for all their users from a few shared addresses,
    so a per-IP budget would drop real unsubscribes; a damaged or forged token (anyone
    can make new ones) still counts against the sender's IP."""
    message_id = _message_id("unsubscribe", (request.view_args or {}).get("token", ""))
    return get_remote_address() if message_id is None else f"unsubscribe-message:{message_id}"


def _provider_authorised() -> bool:
    """The request carries the mail provider's MAIL_EVENTS_TOKEN (compared in constant
    time; no token configured means nobody is)."""
    expected = current_app.config["MAIL_EVENTS_TOKEN"]
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _message_id(purpose: str, token: str) -> int | None:
    try:
        payload = tokens.unsign(purpose, token)
    except tokens.InvalidToken:
        return None
    return token_id(payload)


@bp.get("/t/o/<token>")
@limiter.exempt
def open_pixel(token):
    message_id = _message_id("open", token)
    if message_id is None:
        return render_error(400)
    tracking.record_open(message_id, now=utcnow())
    response = current_app.response_class(PIXEL, mimetype="image/gif")
    response.headers["Cache-Control"] = "no-store, private"
    return response


@bp.get("/t/c/<token>")
@limiter.exempt
def click(token):
    try:
        payload = tokens.unsign("click", token)
    except tokens.InvalidToken:
        return render_error(400, _("This link is damaged. Copy the whole link from the mail and try again."))
    valid = (
        isinstance(payload, list)
        and len(payload) == 2
        and token_id(payload[0]) is not None
        and isinstance(payload[1], str)
        and payload[1].lower().startswith(("http://", "https://"))
    )
    if not valid:
        return render_error(400)
    tracking.record_click(payload[0], now=utcnow(), url=payload[1])
    return redirect(payload[1], 302)


@bp.route("/u/<token>", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(_post_limit, methods=["POST"], key_func=_unsubscribe_key)
def unsubscribe(token):
    """The preference page of a mail (GET), the person's choice of topics or "leave all"
    (POST), and a mail provider's RFC 8058 one-click POST (body List-Unsubscribe=One-Click,
    no cookies, no CSRF token), which leaves the mail's topic. This route is exempt from
    CSRF for that POST, where the signed token is the proof; the page's own form still
    carries and checks a CSRF token."""
    message_id = _message_id("unsubscribe", token)
    if message_id is None:
        return render_error(400, _("This unsubscribe link is damaged. Copy the whole link from the mail."))
    if request.method == "GET":
        return _preference_page(message_id, token)
    if request.form.get("List-Unsubscribe") == "One-Click":
        with contextlib.suppress(suppression.UnknownMessage):
            preferences.one_click(message_id, now=utcnow())
        return "", 204
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.form.get("csrf_token"))
        except Exception as exc:  # noqa: BLE001 - flask_wtf raises ValidationError
            raise CSRFError(str(exc)) from exc
    try:
        if request.form.get("action") == "save":
            kept = {parse_id(value) for value in request.form.getlist("topic")} - {None}
            choices = preferences.save(message_id, kept, now=utcnow(), ip=request.remote_addr)
            if choices is not None:
                return render_template("nurture/preferences_saved.html", choices=choices, token=token)
            address = suppression.message_for_token(message_id).to_address
        else:
            address = suppression.unsubscribe(message_id, now=utcnow())
    except suppression.UnknownMessage:
        address = None
    return render_template("nurture/unsubscribed.html", address=mask(address) if address else None)


def _preference_page(message_id: int, token: str):
    try:
        shown = preferences.page(message_id)
        message = shown.message if shown else suppression.message_for_token(message_id)
    except suppression.UnknownMessage:
        return render_template("nurture/unsubscribed.html", address=None)
    address = mask(message.to_address)
    if shown is None:
        return render_template("nurture/unsubscribe.html", address=address, token=token)
    return render_template(
        "nurture/preferences.html",
        address=address,
        token=token,
        choices=shown.choices,
        this_topic=message.topic_id,
        left_all=preferences.suppressed(message.to_address),
    )


def mask(address: str) -> str:
    """l***@example.com: enough to recognise, not enough to harvest."""
    local, _sep, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


@bp.post("/api/mail/events")
@reads_json
@csrf.exempt
# The provider posts every bounce and complaint from a few addresses: with its token a
# request is never limited (a 429 would lose the event); without it, it is, per IP.
@limiter.limit(_events_limit, exempt_when=_provider_authorised)
def mail_events():
    """Bounces and complaints from the provider. Bearer MAIL_EVENTS_TOKEN required."""
    if not _provider_authorised():
        return jsonify({"error": "unauthorized"}), 401
    payload = request.get_json(silent=True)
    try:
        count = suppression.record_mail_events(payload, now=utcnow())
    except ValueError as exc:
        return jsonify({"error": str(exc)}), 400
    return jsonify({"recorded": count})
