"""Short links: what a link may point at, making and changing one, and a visit through
it (counted, then sent on with its utm tags).

Rules kept here:
- A target is a path of this site that a page answers (an absolute URL on SITE_URL is
  taken as its path); anything else (another host, a scheme, `//host`, a backslash, a
  path no page answers, another short link) is refused, so /s/ is never an open redirect.
- A visit costs two statements: one UPDATE … RETURNING that counts the visit on the link
  and reads what the redirect needs (nothing happens for an expired or unknown code),
  and one upsert of the day's row. No SELECT before, no read-modify-write.
- A visit's attribution is plain utm tags on the target (utm_source = the channel,
  utm_medium = qr or link, utm_campaign, utm_content = s-<code>), so first/last-touch
  attribution, the visit's touch cookie and the insights channels take it exactly as they
  take any campaign's tags.
"""

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from channels.models import CONTENT_PREFIX, LinkDay, ShortLink
from channels.sitedays import site_day
from content.models import KIND_PREFIX, Article
from core.extensions import db
from core.schema import upsert_insert
from core.urls import site_adapter
from core.views import safe_next

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{3,32}$")
# No 0/O, 1/l/I: a code is sometimes typed from a poster.
CODE_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 7
MEDIUM_SCAN = "qr"
MEDIUM_CLICK = "link"
_PREFIX_KIND = {prefix: kind for kind, prefix in KIND_PREFIX.items()}


