"""Who calls the API: a Bearer API key, never a cookie.

Each view declares the scope it needs with `requires(bp, scope)`, which also documents the
scope and the 401/403/429 answers in the OpenAPI document. The check runs in the
blueprint's before_request, so a view never runs for a caller without the scope. The
rate limit counts per key (the token's hash: no database read before the limit).
"""

import hashlib

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from api.keys import authenticate
from api.problems import Problem
from api.schemas import ProblemSchema
from core.timeutil import utcnow

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="lodestar"'}


def bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def rate_limit_key() -> str:
    token = bearer_token()
    if token:
        return "api-key:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return "api-ip:" + (get_remote_address() or "")


def rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def requires(bp, scope: str):
    """Mark a view as needing `scope`, and document it."""

    def decorate(view):
        view.required_scope = scope
        view = bp.doc(security=[{"bearerAuth": [scope]}])(view)
        for status, text in (
            (401, "No key, or a key unknown, revoked or expired."),
            (403, f"The key lacks the scope {scope}."),
            (429, "Too many requests for this key; see Retry-After."),
        ):
            view = bp.alt_response(
                status, schema=ProblemSchema, description=text, content_type="application/problem+json"
            )(view)
        return view

    return decorate


def check_key():
    """before_request of the API's blueprints: the key, then the view's scope."""
    view = current_app.view_functions.get(request.endpoint)
    scope = getattr(view, "required_scope", None)
    if scope is None:
        return None
    token = bearer_token()
    if not token:
        raise Problem(401, "Send an API key as 'Authorization: Bearer <key>'.", headers=CHALLENGE)
    key = authenticate(token, now=utcnow())
    if key is None:
        raise Problem(401, "The API key is unknown, revoked or expired.", headers=CHALLENGE)
    if scope not in key.scopes:
        raise Problem(403, f"This key does not have the scope {scope}.")
    g.api_key = key
    return None
