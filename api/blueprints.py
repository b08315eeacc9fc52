"""What every blueprint of /api/v1 shares: problem+json errors, the key check, the
per-key rate limit and no browser CSRF (the API reads no cookie, so a cross-site request
carries no authority: only the Authorization header does)."""

import base64
import binascii
from datetime import datetime

from flask import request
from flask_smorest import Blueprint

from api import auth, problems
from core.extensions import csrf, limiter

PREFIX = "/api/v1"


def api_blueprint(name: str, path: str, description: str) -> Blueprint:
    bp = Blueprint(name, __name__, url_prefix=PREFIX + path, description=description)
    problems.init_blueprint(bp)
    bp.before_request(auth.check_key)
    bp.before_request(refuse_nul)
    csrf.exempt(bp)
    limiter.limit(auth.rate_limit, key_func=auth.rate_limit_key)(bp)
    return bp


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def refuse_nul():
    """A NUL character anywhere in a JSON body: PostgreSQL cannot store one, so it is a
    422 here rather than a failure halfway through a write."""
    if request.is_json and any("\x00" in text for text in _strings(request.get_json(silent=True))):
        raise problems.Problem(422, "A NUL character (\\0) cannot be part of what you send.")


def cursor_for(*values) -> str:
    """An opaque keyset cursor: the sort key of the last row of a page."""
    text = "|".join(value.isoformat() if hasattr(value, "isoformat") else str(value) for value in values)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _cursor_values(value: str, types) -> tuple:
    parts = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().split("|")
    if len(parts) != len(types):
        raise ValueError(value)
    parsed = tuple(
        datetime.fromisoformat(part) if kind is datetime else int(part)
        for part, kind in zip(parts, types, strict=True)
    )
    if any(isinstance(item, int) and not 0 <= item < 2**31 for item in parsed):
        raise ValueError(value)
    return parsed


def keyset_page(query, limit: int, key) -> dict:
    """One page of `query` (already ordered and past the cursor): {"items", "next_cursor"},
    the cursor made of `key(last row)` when more rows follow."""
    from core.extensions import db

    rows = db.session.scalars(query.limit(limit + 1)).all()
    items = list(rows[:limit])
    return {"items": items, "next_cursor": cursor_for(*key(items[-1])) if len(rows) > limit else None}


def parse_cursor(value: str, *types) -> tuple:
    """The values of cursor_for, read as `types` (datetime or int); a 422 problem when
    the cursor was not made by us."""
    try:
        return _cursor_values(value, types)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise problems.Problem(
            422, "Unknown cursor.", errors={"query": {"cursor": ["Not a cursor of this API."]}}
        ) from exc
