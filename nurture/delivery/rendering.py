"""Rendering: what a claimed message says and the mail that carries it, or, for a
nurture message that must not go now, the outcome to record instead (skipped for good,
or held while its sequence is paused). A later package adds what its own kind of
message says with add_renderer.
"""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import force_locale, gettext
from jinja2 import TemplateError

from nurture import compose, email, inbound, personalise
from nurture.mailqueue import HELD, HOLD, TEST_TEMPLATE
from nurture.models import Message

# What makes one mail unbuildable (it fails; the rest of the batch goes).
BUILD_ERRORS = (personalise.PersonalisationError, TemplateError, email.AddressError)


def add_renderer(app, kind: str, render_kind) -> None:
    """Let a later package (campaigns) say what its kind of message says:
    `render_kind(message)` gets the claimed message (with its lead) and returns an
    email.Rendered; everything else (claim, suppression, headers, exactly once) stays
    the worker's."""
    app.extensions.setdefault("nurture_renderers", {})[kind] = render_kind


def render(message: Message) -> email.Rendered:
    """What a claimed message says. Raises PersonalisationError/TemplateError."""
    renderer = current_app.extensions.get("nurture_renderers", {}).get(message.kind)
    if renderer is not None:
        return renderer(message)
    if message.kind == "nurture":
        enrollment = message.enrollment
        return compose.compose_step(
            message.step,
            message.lead,
            message_id=message.id,
            asset_id=enrollment.asset_id if enrollment else None,
            locale=message.sequence.locale,
        )
    if message.template == TEST_TEMPLATE:
        context = personalise.sample_context(current_app.config)
        context["unsubscribe_url"] = compose.unsubscribe_url(message.id)
        subject, text, html = personalise.render_step(
            message.context["subject"], message.context["body"], context
        )
        locale = message.context.get("locale", "zh-CN")
        with force_locale(locale.replace("-", "_")):
            marked = gettext("[TEST] %(subject)s", subject=subject)
        return compose.wrap(
            email.Rendered(marked, text, compose.inline_styles(html)),
            message_id=message.id,
            locale=locale,
            transactional=False,
            pixel=False,
        )
    if message.kind == "staff":
        return compose.compose_staff(
            message.template, message.context, locale=message.context.get("locale", "zh-CN")
        )
    return compose.compose_transactional(
        message.template,
        message.lead,
        message.context,
        message_id=message.id,
        locale=message.context.get("locale", "zh-CN"),
    )


def list_id(config, topic, domain: str) -> str:
    """The List-Id (RFC 2919) of a mail: one list per topic, so a person's mail program
    can file or filter each; mail without a topic keeps the site's own."""
    base = config["MAIL_LIST_ID"] or "nurture." + domain
    if topic is None:
        return f"{config['SITE_NAME']} <{base}>"
    return f"{config['SITE_NAME']} {topic.name} <{topic.slug}.{base}>"


def why_not(message, now: datetime) -> dict | None:
    """The outcome to record instead of sending, when a nurture message must not go
    out (now): skipped for good, or held while its sequence is paused."""
    if message.kind != "nurture":
        return None
    if message.step is None or message.lead is None or message.sequence is None:
        return {"status": "skipped", "error": "the step or the lead was deleted"}
    enrollment = message.enrollment
    if enrollment is not None and enrollment.status == "exited":
        return {"status": "skipped", "error": f"left the sequence: {enrollment.exit_reason}"}
    if enrollment is not None and message.round is not None and message.round != enrollment.round:
        # Queued (held, or waiting to retry) before the lead left and was enrolled again:
        # the new round sends its own copy of the step.
        return {"status": "skipped", "error": "from an earlier enrollment in the sequence"}
    if message.sequence.status == "archived":
        return {"status": "skipped", "error": "the sequence was archived"}
    if message.sequence.status != "active":
        return {
            "status": "queued",
            "next_attempt_at": now + HOLD,
            "attempts": message.attempts - 1,
            "claimed_by": "",
            "error": HELD,
        }
    return None


@dataclass(frozen=True)
class Letterhead:
    """What every mail of a batch is sent as: the sender, its address and domain, the
    unsubscribe mailbox, and the settings the headers are built from."""

    sender: str
    address: str
    domain: str
    mailto: str
    config: dict

    @classmethod
    def from_config(cls, config) -> "Letterhead":
        sender = config["MAIL_DEFAULT_SENDER"]
        _name, address, domain = email.sender_parts(sender)
        mailto = config["MAIL_UNSUBSCRIBE_MAILTO"] or f"unsubscribe@{domain}"
        return cls(sender, address, domain, mailto, config)


@dataclass(frozen=True)
class Ready:
    """A mail ready to go: the claimed message, what it says, its Message-ID, its bytes."""

    message: object
    rendered: email.Rendered
    message_id: str
    raw: bytes


def build(message, letterhead: Letterhead) -> Ready:
    """Render a claimed message and build its mail. Raises one of BUILD_ERRORS for a
    mail that cannot be built."""
    rendered = render(message)
    config = letterhead.config
    message_id = message.message_id or email.stable_message_id(
        message.id, letterhead.domain, config["SECRET_KEY"]
    )
    staff = message.kind == "staff"
    raw = email.build(
        rendered,
        sender=letterhead.sender,
        to=message.to_address,
        message_id=message_id,
        list_id=list_id(config, message.topic, letterhead.domain),
        unsubscribe_url=None if staff else compose.unsubscribe_url(message.id),
        unsubscribe_mailto=None
        if staff
        else "mailto:" + inbound.unsubscribe_address(message.id, letterhead.mailto),
    )
    return Ready(message, rendered, message_id, raw)
