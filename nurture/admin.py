"""Marketer admin under /admin/nurture/: the blueprint and what its pages share (a mail
shown in a sandboxed frame, a step's preview, a test send to oneself, a message's error
in words). The pages live in admin_sequences (sequences and their steps),
admin_enroll (enrolling leads), admin_messages (the message log, the queue, the
suppression list) and admin_outbox (the development Outbox). Marketers and admins only."""

from flask import Blueprint, Response, current_app, flash, render_template
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import escape

from core.timeutil import utcnow
from nurture import caps, mailqueue, personalise, receivers, stats, validation
from nurture.compose import inline_styles, wrap
from nurture.email import Rendered

bp = Blueprint("nurture_admin", __name__, url_prefix="/admin/nurture", template_folder="templates")
ROLES = ("marketer",)
# What an email shown inside the admin may do: draw itself, nothing else.
SUBJECT_BAR = "padding:10px 16px;background:#fff;border-bottom:1px solid #e2e7ef;font:600 15px/1.4 sans-serif;color:#111827;"
MAIL_FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: https: http:; frame-ancestors 'self'"
)


@bp.context_processor
def nurture_admin_globals():
    return {"worker_warning": stats.worker_warning(), "message_error": message_error}


def message_error(error: str | None) -> str:
    """A message's stored error for the admin: the reasons nurture writes itself are
    translated; a mail server's reply and other diagnostics are shown as stored."""
    if error == receivers.NO_ADDRESS:
        return _("The lead has no email address.")
    if error and error.startswith(receivers.NO_LEAD):
        return _("No email address: there is no lead %(id)s.", id=error.removeprefix(receivers.NO_LEAD))
    if error and error.startswith(caps.CAPPED):
        window, _space, limit = error.removeprefix(caps.CAPPED).partition(" ")
        count = limit.strip("()")
        if window == "day":
            return _(
                "Not sent: the address has had %(count)s transactional mails in the last day.", count=count
            )
        return _("Not sent: the address has had %(count)s transactional mails in the last hour.", count=count)
    return error or ""


def frame(html: str) -> Response:
    """An email (or a message about it) for the sandboxed preview iframe."""
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_FRAME_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


# -- sequences ----------------------------------------------------------------------
def mail_preview(
    subject: str, body: str, locale: str, *, annotate=None, context: dict | None = None
) -> Response:
    """A step (or any marketing mail's subject and body) as typed, rendered for the
    sample lead in the mail layout with its subject above, for a sandboxed iframe; or
    what keeps it from rendering. Campaigns' editor shows its previews through it, and
    its report its click map (`annotate(html)` marks up the rendered mail)."""
    problems = validation.step_problems(subject, body, locale)
    if problems:
        return frame(
            render_template("nurture/admin/preview_error.html", problems=problems, worded=validation.worded)
        )
    context = context or personalise.sample_context(current_app.config)
    rendered_subject, text, html = personalise.render_step(subject, body, context)
    mail = wrap(
        Rendered(rendered_subject, text, inline_styles(html)),
        message_id=0,
        locale=locale,
        transactional=False,
        pixel=False,
    )
    # The subject as a mail client shows it, above the mail.
    body_open = mail.html.index(">", mail.html.index("<body")) + 1
    subject_bar = f'<div style="{SUBJECT_BAR}">{escape(rendered_subject)}</div>'
    page = mail.html[:body_open] + subject_bar + mail.html[body_open:]
    return frame(annotate(page) if annotate else page)


def queue_test_to_me(subject: str, body: str, locale: str) -> int:
    """Queue a test of a step (or a campaign's mail) to the signed-in user and say so, or flash why it would
    not render; the HTTP status of the answer."""
    try:
        mailqueue.queue_test(subject, body, to=current_user.email, locale=locale, now=utcnow())
    except mailqueue.StepProblems as exc:
        for problem in exc.problems:
            flash(validation.worded(problem), "error")
        return 422
    flash(
        _(
            "Test mail queued to %(email)s; the worker sends it within a few seconds.",
            email=current_user.email,
        ),
        "success",
    )
    return 200


def routes() -> Blueprint:
    """The blueprint with every page's routes (each admin_* module adds its own)."""
    from nurture import admin_enroll, admin_messages, admin_outbox, admin_sequences  # noqa: F401

    return bp