class LinkError(Exception):
    """Per-field messages for a link that cannot be saved; nothing was stored."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class Visit:
    """What a counted visit redirects to."""

    location: str
    link_id: int


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def clean_target(value: str) -> tuple[str, int | None]:
    """(the path, the id of the article it shows or None) of a target a marketer typed.

    Raises LinkError({"target": …}) for anything but a page of this site."""
    text = (value or "").strip()
    site = current_app.config["SITE_URL"].rstrip("/")
    if text.startswith(site + "/") or text == site:
        text = text[len(site) :] or "/"
    if not text:
        raise LinkError({"target": _("Enter the page this link leads to, such as /library/saas-renewal.")})
    parts = urlsplit(text)
    # safe_next's same-site rules (no scheme, host, `//`, backslash or control character),
    # and no space either: a printed link has none.
    if not safe_next(text, "") or " " in text or len(text) > 400:
        raise LinkError(
            {
                "target": _(
                    "A short link leads to a page of this site only: a path such as /library/saas-renewal."
                )
            }
        )
    path = parts.path
    try:
        endpoint, args = site_adapter().match(path, method="GET")
    except RequestRedirect as moved:
        path = urlsplit(moved.new_url).path
        endpoint, args = site_adapter().match(path, method="GET")
    except HTTPException:
        raise LinkError({"target": _("No page of this site answers at %(path)s.", path=path)}) from None
    if endpoint.startswith("channels.") or endpoint == "static" or endpoint.startswith("core.healthz"):
        raise LinkError({"target": _("A short link cannot lead to another short link or a file.")})
    article_id = None
    if "slug" in args:
        article_id = article_at(path)
        if article_id is None:
            raise LinkError({"target": _("No article is at %(path)s.", path=path)})
    query = f"?{parts.query}" if parts.query else ""
    return path + query, article_id


def article_at(path: str) -> int | None:
    """The id of the article whose page is `path` (/library/x, /help/y, …), or None."""
    segments = path.strip("/").split("/")
    if len(segments) != 2 or segments[0] not in _PREFIX_KIND:
        return None
    return db.session.scalar(
        select(Article.id).where(Article.kind == _PREFIX_KIND[segments[0]], Article.slug == segments[1])
    )


def save_link(data: Mapping[str, object], *, now: datetime, link: ShortLink | None = None) -> ShortLink:
    """Create or change a link from `data` (target, code, channel, campaign, owner_id,
    expires_at). The code of an existing link never changes: it is printed on posters."""
    errors: dict[str, str] = {}
    try:
        target, article_id = clean_target(str(data.get("target") or ""))
    except LinkError as exc:
        errors.update(exc.errors)
        target, article_id = "", None
    code = str(data.get("code") or "").strip()
    if link is None:
        if code and not CODE_PATTERN.match(code):
            errors["code"] = _("3 to 32 letters, digits, - or _.")
        elif code and db.session.scalar(select(ShortLink.id).where(ShortLink.code == code)) is not None:
            errors["code"] = _("This code is taken.")
    expires_at = data.get("expires_at")
    if (
        isinstance(expires_at, datetime)
        and expires_at <= now
        and (link is None or link.expires_at != expires_at)
    ):
        errors["expires_at"] = _("The expiry is in the past.")
    if errors:
        raise LinkError(errors)
    if link is None:
        link = ShortLink(code=code or _unused_code(), created_at=now)
        db.session.add(link)
    link.target, link.article_id = target, article_id
    link.channel = str(data.get("channel") or "").strip()[:60]
    link.campaign = str(data.get("campaign") or "").strip()[:120]
    link.owner_id = data.get("owner_id") or None
    link.expires_at = expires_at if isinstance(expires_at, datetime) else None
    link.updated_at = now
    db.session.commit()
    return link


def _unused_code() -> str:
    while True:
        code = new_code()
        if db.session.scalar(select(ShortLink.id).where(ShortLink.code == code)) is None:
            return code


def tagged_target(target: str, *, code: str, channel: str, campaign: str, scanned: bool) -> str:
    """The target with the visit's utm tags (the link's own win over any in the target)."""
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith("utm_")]
    tags = {
        "utm_source": channel or "shortlink",
        "utm_medium": MEDIUM_SCAN if scanned else MEDIUM_CLICK,
        "utm_campaign": campaign,
        "utm_content": CONTENT_PREFIX + code,
    }
    query += [(k, v) for k, v in tags.items() if v]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


def visit(code: str, *, scanned: bool, now: datetime, count: bool = True) -> Visit | None:
    """Count a visit through `code` and say where it goes; None for an unknown or expired
    code (nothing counted). `count=False` (a crawler, a link preview) only reads."""
    column = ShortLink.scans if scanned else ShortLink.clicks
    live = (ShortLink.code == code, (ShortLink.expires_at.is_(None)) | (ShortLink.expires_at > now))
    wanted = (ShortLink.id, ShortLink.target, ShortLink.channel, ShortLink.campaign)
    if count:
        statement = update(ShortLink).where(*live).values({column.key: column + 1}).returning(*wanted)
    else:
        statement = select(*wanted).where(*live)
    row = db.session.execute(statement).first()
    if row is None or not count:
        db.session.rollback()
        return None if row is None else _visit_of(row, code, scanned)
    name = "scans" if scanned else "clicks"
    day = upsert_insert(db.session.get_bind(), LinkDay.__table__).values(
        link_id=row.id, day=site_day(now), scans=int(scanned), clicks=int(not scanned)
    )
    db.session.execute(
        day.on_conflict_do_update(
            index_elements=["link_id", "day"], set_={name: getattr(LinkDay.__table__.c, name) + 1}
        )
    )
    db.session.commit()
    return _visit_of(row, code, scanned)


def _visit_of(row, code: str, scanned: bool) -> Visit:
    location = tagged_target(
        row.target, code=code, channel=row.channel, campaign=row.campaign, scanned=scanned
    )
    return Visit(location=location, link_id=row.id)


def link_by_code(code: str) -> ShortLink | None:
    return db.session.scalar(select(ShortLink).where(ShortLink.code == code))


def qr_url(link: ShortLink) -> str:
    """What a link's QR code holds: its absolute URL, marked as a scan."""
    return current_app.config["SITE_URL"].rstrip("/") + f"/s/{link.code}?qr=1"


def short_url(link: ShortLink) -> str:
    return current_app.config["SITE_URL"].rstrip("/") + f"/s/{link.code}"
