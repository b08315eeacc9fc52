"""Which lead-form submissions are stored at once, held for a person to confirm, or
dropped; and the release of a held one into a real lead.

The rule every form keeps: a submission that passes CSRF and validation is either stored
or answered with a page that says what to do next, never with a thank-you for nothing.
Only a filled honeypot (a field people never see) is dropped without a word, and counted.

FORM_CHALLENGE chooses the check:
- "auto" (the default): the proof-of-work runs invisibly in every browser with
  JavaScript when the form is sent. Without a solution (no JavaScript, an old browser, a
  page over plain HTTP), a fill at a person's pace with the form's signed start time
  stands in for it; a fast fill or a missing start time is held, as is a forged or
  replayed solution.
- "always": a valid solution is required; anything else is held.
- "off": no check at all beyond the honeypot (a site behind its own bot protection).

A held submission is kept whole (its reason with it) and answered with a page that asks
the visitor to confirm they are a person; confirming, or a member of staff's release,
captures it through gated.capture.capture_lead, so enrolment and mail follow as for
any form.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, func, select, update

from content.public import get_public_article
from core.extensions import db
from core.ids import token_id
from core.listing import Sort
from core.tokens import InvalidToken, sign, unsign
from gated import challenge, visitor
from gated.capture import Capture, RequestMeta, capture_lead, landing_facts
from gated.form_input import check_submission, extra_values
from gated.leads import NotFound
from gated.models import PERSON_FIELDS, UTM_FIELDS, BlockedSubmission, HeldSubmission

MODES = ("auto", "always", "off")
HONEYPOT = "honeypot"
CONFIRM_PURPOSE = "held-confirm"
# What a held submission keeps besides the person's fields: how the form was reached.
KEPT_FIELDS = ("consent", "message", "referrer", "landing_page", *UTM_FIELDS)


class AlreadyReleased(Exception):
    """The held submission became a lead before (a second click, or staff and visitor
    both); carries it, with the lead and submission it became."""

    def __init__(self, held: HeldSubmission):
        super().__init__("already released")
        self.held = held


def screen(data, *, now: datetime) -> str | None:
    """None when a submission may be stored now; HONEYPOT when it is dropped; otherwise
    why it is held. A valid proof-of-work is spent in the session, to be committed with
    the lead."""
    if str(data.get("website") or "").strip():
        return HONEYPOT
    mode = current_app.config["FORM_CHALLENGE"]
    if mode == "off":
        return None
    proof = challenge.spend(data.get(challenge.FIELD), now=now)
    if proof is None:
        return None
    if mode == "always" or proof != "no_proof":
        return proof
    return visitor.fill_time_reason(data, now=now)


def hold(
    form_kind: str,
    data,
    *,
    reason: str,
    slug: str = "",
    request_meta: RequestMeta,
    known_lead_id: int | None,
    consent_shown: bool,
    now: datetime,
) -> HeldSubmission:
    """Keep a valid submission that looked automated. Raises InvalidSubmission (storing
    nothing) when the data would not make a lead."""
    email = check_submission(form_kind, data, known_lead_id=known_lead_id)
    fields = {
        name: str(data.get(name) or "")[:2000] for name in (*PERSON_FIELDS, *KEPT_FIELDS) if data.get(name)
    }
    # What other packages' inputs carried (nurture's ticked opt-in topics), kept as the
    # capture reads them, so a confirmed submission records them too.
    fields.update(extra_values(data))
    held = HeldSubmission(
        form=form_kind,
        slug=slug,
        reason=reason,
        email=email,
        fields=fields,
        known_lead_id=known_lead_id,
        consent_shown=consent_shown,
        ip=request_meta.ip,
        user_agent=(request_meta.user_agent or "")[:500] or None,
        referrer=request_meta.referrer[:500],
        landing_page=request_meta.landing_page[:500],
        created_at=now,
    )
    db.session.add(held)
    db.session.commit()
    current_app.logger.info("Held a %s submission: %s", form_kind, reason)
    return held


def confirm_token(held_id: int) -> str:
    return sign(CONFIRM_PURPOSE, held_id)


def held_has_email(held_id: int) -> bool:
    """Whether a held submission left an email address (a number alone gets no mail)."""
    return bool(db.session.scalar(select(HeldSubmission.email).where(HeldSubmission.id == held_id)))


def held_id_from_token(token: str) -> int | None:
    """The held submission a confirm page's token names (it lasts HELD_CONFIRM_MAX_AGE),
    or None when the token is forged or expired."""
    try:
        value = unsign(CONFIRM_PURPOSE, token, max_age=current_app.config["HELD_CONFIRM_MAX_AGE"])
    except InvalidToken:
        return None
    return token_id(value)


def release(held_id: int, *, now: datetime, released_by_id: int | None = None) -> HeldSubmission:
    """Turn a held submission into a lead through the form capture (consent, enrolment,
    mail and all), at most once: the claim and the lead commit together, so a second
    click, on any web node, raises AlreadyReleased and sends nothing twice. Raises
    NotFound when it is gone (purged or erased). Returns it with the lead and
    submission it became."""
    held = db.session.get(HeldSubmission, held_id)
    if held is None:
        raise NotFound(held_id)
    claimed = db.session.execute(
        update(HeldSubmission)
        .where(HeldSubmission.id == held_id, HeldSubmission.released_at.is_(None))
        .values(released_at=now, released_by_id=released_by_id)
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise AlreadyReleased(db.session.get(HeldSubmission, held_id))
    facts = landing_facts(held.slug, now=now) if held.slug else None
    # A gated video's form names its article (the white paper's, its asset).
    video = get_public_article("video", held.slug, now=now) if held.form == "video" and held.slug else None

    def link(capture: Capture) -> None:
        # With the claim and the lead: a second click that waited on the claim finds them.
        held.lead_id, held.submission_id = capture.lead_id, capture.submission_id

    capture = capture_lead(
        held.form,
        held.fields,
        asset=facts["asset"] if facts else None,
        sequence=facts["sequence"] if facts else None,
        request_meta=RequestMeta(
            ip=held.ip, user_agent=held.user_agent, referrer=held.referrer, landing_page=held.landing_page
        ),
        now=now,
        known_lead_id=held.known_lead_id,
        consent_shown=held.consent_shown,
        before_commit=link,
        article_id=video.id if video is not None else None,
    )
    current_app.logger.info(
        "Released held submission %s into lead %s (%s)",
        held_id,
        capture.lead_id,
        f"staff user {released_by_id}" if released_by_id else "confirmed by the visitor",
    )
    return held


HELD_STATES = ("waiting", "released")
HELD_SORTS = [
    Sort("received", HeldSubmission.created_at),
    Sort("received_asc", HeldSubmission.created_at, descending=False),
]


def held_query(*, q: str = "", state: str = "") -> Select:
    """Held submissions for the staff list: `q` in the address, `state` waiting (not yet a
    lead) or released."""
    query = select(HeldSubmission)
    if q:
        query = query.where(HeldSubmission.email.contains(q.lower(), autoescape=True))
    if state == "waiting":
        query = query.where(HeldSubmission.released_at.is_(None))
    elif state == "released":
        query = query.where(HeldSubmission.released_at.is_not(None))
    return query


def refused_counts(*, now: datetime, days: int = 30) -> list[tuple[str, str, int]]:
    """(form, reason, count) of the submissions dropped in the last `days` days: only a
    filled honeypot is, and nothing of them is kept to release."""
    rows = db.session.execute(
        select(BlockedSubmission.form, BlockedSubmission.reason, func.count())
        .where(BlockedSubmission.created_at >= now - timedelta(days=days))
        .group_by(BlockedSubmission.form, BlockedSubmission.reason)
        .order_by(BlockedSubmission.form, BlockedSubmission.reason)
    ).all()
    return [tuple(row) for row in rows]
