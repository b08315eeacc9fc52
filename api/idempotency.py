"""Writes through the API: one transaction each, and exactly once per Idempotency-Key.

The rules, before the code that keeps them:
- A write's view changes the session and never commits; `writes` commits when the view
  answers with success and rolls everything back otherwise, so a refused request stores
  nothing (never a half-written lead).
- With an `Idempotency-Key` header, the first statement of that transaction claims the
  key: INSERT … ON CONFLICT DO NOTHING into api_idempotency, unique per (API key,
  idempotency key). The answer is stored in the same row and committed with the write.
  A concurrent retry's INSERT waits for the first transaction (PostgreSQL waits on the
  unique index; SQLite has one writer at a time), then finds the row and replays the
  stored answer. A retry that arrives while the first is still running elsewhere and
  finds the row without an answer gets 409 with Retry-After.
- The same key with a different method, path or body is a 422 problem: a client bug
  that must not be answered with another request's result.
- A failed request keeps no row (rolled back with everything else), so it may be retried
  with the same key.
"""

import hashlib
import json
from functools import wraps

from flask import g, make_response, request
from sqlalchemy import select

from api.models import IdempotencyRecord
from api.problems import Problem
from api.schemas import ProblemSchema
from core.extensions import db
from core.schema import upsert_insert
from core.security import reads_json
from core.timeutil import utcnow

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY = 200


def request_digest() -> str:
    """Method, path and body; a JSON body in canonical form, so key order and spacing do
    not make a retry look like another request."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode() if raw else b""
    except ValueError:
        body = raw
    return hashlib.sha256(b"%s %s\n%s" % (request.method.encode(), request.path.encode(), body)).hexdigest()


def _claim(api_key_id: int, key: str, digest: str) -> bool:
    statement = (
        upsert_insert(db.session.get_bind(), IdempotencyRecord)
        .values(api_key_id=api_key_id, key=key, request_hash=digest, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["api_key_id", "key"])
        .returning(IdempotencyRecord.id)
    )
    return db.session.scalar(statement) is not None


def _replay(api_key_id: int, key: str, digest: str):
    stored = db.session.execute(
        select(IdempotencyRecord.request_hash, IdempotencyRecord.status_code, IdempotencyRecord.body).where(
            IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key
        )
    ).first()
    db.session.rollback()
    if stored is None:  # the first request failed and its claim rolled back just now
        raise Problem(409, "The first request with this Idempotency-Key failed just now; retry.")
    if stored.request_hash != digest:
        raise Problem(
            422,
            "This Idempotency-Key was already used for a different request.",
            errors={"headers": {HEADER: ["Used before with another method, path or body."]}},
        )
    if stored.status_code is None:
        raise Problem(
            409, "The first request with this Idempotency-Key is still running.", headers={"Retry-After": "1"}
        )
    response = make_response(stored.body, stored.status_code)
    response.headers[REPLAYED] = "true"
    return response


def _run(view, args, kwargs, record: tuple[int, str] | None):
    try:
        response = make_response(view(*args, **kwargs))
    except Exception:
        db.session.rollback()
        raise
    if response.status_code >= 400:
        db.session.rollback()
        return response
    if record is not None:
        api_key_id, key = record
        db.session.execute(
            IdempotencyRecord.__table__.update()
            .where(IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key)
            .values(status_code=response.status_code, body=response.get_json(silent=True))
        )
    db.session.commit()
    return response


def writes(bp):
    """Make a view one transaction that honours Idempotency-Key (and document both)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                return _run(view, args, kwargs, None)
            key = key.strip()
            if not 1 <= len(key) <= MAX_KEY or not key.isprintable():
                raise Problem(
                    422,
                    f"An Idempotency-Key has 1 to {MAX_KEY} printable characters.",
                    errors={"headers": {HEADER: ["Invalid."]}},
                )
            digest = request_digest()
            if not _claim(g.api_key.id, key, digest):
                return _replay(g.api_key.id, key, digest)
            return _run(view, args, kwargs, (g.api_key.id, key))

        wrapped = bp.doc(
            parameters=[
                {
                    "in": "header",
                    "name": HEADER,
                    "required": False,
                    "schema": {"type": "string", "maxLength": MAX_KEY},
                    "description": "Send the same value again to retry without writing twice.",
                }
            ]
        )(wrapped)
        wrapped = bp.alt_response(
            409,
            schema=ProblemSchema,
            description="The first request with this Idempotency-Key is still running.",
            content_type="application/problem+json",
        )(wrapped)
        return reads_json(wrapped)

    return decorate
