"""Public pages of the help assistant, a plain form flow (POST, redirect, GET) that the
floating panel's script only enhances:

    GET  /help/ask                 the ask page (?account=<signed link> identifies a customer)
    GET  /help/ask?question=…      start a conversation, 303 to its page (the ask forms)
    POST /help/ask                 the same, e.g. from a script
    GET  /help/ask/<token>         the conversation (signed id): rounds, "did this help?"
    POST /help/ask/<token>/answer  "solved", "not yet" (with an optional rephrasing) or "person"
    POST /help/ask/<token>/contact the hand-over form (owner, ticket or lead)

Asking is a GET form, like searching: a forged question only starts a conversation that
its asker alone sees, so the ask forms on every public page carry no CSRF token and give
a new visitor no session cookie. The POSTs ("solved", "not yet", the hand-over) are
anonymous public forms too: CSRF-checked by Origin / Sec-Fetch-Site (csrf_by_origin), so
no page of the assistant starts a session for its token.

Every page is per visitor (never in the page cache); every question and every POST is
rate limited per IP. A request with the X-Assistant-Panel header gets the conversation
fragment only.
"""

import re
from html import unescape

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from markupsafe import Markup, escape

from assistant import contact as handover
from assistant import services
from assistant.tiers import account_from_token
from core.extensions import limiter
from core.security import csrf_by_origin, from_another_site
from core.timeutil import utcnow
from core.tokens import InvalidToken
from gated.capture import RequestMeta
from gated.consent import consent_text
from gated.identity import form_identity

bp = Blueprint("assistant", __name__, url_prefix="/help/ask", template_folder="templates")
ACCOUNT_COOKIE = "lodestar_account"
_MARK = re.compile(r"(</?mark>)")


def _limit():
    return current_app.config["ASSISTANT_RATE_LIMIT"]


def _just_looking() -> bool:
    """A GET that asks nothing (the ask page, a customer's link) is not rate limited."""
    return request.method != "POST" and "question" not in request.args


limited = limiter.limit(_limit, exempt_when=_just_looking)


@bp.url_value_preprocessor
def cap_form_size(endpoint, values):
    if request.method == "POST":
        request.max_content_length = current_app.config["FORM_MAX_BYTES"]


def _panel() -> bool:
    return request.headers.get("X-Assistant-Panel") == "1"


def _account():
    """The customer account of the visitor's signed link cookie, or None."""
    token = request.cookies.get(ACCOUNT_COOKIE)
    if not token:
        return None
    try:
        return account_from_token(token)
    except InvalidToken:
        return None


def _page(template: str, status: int = 200, **context):
    conversation = context.get("conversation")
    if conversation is not None:
        owner = conversation.account.owner if conversation.account else None
        context["account_owner"] = owner.display_name if owner is not None else ""
        context["consent_text"] = consent_text()[1]
        ticket = conversation.ticket
        context["acknowledged"] = ticket is not None and services.acknowledged(ticket)
    if _panel():
        template = "assistant/_conversation.html" if conversation else "assistant/_ask_form.html"
        context["ask_id"] = "panel"
    response = make_response(render_template(template, account=_account(), **context), status)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _conversation_or_404(token: str):
    conversation = services.conversation_from_token(token)
    if conversation is None:
        abort(404)
    return conversation


def _to(conversation, anchor: str = "latest"):
    return redirect(
        url_for("assistant.conversation", token=services.conversation_token(conversation.id), _anchor=anchor),
        303,
    )


@bp.route("", methods=["GET", "POST"])
@limited
@csrf_by_origin
def ask():
    if request.method == "POST":
        return _start(request.form.get("question", ""))
    if "question" in request.args:
        if from_another_site():
            # A link on another site could ask in the name of a signed-in customer (the
            # account cookie is sent on top-level GETs): show the question, let them ask.
            return _page("assistant/ask.html", question=request.args["question"][:400])
        return _start(request.args["question"])
    token = request.args.get("account")
    if token is None:
        return _page("assistant/ask.html", question="")
    try:
        account = account_from_token(token)
    except InvalidToken as exc:
        notice = "expired" if exc.expired else "forged"
        return _page("assistant/ask.html", 400, question="", link_notice=notice)
    response = redirect(url_for("assistant.ask"), 303)
    response.set_cookie(
        ACCOUNT_COOKIE,
        token,
        max_age=current_app.config["ASSISTANT_LINK_MAX_AGE"],
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    current_app.logger.info("assistant: visitor identified as account %s", account.id)
    return response


def _start(question: str):
    """Start a conversation and go to it, or the ask page again with the error."""
    try:
        conversation = services.start(
            question, account=_account(), locale=str(get_locale() or ""), now=utcnow()
        )
    except services.AssistantError as exc:
        return _page("assistant/ask.html", 422, question=question[:200], errors=exc.errors)
    return _to(conversation)


def _conversation_page(conversation, token: str, status: int = 200, *, form=None, errors=None):
    """The conversation; the hand-over form pre-filled with the questions unless given."""
    return _page(
        "assistant/conversation.html",
        status,
        conversation=conversation,
        token=token,
        route=services.route_for(conversation),
        form=form
        or {"message": services.default_message(conversation), "email": "", "phone": "", "name": ""},
        errors=errors or {},
        contact_fields=handover.fields(),
        identity=form_identity(handover.FORM),
        sms_code=handover.asks_for_code(),
        form_challenge=current_app.config["FORM_CHALLENGE"] != "off",
    )


@bp.get("/<token>")
def conversation(token):
    return _conversation_page(_conversation_or_404(token), token)


@bp.post("/<token>/answer")
@limited
@csrf_by_origin
def answer(token):
    conversation = _conversation_or_404(token)
    try:
        services.answer(
            conversation,
            request.form.get("answer", ""),
            rephrased=request.form.get("question", ""),
            now=utcnow(),
        )
    except services.AssistantError as exc:
        return _conversation_page(conversation, token, 422, errors=exc.errors)
    return _to(conversation, "contact" if conversation.status == "escalating" else "latest")


@bp.post("/<token>/contact")
@limited
@csrf_by_origin
def contact(token):
    conversation = _conversation_or_404(token)
    form = {
        name: request.form.get(name, "")
        for name in ("email", "phone", "sms_code", "name", "message", "consent")
    }
    visitor = RequestMeta(
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
        referrer=request.referrer or "",
        landing_page=request.path,
    )
    try:
        services.escalate(conversation, form, visitor=visitor, now=utcnow())
    except services.AssistantError as exc:
        return _conversation_page(conversation, token, 422, form=form, errors=exc.errors)
    return _to(conversation, "done")


@bp.app_template_filter("assistant_passage")
def passage(html: str) -> Markup:
    """A stored search passage shown safely: every piece of text is unescaped and escaped
    again, so only the search's own <mark> highlights remain markup."""
    pieces = _MARK.split(html or "")
    return Markup(
        "".join(piece if _MARK.fullmatch(piece) else str(escape(unescape(piece))) for piece in pieces)
    )
