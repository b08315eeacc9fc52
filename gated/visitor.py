"""What we know of a visitor between requests, all in signed tokens: when a form was
shown (a fill faster than a person types is held for them to confirm), who they are (the
progressive-profiling cookie) and which submission a thank-you page is about."""

from datetime import datetime

from flask import current_app

from core.extensions import db
from core.ids import token_id
from core.tokens import InvalidToken, sign, unsign
from gated.models import BlockedSubmission, Lead, Submission

# The known-visitor cookie: the signed id of the lead whose mailbox this browser proved
# (a mailed link opened, the double opt-in confirmed), never of an address merely typed.
COOKIE = "lodestar_lead"
FORM_START_PURPOSE = "form-start"
# Not "lead-cookie": the cookies that purpose signed were given for a typed address.
COOKIE_PURPOSE = "verified-lead"
THANKS_PURPOSE = "thanks"
TOUCH_PURPOSE = "visit-touch"


def form_start_token(now: datetime) -> str:
    """The signed time a form was shown, for the minimum fill time."""
    return sign(FORM_START_PURPOSE, {"t": now.timestamp()})


def fill_time_reason(data, *, now: datetime) -> str | None:
    """Why a form's fill time looks automated ("too_fast", "no_start"), or None."""
    try:
        started = unsign(FORM_START_PURPOSE, str(data.get("started") or ""))
    except InvalidToken:
        return "no_start"
    if not isinstance(started, dict) or not isinstance(started.get("t"), int | float):
        return "no_start"
    if now.timestamp() - started["t"] < current_app.config["FORM_MIN_FILL_SECONDS"]:
        return "too_fast"
    return None


def record_blocked(form_kind: str, reason: str, *, now: datetime) -> None:
    """Count a dropped submission (a filled honeypot; nothing of its content is kept)."""
    db.session.add(BlockedSubmission(form=form_kind, reason=reason, created_at=now))
    db.session.commit()
    current_app.logger.info("Blocked a %s submission: %s", form_kind, reason)


def touch_cookie_value(utm: dict, referrer: str, landing_page: str) -> str:
    """The attribution of the page a visit landed on (its utm parameters or click id,
    referrer and path), for the visit's session cookie: a form opened later in the visit,
    after a search on the site, still knows where the visitor came from."""
    return sign(TOUCH_PURPOSE, {"utm": utm, "referrer": referrer[:500], "landing_page": landing_page[:500]})


def touch_from_cookie(value: str | None) -> dict | None:
    """The landing attribution of a touch cookie, or None."""
    if not value:
        return None
    try:
        touch = unsign(TOUCH_PURPOSE, value, max_age=86400)
    except InvalidToken:
        return None
    if not isinstance(touch, dict) or not isinstance(touch.get("utm"), dict):
        return None
    return touch


def lead_cookie_value(lead_id: int) -> str:
    return sign(COOKIE_PURPOSE, lead_id)


def lead_id_from_cookie(value: str | None) -> int | None:
    """The lead id a signed progressive-profiling cookie carries (no query), or None."""
    if not value:
        return None
    try:
        lead_id = unsign(COOKIE_PURPOSE, value, max_age=current_app.config["LEAD_COOKIE_MAX_AGE"])
    except InvalidToken:
        return None
    return token_id(lead_id)


def lead_from_cookie(value: str | None) -> Lead | None:
    """The lead of a signed progressive-profiling cookie, or None."""
    lead_id = lead_id_from_cookie(value)
    return db.session.get(Lead, lead_id) if lead_id is not None else None


def thanks_token(lead_id: int, submission_id: int, *, mailed: bool = True) -> str:
    """The thank-you page's token; `mailed`: whether the mails the submission asked for
    were queued, so the page only says "we have emailed you" when they were."""
    payload = {"l": lead_id, "s": submission_id}
    if not mailed:
        payload["m"] = 0
    return sign(THANKS_PURPOSE, payload)


def thanks_mailed(token: str | None) -> bool:
    """Whether the thank-you page may say the submission's mail is on its way."""
    try:
        payload = unsign(THANKS_PURPOSE, token or "", max_age=86400)
    except InvalidToken:
        return True
    return not (isinstance(payload, dict) and payload.get("m") == 0)


def thanks_submission(token: str | None) -> Submission | None:
    """The submission a thank-you page is about (its token lasts a day), or None."""
    if not token:
        return None
    try:
        payload = unsign(THANKS_PURPOSE, token, max_age=86400)
    except InvalidToken:
        return None
    submission_id = token_id(payload.get("s")) if isinstance(payload, dict) else None
    if submission_id is None:
        return None
    submission = db.session.get(Submission, submission_id)
    return submission if submission is not None and submission.lead_id == payload.get("l") else None
