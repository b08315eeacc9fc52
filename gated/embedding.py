"""Lead forms embedded on other sites: which forms can be, where each may be, and the
sites each is seen on.

A form is named by its embed path, the path of its own page without the language:
`library/<slug>` (a white paper), `demo-request`, `newsletter`. The host origins allowed
for a form are EMBED_ORIGINS (every form) and the form's own list, kept in the admin
(EmbedSettings). Exactly those may frame it (CSP frame-ancestors), read it across
origins (CORS, by flask-cors) and send it from their own page (core.security's check by
Origin); any other origin is refused and nothing it sends is stored.

A submission in a frame is attributed to the host page (host_touch), what embed-frame.js
read there: checked as visitor input, and used for attribution only.

Where a form is seen costs one small write per form, origin and process every
SIGHTING_EVERY: the pages stay cacheable, and the admin still lists every site.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit, urlunsplit

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from content.public import get_public_article
from core.extensions import db
from gated.models import UTM_FIELDS, EmbedSettings, EmbedSighting

KINDS = {"demo-request": "demo", "newsletter": "newsletter"}
LIBRARY = "library/"
SIGHTING_EVERY = 600.0  # seconds between two writes of one form's sighting on one origin
MAX_ORIGIN = 200
MAX_URL = 500  # the landing page and referrer columns
MAX_TAG = 200  # a utm tag, as the site's own form keeps it
# What a browser's location.href or document.referrer never holds unencoded: whitespace,
# control characters, double quotes and angle brackets (markup's way in).
_NOT_IN_URL = re.compile(r'[\x00-\x20\x7f-\x9f<>"]')
_NOT_IN_TAG = re.compile(r"[\x00-\x1f\x7f-\x9f<>]")


@dataclass(frozen=True)
class EmbeddedForm:
    path: str  # library/<slug>, demo-request, newsletter
    kind: str  # whitepaper, demo, newsletter
    slug: str = ""


def form_for_path(path: str) -> EmbeddedForm | None:
    """The form an embed path names, or None (no such form)."""
    if path in KINDS:
        return EmbeddedForm(path, KINDS[path])
    if path.startswith(LIBRARY):
        slug = path[len(LIBRARY) :]
        if slug and "/" not in slug and len(slug) <= 190:
            return EmbeddedForm(path, "whitepaper", slug)
    return None


def normalise_origin(text: str) -> str | None:
    """`https://host[:port]` as a browser sends it in Origin (lower case, no path), or
    None when `text` is not an http(s) origin. A trailing slash or a path is dropped."""
    text = (text or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    origin = f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")
    return origin if len(origin) <= MAX_ORIGIN else None


def page_url(text: str | None, *, origin: str | None = None) -> str | None:
    """`text` as an absolute http(s) URL without its fragment (on `origin` when one is
    given), or None: too long, another scheme, another origin, or anything a browser
    would have percent-encoded."""
    text = (text or "").strip()
    if not text or len(text) > MAX_URL or _NOT_IN_URL.search(text):
        return None
    found = normalise_origin(text)
    if found is None or (origin is not None and found != origin):
        return None
    return urlunsplit(urlsplit(text)._replace(fragment=""))


def host_touch(data: Mapping[str, str], host: str) -> dict[str, str]:
    """Where a submission from a frame on `host` (an allowed origin) came from, as the
    hidden fields of the site's own form: the host page is the landing page (as
    embed-frame.js sent it when it is a URL on `host`, else the host), the host page's own
    referrer the referrer, or the host page when it had none (it led the visitor to the
    form: never "direct"), and the utm tags those of the host page's query.

    What the frame sends is the visitor's to write: it only says where a lead came from,
    never decides who may send the form (the host is checked by origin, apart)."""
    page = page_url(data.get("landing_page"), origin=host) or host + "/"
    query = parse_qs(urlsplit(page).query)
    tags = {name: _NOT_IN_TAG.sub("", (query.get(name) or [""])[0]).strip()[:MAX_TAG] for name in UTM_FIELDS}
    return {"landing_page": page, "referrer": page_url(data.get("referrer")) or page, **tags}


def parse_origins(text: str) -> tuple[list[str], list[str]]:
    """The origins in `text` (one per line or separated by commas or spaces), and the
    entries that are not origins."""
    found, bad = [], []
    for entry in text.replace(",", " ").split():
        origin = normalise_origin(entry)
        if origin is None:
            bad.append(entry)
        elif origin not in found:
            found.append(origin)
    return found, bad


def site_origins() -> list[str]:
    """EMBED_ORIGINS, the origins allowed for every form."""
    return [origin for origin in map(normalise_origin, current_app.config["EMBED_ORIGINS"]) if origin]


def form_origins(path: str) -> list[str]:
    """The origins set for one form in the admin."""
    text = db.session.scalar(select(EmbedSettings.origins).where(EmbedSettings.form == path))
    return parse_origins(text or "")[0]


def allowed_origins(path: str) -> frozenset[str]:
    """Every origin that may embed the form at `path`."""
    return frozenset(site_origins()) | frozenset(form_origins(path))


def every_allowed_origin() -> frozenset[str]:
    """The origins allowed for any form (the shared endpoints a form calls)."""
    texts = db.session.scalars(select(EmbedSettings.origins))
    return frozenset(site_origins()).union(*(parse_origins(text)[0] for text in texts))


def save_origins(path: str, text: str, *, now: datetime) -> list[str]:
    """Set the form's own origins from what an admin typed; returns them. Raises
    ValueError naming the entries that are not origins (nothing saved then)."""
    origins, bad = parse_origins(text)
    if bad:
        raise ValueError(", ".join(bad))
    settings = db.session.scalar(select(EmbedSettings).where(EmbedSettings.form == path))
    if settings is None:
        settings = EmbedSettings(form=path)
        db.session.add(settings)
    settings.origins = "\n".join(origins)
    settings.updated_at = now
    db.session.commit()
    return origins


def public_form_exists(form: EmbeddedForm, *, now: datetime) -> bool:
    return form.kind != "whitepaper" or get_public_article("whitepaper", form.slug, now=now) is not None


class _RecentSightings:
    """(form, origin) -> when this process last wrote its sighting."""

    def __init__(self):
        self.lock = threading.Lock()
        self.written: dict[tuple[str, str], float] = {}

    def due(self, key: tuple[str, str]) -> bool:
        moment = time.monotonic()
        with self.lock:
            if moment - self.written.get(key, float("-inf")) < SIGHTING_EVERY:
                return False
            if len(self.written) > 10000:
                self.written.clear()
            self.written[key] = moment
            return True


def _recent(app) -> _RecentSightings:
    return app.extensions.setdefault("lodestar.embed_sightings", _RecentSightings())


def record_sighting(path: str, origin: str, *, now: datetime, submitted: bool = False) -> None:
    """Note that the form at `path` was seen on `origin` (an allowed one): a view at most
    every SIGHTING_EVERY per process, a submission always (its count goes up)."""
    if not submitted and not _recent(current_app).due((path, origin)):
        return
    values = {"last_seen_at": now}
    if submitted:
        values["submissions"] = EmbedSighting.submissions + 1
    found = db.session.execute(
        update(EmbedSighting)
        .where(EmbedSighting.form == path, EmbedSighting.origin == origin)
        .values(**values)
    ).rowcount
    if not found:
        try:
            with db.session.begin_nested():
                db.session.add(
                    EmbedSighting(
                        form=path,
                        origin=origin,
                        first_seen_at=now,
                        last_seen_at=now,
                        submissions=1 if submitted else 0,
                    )
                )
        except IntegrityError:  # another request wrote it first: count on its row
            db.session.execute(
                update(EmbedSighting)
                .where(EmbedSighting.form == path, EmbedSighting.origin == origin)
                .values(**values)
            )
    db.session.commit()


def sightings() -> dict[str, list[EmbedSighting]]:
    """Every form's sightings, most recent first."""
    found: dict[str, list[EmbedSighting]] = {}
    for row in db.session.scalars(select(EmbedSighting).order_by(EmbedSighting.last_seen_at.desc())):
        found.setdefault(row.form, []).append(row)
    return found


def settings_by_form() -> dict[str, list[str]]:
    return {row.form: parse_origins(row.origins)[0] for row in db.session.scalars(select(EmbedSettings))}


@dataclass(frozen=True)
class FormListing:
    """A form as the embedding admin lists it."""

    path: str
    title: str
    origins: list[str]
    seen: list[EmbedSighting]


def listing(*, now: datetime) -> list[FormListing]:
    """Every embeddable form: the demo request, the newsletter and each public white
    paper, with its own origins and the sites it was seen on."""
    from flask_babel import gettext as _

    from content.public import public_articles

    own, seen = settings_by_form(), sightings()
    forms = [("demo-request", _("Request a demo")), ("newsletter", _("Subscribe to the newsletter"))]
    papers = db.session.scalars(public_articles(kind="whitepaper", now=now).limit(500))
    forms += [(LIBRARY + article.slug, article.title) for article in papers]
    return [FormListing(path, title, own.get(path, []), seen.get(path, [])) for path, title in forms]
