"""The MQL hand-off and sales' decision: a lead whose score reaches SCORING_MQL_THRESHOLD
becomes an MQL, is given an owner (a rule, else round robin) who is mailed its story, and
sales accept it (an SQL) or return it to nurture with a reason."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from content.public import titles_by_path
from core.extensions import db
from core.timeutil import utcnow
from core.urls import absolute_url
from gated.models import Lead
from insights.models import Event
from insights.scoring.engine import apply_event, config, reasons, refit, requalify
from insights.scoring.models import RETURN_REASONS, Handoff
from insights.scoring.rules import RuleError

HANDOFF_STAGES = ("new", "engaged")
HANDOFF_TEMPLATE = "insights/email/handoff"
RETURNED_TEMPLATE = "insights/email/returned"
# Where a lead sales rejected goes back to: the stage of leads being nurtured.
NURTURE_STAGE = "engaged"


def _qualifies(lead) -> bool:
    return lead.score >= config("SCORING_MQL_THRESHOLD") and lead.stage in HANDOFF_STAGES


def on_event_recorded(sender, event, **extra) -> None:
    """Score an event as it is recorded; a lead back from the dormant pool is announced
    to its owner, one that reaches the threshold is handed off."""
    scored = apply_event(event)
    if scored is None:
        return
    if scored.returned:
        _tell_owner_of_return(scored.lead, event.occurred_at)
    if _qualifies(scored.lead):
        hand_off(scored.lead, now=event.occurred_at)


def on_lead_captured(sender, lead_id, submission_id=None, **extra) -> None:
    """After a submission is stored (inside its transaction): the lead may have given new
    fields, so its fit is applied again, and a lead it lifts to the threshold is handed off."""
    from gated.models import Submission

    lead = db.session.get(Lead, lead_id)
    if lead is None:
        return
    submission = db.session.get(Submission, submission_id) if submission_id else None
    now = submission.created_at if submission is not None else utcnow()
    if refit(lead, now) and _qualifies(lead):
        hand_off(lead, now=now)


def assign_rules(text: str) -> list[tuple[str, str, str]]:
    """SCORING_ASSIGN_RULES as (field, value, owner email); malformed parts are skipped."""
    out = []
    for part in text.split(";"):
        field, _colon, rest = part.partition(":")
        value, _eq, email = rest.partition("=")
        if field.strip() in ("channel", "domain") and value.strip() and email.strip():
            out.append((field.strip(), value.strip().lower(), email.strip().lower()))
    return out


def _ruled_owner(lead):
    from accounts.models import User

    domain = lead.email.rsplit("@", 1)[-1].lower()
    for field, value, email in assign_rules(current_app.config["SCORING_ASSIGN_RULES"]):
        if (field == "channel" and value in (lead.last_channel, lead.first_channel)) or (
            field == "domain" and value == domain
        ):
            owner = db.session.scalars(
                select(User).where(
                    func.lower(User.email) == email, User.active.is_(True), User.role == "sales"
                )
            ).first()
            if owner is not None:
                return owner
    return None


def next_owner(lead=None):
    """The owner a rule names (SCORING_ASSIGN_RULES), else round robin among active sales
    users: the one whose last hand-off is oldest."""
    from accounts.models import User

    ruled = _ruled_owner(lead) if lead is not None else None
    if ruled is not None:
        return ruled

    last = select(Handoff.owner_id, func.max(Handoff.id).label("last")).group_by(Handoff.owner_id).subquery()
    return db.session.scalars(
        select(User)
        .outerjoin(last, last.c.owner_id == User.id)
        .where(User.role == "sales", User.active.is_(True))
        .order_by(func.coalesce(last.c.last, 0), User.id)
        .limit(1)
    ).first()


def story(lead) -> dict:
    """What the owner's mail tells: where the lead came from, what it read and opened,
    what the prospect wrote in a demo request, and the score's reasons (JSON values only)."""
    from gated.timeline import latest_messages

    counts = dict(
        db.session.execute(
            select(Event.kind, func.count()).where(Event.lead_id == lead.id).group_by(Event.kind)
        ).all()
    )
    paths = db.session.scalars(
        select(Event.path)
        .where(Event.lead_id == lead.id, Event.kind == "page_view", Event.path != "")
        .group_by(Event.path)
        .order_by(func.count().desc(), Event.path)
        .limit(5)
    ).all()
    return {
        "lead_id": lead.id,
        "email": lead.email,
        "name": lead.name,
        "company": lead.company,
        "job_title": lead.job_title,
        "source": lead.source,
        "channel": lead.first_channel,
        "score": lead.score,
        "pages": list(paths),
        "page_titles": titles_by_path(paths),
        "message": latest_messages([lead.id]).get(lead.id, ""),
        "page_views": counts.get("page_view", 0),
        "downloads": counts.get("download", 0),
        "mails_opened": counts.get("mail_open", 0),
        "mails_clicked": counts.get("mail_click", 0),
        "reasons": [
            {"reason": r["reason"], "points": r["points"], "times": r["times"]} for r in reasons(lead.id)
        ],
    }


