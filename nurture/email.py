"""The email as it goes on the wire: layout, headers, MIME parts, DKIM.

Built by hand rather than through email.message or Flask-Mail's Message: both cost
more than the SMTP exchange itself, and Flask-Mail sends UTF-8 bodies as 8bit without
wrapping, so a long paragraph makes a line over RFC 5322's 998 characters that strict
servers refuse. Here both parts are quoted-printable (lines of at most 76 characters),
headers are RFC 2047-encoded and folded, and every line ends in CRLF as DKIM expects.
"""

import binascii
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import flask_mail
from flask import current_app
from markupsafe import escape

CRLF = "\r\n"
DKIM_HEADERS = [
    b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type",
    b"list-id", b"list-unsubscribe", b"list-unsubscribe-post",
]  # fmt: skip
_HREF = re.compile(r'href="(https?://[^"]+)"')


class AddressError(ValueError):
    """A recipient address that cannot be put in a header."""


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


class PreparedMessage(flask_mail.Message):
    """A Flask-Mail message whose bytes are already built (and maybe DKIM-signed), so
    Flask-Mail's Connection only does the SMTP exchange on its reused connection."""

    def __init__(self, raw: bytes, *, sender: str, recipient: str):
        super().__init__(recipients=[recipient], sender=sender)
        self.raw = raw

    def as_bytes(self) -> bytes:
        return self.raw

    def has_bad_headers(self) -> bool:
        return False


def _qp(text: str) -> str:
    """Quoted-printable with CRLF line ends; no encoded line is longer than 76."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(data, istext=True).decode("ascii").replace("\n", CRLF)


def _header(name: str, value: str) -> str:
    if value.isascii() and len(value) + len(name) < 76:
        return f"{name}: {value}"
    return f"{name}: " + Header(value, "utf-8", header_name=name).encode(linesep=CRLF)


@lru_cache(maxsize=64)
def _constant_headers(sender: str, list_id: str) -> str:
    """From and List-Id, the same on every mail of a worker and topic: encoded once."""
    name, address, _domain = sender_parts(sender)
    return _header("From", formataddr((name, address), "utf-8")) + CRLF + _header("List-Id", list_id)


@lru_cache(maxsize=8)
def sender_parts(sender: str) -> tuple[str, str, str]:
    """(display name, address, domain) of the configured sender."""
    name, address = parseaddr(sender)
    return name, address, address.rpartition("@")[2] or "localhost"


def envelope_address(address: str) -> str:
    """An address as SMTP's RCPT TO needs it: an internationalised domain in its ASCII
    (punycode) form, as Flask-Mail encodes it. Raises AddressError for a non-ASCII local
    part, which only SMTPUTF8 could carry (this sender does not use it)."""
    if address.isascii():
        return address
    try:
        return flask_mail.sanitize_address(address)
    except UnicodeError as exc:
        raise AddressError(
            f"{address!r}: a non-ASCII name before the @ needs SMTPUTF8, which this sender does not use"
        ) from exc


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


def queued_message_id(sender: str) -> str:
    """The Message-ID a message row gets when it is queued, on the sender's domain. Every
    attempt sends it unchanged, so a mail repeated after a worker died between the
    server's acceptance and the commit carries the same Message-ID, and receiving
    systems that drop repeats drop it."""
    return new_message_id(sender_parts(sender)[2])


def stable_message_id(message_id: int, domain: str, secret: str) -> str:
    """The Message-ID of a row queued without one (before they were fixed at queue
    time): derived from the row, so it too is the same on every attempt."""
    digest = hmac.new(secret.encode(), f"message-id:{message_id}".encode(), hashlib.sha256).hexdigest()
    return f"<{digest[:32]}@{domain}>"


def build(
    rendered: Rendered,
    *,
    sender: str,
    to: str,
    message_id: str,
    list_id: str,
    unsubscribe_url: str | None,
    unsubscribe_mailto: str | None,
) -> bytes:
    """The complete message: headers and a multipart/alternative of text and HTML.
    Without an unsubscribe URL (mail to staff) there are no List-Unsubscribe headers."""
    if not to or any(ch in to for ch in "\r\n<>,;") or "@" not in to:
        raise AddressError(f"not a deliverable address: {to!r}")
    boundary = "=_" + uuid.uuid4().hex
    lines = [
        _constant_headers(sender, list_id),
        f"To: {envelope_address(to)}",  # an IDN domain in its ASCII (punycode) form
        _header("Subject", rendered.subject),
        f"Date: {formatdate()}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        *(
            [
                f"List-Unsubscribe: <{unsubscribe_url}>,{CRLF} <{unsubscribe_mailto}>",
                "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            ]
            if unsubscribe_url
            else []
        ),
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
        f"--{boundary}",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        _qp(rendered.text),
        f"--{boundary}",
        'Content-Type: text/html; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        _qp(rendered.html),
        f"--{boundary}--",
        "",
    ]
    raw = CRLF.join(lines).encode("ascii")
    return dkim_sign(raw)


def dkim_sign(raw: bytes) -> bytes:
    """Prepend a DKIM-Signature when DKIM_PRIVATE_KEY (PEM text or a file path),
    DKIM_SELECTOR and DKIM_DOMAIN are set."""
    key = dkim_key(current_app.config.get("DKIM_PRIVATE_KEY") or "")
    if not key:
        return raw
    import dkim

    signature = dkim.sign(
        raw,
        current_app.config["DKIM_SELECTOR"].encode(),
        current_app.config["DKIM_DOMAIN"].encode(),
        key,
        include_headers=DKIM_HEADERS,
    )
    return signature + raw


@lru_cache(maxsize=4)
def dkim_key(setting: str) -> bytes:
    setting = setting.strip()
    if not setting:
        return b""
    if setting.startswith("-----BEGIN"):
        return setting.encode()
    return Path(setting).read_bytes()


def track_links(html: str, make_click_url) -> str:
    """Point every http(s) link of a step's body at the click redirect (or whatever
    `make_click_url` makes of its target)."""
    return _HREF.sub(
        lambda match: f'href="{escape(make_click_url(match.group(1).replace("&amp;", "&")))}"', html
    )


def tag_link(url: str, tags: dict[str, str], site_url: str) -> str:
    """`url` with `tags` (a campaign's utm_* parameters) added, when it points at the site
    itself and carries none of them already: the editor's own tags win, and other sites'
    links are left as they are."""
    parts = urlsplit(url)
    site = urlsplit(site_url)
    if not tags or (parts.scheme, parts.netloc) != (site.scheme, site.netloc):
        return url
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name in tags for name, _value in query):
        return url
    return urlunsplit(parts._replace(query=urlencode([*query, *tags.items()])))
