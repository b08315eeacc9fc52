"""Marketing consent: the wording shown on the forms (stored with each consent, by
version) and the double opt-in that confirms it."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from core.extensions import db
from core.ids import token_id
from core.tokens import sign, unsign
from core.urls import absolute_url_for
from gated import signals
from gated.leads import NotFound
from gated.models import Lead, Submission

CONFIRM_PURPOSE = "confirm"


def consent_text() -> tuple[str, str]:
    """The marketing-consent wording shown now, and its version (stored with each consent)."""
    text = current_app.config.get("CONSENT_TEXT") or str(
        _l(
            "Yes, send me occasional emails about related content and events. "
            "I can unsubscribe at any time with one click."
        )
    )
    return current_app.config["CONSENT_VERSION"], text


def confirm_url(lead_id: int, submission_id: int) -> str:
    """The double opt-in link mailed after a submission with consent (confirm_lead takes
    it back)."""
    return absolute_url_for("gated.confirm", token=sign(CONFIRM_PURPOSE, {"l": lead_id, "s": submission_id}))


def confirm_lead(token: str, *, now: datetime) -> Lead:
    """Double opt-in: mark the lead confirmed (once) and let nurture enrol it now, by
    sending lead_captured again for the submission that asked, with consent."""
    payload = unsign(CONFIRM_PURPOSE, token, max_age=current_app.config["CONFIRM_LINK_MAX_AGE"])
    lead_id = token_id(payload.get("l")) if isinstance(payload, dict) else None
    lead = db.session.get(Lead, lead_id) if lead_id else None
    if lead is None:
        raise NotFound("lead gone")
    if lead.confirmed_at is None:
        lead.confirmed_at = now
        submission_id = token_id(payload.get("s"))
        submission = db.session.get(Submission, submission_id) if submission_id else None
        signals.lead_captured.send(
            current_app._get_current_object(),
            lead_id=lead.id,
            submission_id=submission.id if submission else None,
            asset_id=submission.asset_id if submission else None,
            form=submission.form if submission else "confirm",
            marketing_consent=lead.marketing_consent,
            sequence=None,
            proven=True,
        )
        db.session.commit()
    return lead
