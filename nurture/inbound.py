"""The mailto half of List-Unsubscribe: every mail names an address of its own,
`<mailbox>+<message id>-<signature>@<domain>` built from MAIL_UNSUBSCRIBE_MAILTO, and a
mail sent to it unsubscribes that message's recipient at once (as the https link does).

Mail reaches us two ways: `flask nurture inbound --port N`, a small aiosmtpd server the
MTA (or the MX itself) hands these addresses to, or `flask nurture inbound-mail`, which
reads one RFC 5322 message on stdin for an MTA's pipe transport. The signature is an
HMAC of the message id under SECRET_KEY, in lowercase hex because some MTAs lowercase
local parts; an address with a forged or damaged signature changes nothing and is logged.
"""

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.utils import getaddresses

from flask import current_app

from core.extensions import db
from core.timeutil import utcnow
from nurture import suppression

log = logging.getLogger(__name__)
SIGNATURE_LENGTH = 20  # hex digits: 80 bits, and the local part stays under RFC 5321's 64
# Where MTAs and mail clients put the address a message was sent to.
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")


@dataclass
class Outcome:
    address: str
    status: str  # unsubscribed | forged | unknown
    message_id: int | None = None
    unsubscribed: str | None = None  # the recipient of that message


def _signature(message_id: int, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"unsubscribe-mailto:{message_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:SIGNATURE_LENGTH]


def mailbox() -> str:
    """The configured unsubscribe mailbox (default: unsubscribe@ the sender's domain)."""
    from nurture.email import sender_parts

    config = current_app.config
    return (
        config["MAIL_UNSUBSCRIBE_MAILTO"] or f"unsubscribe@{sender_parts(config['MAIL_DEFAULT_SENDER'])[2]}"
    )


def unsubscribe_address(message_id: int, box: str) -> str:
    """The address whose mail unsubscribes the recipient of message `message_id`."""
    local, _at, domain = box.partition("?")[0].rpartition("@")
    signature = _signature(message_id, current_app.config["SECRET_KEY"])
    return f"{local}+{message_id}-{signature}@{domain}"


def _locals(address: str, box: str) -> tuple[str, str]:
    """(the address's local part, the mailbox's), lowercased: some MTAs fold case."""
    local = address.strip().strip("<>").rpartition("@")[0]
    base = box.partition("?")[0].rpartition("@")[0]
    return local.lower(), base.lower()


def is_ours(address: str, box: str) -> bool:
    """Whether an address is the mailbox or one of its tagged addresses."""
    local, base = _locals(address, box)
    return local == base or local.startswith(base + "+")


def message_of(address: str, box: str) -> int | None:
    """The message id a tagged address carries, or None when it has no valid signature."""
    local, base = _locals(address, box)
    number, _dash, signature = local.removeprefix(base + "+").partition("-")
    if not local.startswith(base + "+") or not number.isdigit() or len(number) > 18:
        return None
    expected = _signature(int(number), current_app.config["SECRET_KEY"])
    return int(number) if hmac.compare_digest(signature, expected) else None


def recipients(raw: bytes, envelope: tuple[str, ...] = ()) -> list[str]:
    """Every address the message was sent to: the envelope first, then the headers."""
    parsed = message_from_bytes(raw, policy=policy.compat32)
    found = list(envelope)
    for name in RECIPIENT_HEADERS:
        found += [address for _name, address in getaddresses(parsed.get_all(name, [])) if address]
    seen = set()
    return [a for a in found if not (a.lower() in seen or seen.add(a.lower()))]


def handle_mail(raw: bytes, *, envelope: tuple[str, ...] = (), now: datetime | None = None) -> list[Outcome]:
    """Unsubscribe the recipient of every message this mail's tagged addresses name;
    a forged or damaged address is logged and changes nothing. Commits."""
    box = mailbox()
    outcomes = []
    for address in recipients(raw, envelope):
        if not is_ours(address, box) or "+" not in address.partition("@")[0]:
            continue
        message_id = message_of(address, box)
        if message_id is None:
            log.warning("unsubscribe mail to %s: the signature does not match; ignored", address)
            outcomes.append(Outcome(address, "forged"))
            continue
        try:
            unsubscribed = suppression.unsubscribe(message_id, now=now or utcnow())
        except suppression.UnknownMessage:
            db.session.rollback()
            log.info("unsubscribe mail for message %s, which no longer exists (erased)", message_id)
            outcomes.append(Outcome(address, "unknown", message_id))
            continue
        log.info("message %s: its recipient unsubscribed by mail", message_id)
        outcomes.append(Outcome(address, "unsubscribed", message_id, unsubscribed))
    return outcomes


class InboundHandler:
    """aiosmtpd handler: accepts mail for the unsubscribe mailbox only, and handles it
    before answering 250 (so a database outage answers 451 and the sender retries)."""

    def __init__(self, app):
        self.app = app

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.app.app_context():
            ours = is_ours(address, mailbox())
        if not ours:
            return "550 5.1.1 not an unsubscribe address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        with self.app.app_context():
            try:
                handle_mail(raw, envelope=tuple(envelope.rcpt_tos))
            except Exception:  # noqa: BLE001 - answered as a temporary failure, and logged
                db.session.rollback()
                current_app.logger.exception("inbound unsubscribe mail failed")
                return "451 4.3.0 try again later"
            finally:
                db.session.remove()
        return "250 OK"


def serve(app, *, host: str, port: int):
    """Start the inbound server in a thread; returns the aiosmtpd Controller (stop())."""
    from aiosmtpd.controller import Controller

    controller = Controller(InboundHandler(app), hostname=host, port=port)
    controller.start()
    return controller