def desk_url(handoff_id: int) -> str:
    """The hand-off desk, scrolled to the card of hand-off `handoff_id`."""
    return absolute_url(f"/admin/scoring/handoffs#handoff-{handoff_id}")


def mail_story(to: str, template: str, lead, now: datetime, **context) -> None:
    """Queue a staff mail about a lead: its story, a link to its page, and `context`."""
    from nurture.mailqueue import add_mail

    values = story(lead)
    values.update(context)
    values["locale"] = current_app.config["DEFAULT_LOCALE"].replace("_", "-")
    values["lead_url"] = absolute_url(f"/admin/leads/{lead.id}")
    # Sent now, whatever the event's time (a replayed or imported event may be ahead).
    add_mail(to=to, template=template, context=values, now=min(now, utcnow()), kind="staff")


def hand_off(lead, *, now: datetime) -> Handoff:
    """The lead becomes an MQL (gated's service: signal and stage webhook), is given to
    a sales user, who is mailed its story, and the hand-off webhook is queued."""
    from gated import webhooks
    from gated.stages import set_stage

    owner = next_owner(lead)
    handoff = Handoff(lead_id=lead.id, owner_id=owner.id if owner else None, score=lead.score, created_at=now)
    db.session.add(handoff)
    set_stage(lead, "mql", now=now)
    db.session.flush()
    if owner is not None:
        # Sales accept or return a lead on the desk, not on its page: the mail opens the
        # desk at this hand-off's card (the desk's id="handoff-<id>").
        mail_story(owner.email, HANDOFF_TEMPLATE, lead, now, desk_url=desk_url(handoff.id))
    webhooks.enqueue(
        "lead.handed_off",
        lead,
        now=now,
        extra={
            "owner": {"id": owner.id, "email": owner.email, "name": owner.name} if owner else None,
            "reasons": [{"reason": r["reason"], "points": r["points"]} for r in reasons(lead.id)],
        },
    )
    return handoff


def owner_of(lead_id: int):
    from accounts.models import User

    return db.session.scalars(
        select(User)
        .join(Handoff, Handoff.owner_id == User.id)
        .where(Handoff.lead_id == lead_id)
        .order_by(Handoff.id.desc())
        .limit(1)
    ).first()


def owner_names(lead_ids: list[int]) -> dict[int, str]:
    """The lead list's owner column: each lead's latest hand-off's owner, by name."""
    from accounts.models import User

    latest = (
        select(Handoff.lead_id, func.max(Handoff.id).label("handoff_id"))
        .where(Handoff.lead_id.in_(lead_ids))
        .group_by(Handoff.lead_id)
        .subquery()
    )
    rows = db.session.execute(
        select(latest.c.lead_id, User)
        .join(Handoff, Handoff.id == latest.c.handoff_id)
        .join(User, User.id == Handoff.owner_id)
    ).all()
    return {lead_id: user.display_name for lead_id, user in rows}


def _tell_owner_of_return(lead, at: datetime) -> None:
    owner = owner_of(lead.id)
    if owner is not None and owner.active:
        mail_story(owner.email, RETURNED_TEMPLATE, lead, at)


def decide(
    handoff_id: int, outcome: str, reason: str, *, user, now: datetime, reason_code: str = "", note: str = ""
) -> Handoff:
    """Sales accepts (the lead becomes an SQL) or rejects (returns to nurture, with a
    reason: words, and the desk's preset code beside them) a hand-off, with a note."""
    from gated.stages import set_stage

    handoff = db.session.get(Handoff, handoff_id)
    if handoff is None or not (user.has_role("admin", "marketer") or handoff.owner_id == user.id):
        raise LookupError("hand-off")
    if outcome not in ("accepted", "rejected"):
        raise RuleError("outcome")
    reason = (reason or "").strip()
    if outcome == "rejected" and not reason:
        raise RuleError("reason")
    handoff.outcome, handoff.reason, handoff.decided_at = outcome, reason[:500], now
    handoff.reason_code = reason_code if outcome == "rejected" and reason_code in RETURN_REASONS else ""
    handoff.note = (note or "").strip()[:1000]
    lead = db.session.get(Lead, handoff.lead_id)
    if outcome == "accepted":
        set_stage(lead, "sql", now=now)
    elif lead.stage == "mql":
        requalify(lead, now)
        set_stage(lead, NURTURE_STAGE, now=now)
    db.session.commit()
    return handoff
