"""The proof-of-work challenge of the lead forms (ALTCHA): no third party, no cookie, no
tracking, so it suits PIPL and GDPR alike.

The form's widget fetches a fresh challenge from a JSON endpoint when the visitor sends
the form (never from the page, which is the same cached bytes for every visitor), solves
it in a web worker and sends the solution with the form. A challenge is signed with the
site's key (HMAC) and expires after FORM_CHALLENGE_MAX_AGE seconds; a solution is
accepted once: its challenge's signature is kept in `used_challenges` until the challenge
expires, in the database, so every web node refuses a replay.
"""

from datetime import UTC, datetime, timedelta

import altcha
from flask import current_app
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from gated.models import UsedChallenge

ALGORITHM = "PBKDF2/SHA-256"
FIELD = "altcha"


def _key() -> str:
    # Its own key, derived from the site's: a challenge signature can never pass for any
    # other token the site signs.
    return f"lodestar.form-challenge:{current_app.config['SECRET_KEY']}"


def new_challenge(*, now: datetime) -> dict:
    """A signed, expiring challenge, as the widget reads it from `challengeurl`."""
    expires = now + timedelta(seconds=current_app.config["FORM_CHALLENGE_MAX_AGE"])
    challenge = altcha.create_challenge(
        ALGORITHM,
        current_app.config["FORM_CHALLENGE_COST"],
        expires_at=int(expires.replace(tzinfo=UTC).timestamp()),
        hmac_secret=_key(),
    )
    return challenge.to_dict()


def spend(payload: str | None, *, now: datetime) -> str | None:
    """Check a solution and mark its challenge used, inside the caller's transaction (so
    it is spent only if the submission is stored). Returns None when it holds, or why
    not: "no_proof" (none sent), "bad_proof" (forged, wrong or expired), "replayed"."""
    if not payload:
        return "no_proof"
    result = altcha.verify_solution(payload, _key())
    if not result.verified:
        return "bad_proof"
    parsed = altcha.Payload.from_base64(payload).challenge
    expires_at = datetime.fromtimestamp(parsed.parameters.expires_at, UTC).replace(tzinfo=None)
    db.session.execute(delete(UsedChallenge).where(UsedChallenge.expires_at < now))
    try:
        with db.session.begin_nested():
            db.session.add(UsedChallenge(signature=parsed.signature, expires_at=expires_at))
    except IntegrityError:
        return "replayed"
    return None
