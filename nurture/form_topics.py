"""Opt-in-only topics offered on the newsletter form: a box per topic (unticked), and the
ticked ones recorded as the lead's choice (source "form") in the submission's transaction.

One way, through core: gated renders what `render` returns inside its form and keeps the
posted `topic` values in the submission's fields (core.hooks.add_form_extra); the
`lead_captured` receiver reads them back from the stored submission. gated never learns
what a topic is, and a forged or stale id is ignored here, never trusted.
"""

from flask import render_template
from sqlalchemy import select

from core.extensions import db
from core.ids import parse_id
from core.timeutil import utcnow
from gated.consent import consent_text
from gated.models import Consent, Submission
from nurture import topics
from nurture.models import Topic

FIELD = "topic"
FORMS = ("newsletter",)


def opt_in_topics() -> list[Topic]:
    return list(db.session.scalars(select(Topic).where(Topic.opt_in_only.is_(True)).order_by(Topic.id)))


def render(kind: str) -> str:
    """The boxes of the opt-in-only topics for a form of `kind` ("" when none): the same
    for every visitor, so the page stays cacheable."""
    if kind not in FORMS:
        return ""
    offered = opt_in_topics()
    return render_template("nurture/_form_topics.html", topics=offered, field=FIELD) if offered else ""


def on_lead_captured(sender, *, lead_id, submission_id=None, form=None, marketing_consent=False, **extra):
    """Record the opt-in-only topics ticked on the form, once the lead may get marketing
    mail (with double opt-in: when the address is confirmed, as gated sends the signal
    again then)."""
    if not marketing_consent or form not in FORMS or not submission_id:
        return
    submission = db.session.get(Submission, submission_id)
    posted = (submission.fields or {}).get(FIELD) if submission is not None else None
    if not isinstance(posted, list):
        return
    wanted = {parse_id(value) for value in posted} - {None}
    chosen = [topic for topic in opt_in_topics() if topic.id in wanted]
    if not chosen:
        return
    consent = db.session.scalar(
        select(Consent).where(Consent.submission_id == submission_id).order_by(Consent.id.desc())
    )
    version, text = (consent.version, consent.text) if consent is not None else consent_text()
    now = utcnow()
    for topic in chosen:
        decision = topics.Decision(
            source="form", now=now, ip=submission.ip, version=version, text=f"{text}\n{topic.name}"
        )
        topics.choose(lead_id, {topic.id: True}, decision)
