"""The scoring engine, the MQL hand-off, sales' outcome and the dormant pool.

`apply_event` runs inside the transaction that records an event (the event_recorded
receiver) and is also what `rescore` replays, so a recomputed score equals the
incremental one. Decay is counted in whole steps since the last activity; each step
takes SCORING_DECAY_POINTS off, never below zero.

What a form POST costs (scoring runs while SQLite's write lock is held): the active rules
come from the process's copy (`RuleCache`), the lead's scoring state is read at most once
per transaction and not at all for a lead its INSERT created, and the score changes of a
transaction are written by one Core statement when the session next flushes or commits."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain

from flask import current_app, has_app_context
from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql.dml import OnConflictDoUpdate as PostgresDoUpdate
from sqlalchemy.dialects.sqlite.dml import OnConflictDoUpdate as SQLiteDoUpdate
from sqlalchemy.orm import Session

from core.extensions import db
from core.timeutil import utcnow
from core.urls import absolute_url
from gated.models import Lead
from insights.models import Event
from insights.scoring.models import FIT_FIELDS, Handoff, LeadScoring, ScoreChange, ScoreRule

# Events that are not the lead's own doing: no points of activity, no return from dormancy.
PASSIVE_KINDS = ("mail_sent", "stage_change")
HANDOFF_STAGES = ("new", "engaged")
HANDOFF_TEMPLATE = "insights/email/handoff"
RETURNED_TEMPLATE = "insights/email/returned"
CAPS_KEY = "insights.scoring.caps"
RULES_KEY = "insights.scoring.rules"
# Set in session.info by a flush that wrote a rule; the process's copy is dropped at commit.
RULES_CHANGED = "insights.scoring.rules_changed"
# The reason of the score change a sales rejection makes (shown translated, like "decay").
REJECTED = "sales_rejected"
# Where a lead sales rejected goes back to: the stage of leads being nurtured.
NURTURE_STAGE = "engaged"


class RuleError(ValueError):
    """A rule a marketer entered that cannot be used; the message says why."""


def _config(name: str) -> int:
    return int(current_app.config[name])


@dataclass(frozen=True, slots=True)
class Rule:
    """An active rule as the engine uses it: plain values, shared by every request of a
    process (an ORM object belongs to one session)."""

    id: int
    name: str
    kind: str
    event_kind: str
    field: str
    pattern: str
    points: int
    daily_cap: int


def _read_rules() -> dict[str, tuple[Rule, ...]]:
    """The active rules by kind: one statement."""
    columns = (
        ScoreRule.id,
        ScoreRule.name,
        ScoreRule.kind,
        ScoreRule.event_kind,
        ScoreRule.field,
        ScoreRule.pattern,
        ScoreRule.points,
        ScoreRule.daily_cap,
    )
    rules: dict[str, list[Rule]] = {"fit": [], "action": []}
    with db.session.no_autoflush:
        rows = db.session.execute(
            select(*columns).where(ScoreRule.active.is_(True)).order_by(ScoreRule.id)
        ).all()
    for row in rows:
        rules.setdefault(row.kind, []).append(Rule(*row))
    return {kind: tuple(kind_rules) for kind, kind_rules in rules.items()}


class RuleCache:
    """The active rules, read once per process and kept until they change.

    A change committed through this process's session (the editor, demo data, a test)
    drops the copy at once. One made by another process or host is seen when the copy is
    older than the TTL and the rules are read again: the rules are small, so reading them
    is the generation check (one statement per process per TTL, whatever the traffic)."""

    def __init__(self):
        self.rules: dict | None = None
        self.read_at = float("-inf")
        # Bumped by invalidate(): a read that began before a change does not store.
        self.generation = 0
        self.lock = threading.Lock()

    def get(self, ttl: float) -> dict:
        moment = time.monotonic()
        rules = self.rules
        if rules is not None and moment - self.read_at < ttl:
            return rules
        generation = self.generation
        rules = _read_rules()
        with self.lock:
            if generation == self.generation:
                self.rules, self.read_at = rules, moment
        return rules

    def invalidate(self) -> None:
        with self.lock:
            self.generation += 1
            self.rules = None


def rule_cache(app=None) -> RuleCache:
    app = app or current_app._get_current_object()
    cache = app.extensions.get(RULES_KEY)
    if cache is None:
        cache = app.extensions.setdefault(RULES_KEY, RuleCache())
    return cache


def _rules() -> dict[str, tuple[Rule, ...]]:
    """The active rules by kind, the same for a whole transaction (a batch of page views):
    the process's copy, or, in a transaction that changed rules, the rules as it sees them
    (kept out of the copy: they may yet be rolled back)."""
    caps = _caps()
    if "rules" not in caps:
        if db.session.info.get(RULES_CHANGED):
            caps["rules"] = _read_rules()
        else:
            caps["rules"] = rule_cache().get(float(current_app.config["SCORING_RULES_TTL"]))
    return caps["rules"]


def active_rules(kind: str) -> list[Rule]:
    """The active rules of a kind (see `_rules`)."""
    return list(_rules().get(kind, ()))


@sa_event.listens_for(Session, "after_flush")
def _note_rule_changes(session, flush_context) -> None:
    if any(isinstance(obj, ScoreRule) for obj in chain(session.new, session.dirty, session.deleted)):
        session.info[RULES_CHANGED] = True


# -- matching -----------------------------------------------------------------------------


def _keywords(pattern: str) -> list[str]:
    return [word.strip().lower() for word in pattern.split(",") if word.strip()]


def action_matches(rule: Rule, event: Event) -> bool:
    if rule.event_kind != event.kind:
        return False
    if not rule.field or not rule.pattern:
        return True
    if rule.field == "ref_id":
        return str(event.ref_id or "") == rule.pattern.strip()
    text = (getattr(event, rule.field) or "").lower()
    return any(word in text for word in _keywords(rule.pattern))


def fit_matches(rule: Rule, lead) -> bool:
    words = _keywords(rule.pattern)
    if rule.field == "role":
        return (lead.role or "").lower() in words
    if rule.field == "email_domain":
        return lead.email.rsplit("@", 1)[-1].lower() in words
    text = (getattr(lead, rule.field, "") or "").lower()
    return bool(text) and any(word in text for word in words)


# -- the engine -----------------------------------------------------------------------


def _add(lead, points: int, reason: str, at: datetime, *, rule=None, event_id=None) -> None:
    """A score change, kept with the transaction's others until `_write_changes`."""
    if not points:
        return
    caps = _caps()
    caps.setdefault("pending", []).append(
        {
            "lead_id": lead.id,
            "rule": rule.id if rule else None,
            "event_id": event_id,
            "reason": reason[:200],
            "points": points,
            "at": at,
        }
    )
    lead.score = (lead.score or 0) + points
    if rule is None:
        return
    if rule.daily_cap:
        key = (lead.id, rule.id, _day(at))
        if key in caps:
            caps[key] += points
    given = caps.get(("fit", lead.id))
    if rule.kind == "fit" and given is not None:
        given[rule.id] = given.get(rule.id, 0) + points


# A rule deleted by another process while this one's copy still had it: the change is kept
# without its rule (as the foreign key's ON DELETE SET NULL would have left it).
_INSERT_CHANGES = insert(ScoreChange.__table__).values(
    rule_id=select(ScoreRule.id).where(ScoreRule.id == bindparam("rule")).scalar_subquery()
)


def _write_changes(session=None) -> None:
    """Write the transaction's pending score changes: one statement for all of them. Runs
    before anything reads score changes, and before every flush and commit."""
    session = session if session is not None else db.session()
    caps = session.info.get(CAPS_KEY)
    pending = caps.pop("pending", None) if caps else None
    if pending:
        # A Core statement on the connection: no autoflush, so it may run inside a flush.
        session.connection().execute(_INSERT_CHANGES, pending)


@sa_event.listens_for(Session, "before_flush")
def _write_before_flush(session, flush_context, instances) -> None:
    _write_changes(session)


@sa_event.listens_for(Session, "before_commit")
def _write_before_commit(session) -> None:
    _write_changes(session)


@sa_event.listens_for(Lead, "load")
def _note_created_lead(lead, context) -> None:
    """A lead that came back from its own INSERT (gated's upsert) was created in this
    transaction, so it has no scoring state yet: scoring need not read it. An upsert that
    updates on conflict returns existing leads too, so it does not count."""
    statement = getattr(context.compile_state, "statement", None)
    if not getattr(statement, "is_insert", False):
        return
    if isinstance(getattr(statement, "_post_values_clause", None), (PostgresDoUpdate, SQLiteDoUpdate)):
        return
    context.session.info.setdefault(CAPS_KEY, {}).setdefault("created", set()).add(lead.id)


def _known_state(lead_id: int) -> LeadScoring | None:
    """The lead's scoring state (None: not scored yet), read at most once per transaction
    and not at all for a lead created in it."""
    caps = _caps()
    key = ("state", lead_id)
    if key not in caps:
        if lead_id in caps.get("created", ()):
            caps[key] = None
        else:
            caps[key] = db.session.get(LeadScoring, lead_id)
    return caps[key]


def _state(lead, at: datetime, fit_rules) -> LeadScoring:
    state = _known_state(lead.id)
    if state is not None:
        return state
    state = LeadScoring(lead_id=lead.id, decay_steps=0)
    db.session.add(state)
    caps = _caps()
    caps[("state", lead.id)] = state
    # Not scored before, so no fit points given: refit in this transaction needs no read.
    caps[("fit", lead.id)] = {}
    for rule in fit_rules:
        if fit_matches(rule, lead):
            _add(lead, rule.points, rule.name, at, rule=rule)
    return state


def decay(lead, state: LeadScoring, at: datetime) -> int:
    """Take off the decay steps due at `at` since the last activity; returns the points."""
    days, points = _config("SCORING_DECAY_DAYS"), _config("SCORING_DECAY_POINTS")
    if not state.last_activity_at or days <= 0 or points <= 0:
        return 0
    steps = int((at - state.last_activity_at) / timedelta(days=days)) - state.decay_steps
    if steps <= 0:
        return 0
    state.decay_steps += steps
    taken = min(steps * points, max(lead.score or 0, 0))
    _add(lead, -taken, "decay", at)
    return taken


def _day(at: datetime) -> datetime:
    return datetime(at.year, at.month, at.day)


def _caps() -> dict:
    """What scoring keeps for one transaction (a batch of page views, a rescore) instead
    of reading it once per event: the active rules, the points each capped rule gave each
    lead per day, the leads' scoring states and fit points given, the leads created in it
    and the score changes not written yet; forgotten at commit and rollback."""
    return db.session.info.setdefault(CAPS_KEY, {})


def _capped(rule: Rule, lead_id: int, at: datetime) -> int:
    """The points the rule may still give the lead on `at`'s day (UTC)."""
    caps, key = _caps(), (lead_id, rule.id, _day(at))
    if key not in caps and lead_id in caps.get("replayed", ()):
        caps[key] = 0  # a rescore replays the lead from nothing: what it gave is all cached
    if key not in caps:
        _write_changes()
        caps[key] = int(
            db.session.scalar(
                select(func.coalesce(func.sum(ScoreChange.points), 0)).where(
                    ScoreChange.lead_id == lead_id,
                    ScoreChange.rule_id == rule.id,
                    ScoreChange.at >= key[2],
                    ScoreChange.at < key[2] + timedelta(days=1),
                )
            )
            or 0
        )
    return max(rule.daily_cap - caps[key], 0)


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    session.info.pop(CAPS_KEY, None)
    if session.info.pop(RULES_CHANGED, False) and has_app_context():
        rule_cache().invalidate()


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_caps(session, previous_transaction) -> None:
    session.info.pop(CAPS_KEY, None)
    session.info.pop(RULES_CHANGED, None)


def _earlier_anonymous(event: Event) -> None:
    """A form's visitor became this lead: its anonymous events, unscored when recorded,
    are scored now, before the form (events.stitch gives them to the lead right after),
    in the order a rescore replays them."""
    earlier = db.session.scalars(
        select(Event)
        .where(Event.visitor_id == event.visitor_id, Event.lead_id.is_(None), Event.id != event.id)
        .order_by(Event.occurred_at, Event.id)
    ).all()
    for anonymous in earlier:
        apply_event(anonymous, lead_id=event.lead_id, handoff=False)


def apply_event(event: Event, *, lead_id: int | None = None, handoff: bool = True, rules=None) -> None:
    """Score one event of a lead (inside the caller's transaction). `rules`: the active
    rules by kind, when the caller read them once for many events (rescore)."""
    lead_id = lead_id or event.lead_id
    if lead_id is None:
        return
    if handoff and event.kind == "form_submit" and event.visitor_id:
        _earlier_anonymous(event)
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        return
    at = event.occurred_at
    rules = rules or _rules()
    state = _state(lead, at, rules["fit"])
    if event.kind in PASSIVE_KINDS:
        return
    decay(lead, state, at)
    for rule in rules["action"]:
        if not action_matches(rule, event):
            continue
        points = rule.points
        if rule.daily_cap and points > 0:
            points = min(points, _capped(rule, lead.id, at))
        _add(lead, points, rule.name, at, rule=rule, event_id=event.id)
    returned = state.dormant_at is not None
    if returned:
        state.dormant_at = None
        state.returned_at = at
    state.last_activity_at = max(state.last_activity_at or at, at)
    state.decay_steps = 0
    if handoff:
        if returned:
            _tell_owner_of_return(lead, at)
        if lead.score >= _config("SCORING_MQL_THRESHOLD") and lead.stage in HANDOFF_STAGES:
            hand_off(lead, now=at)


def on_event_recorded(sender, event, **extra) -> None:
    apply_event(event)


def refit(lead, at: datetime) -> int:
    """Bring a scored lead's fit points in line with its fields now (a later form gave
    its role, title or company): a fit rule that matches and gave nothing gives its
    points, one that gave points and no longer matches takes them back. Returns the
    change. A lead not scored yet gets its fit when first scored."""
    fit_rules = active_rules("fit")
    if not fit_rules or _known_state(lead.id) is None:
        return 0
    caps = _caps()
    given = caps.get(("fit", lead.id))
    if given is None:
        _write_changes()
        given = caps[("fit", lead.id)] = {
            rule_id: int(points or 0)
            for rule_id, points in db.session.execute(
                select(ScoreChange.rule_id, func.sum(ScoreChange.points))
                .join(ScoreRule, ScoreRule.id == ScoreChange.rule_id)
                .where(ScoreChange.lead_id == lead.id, ScoreRule.kind == "fit")
                .group_by(ScoreChange.rule_id)
            ).all()
        }
    change = 0
    for rule in fit_rules:
        points = (rule.points if fit_matches(rule, lead) else 0) - given.get(rule.id, 0)
        _add(lead, points, rule.name, at, rule=rule)
        change += points
    return change


def on_lead_captured(sender, lead_id, submission_id=None, **extra) -> None:
    """After a submission is stored (inside its transaction): the lead may have given new
    fields, so its fit is applied again, and a lead it lifts to the threshold is handed off."""
    from gated.models import Submission

    lead = db.session.get(Lead, lead_id)
    if lead is None:
        return
    submission = db.session.get(Submission, submission_id) if submission_id else None
    now = submission.created_at if submission is not None else utcnow()
    if refit(lead, now) and lead.score >= _config("SCORING_MQL_THRESHOLD") and lead.stage in HANDOFF_STAGES:
        hand_off(lead, now=now)


# -- rescore ----------------------------------------------------------------------------


def rules_by_kind() -> dict:
    return _rules()


def rescore_lead(lead_id: int, *, now: datetime, rules: dict | None = None) -> int:
    """Recompute a lead's score from its events (without a new hand-off); returns it."""

    lead = db.session.get(Lead, lead_id)
    _write_changes()
    caps = _caps()
    caps.setdefault("replayed", set()).add(lead_id)
    for key in [key for key in caps if isinstance(key, tuple) and len(key) == 3 and key[0] == lead_id]:
        del caps[key]
    caps.pop(("fit", lead_id), None)
    db.session.execute(delete(ScoreChange).where(ScoreChange.lead_id == lead_id))
    db.session.execute(delete(LeadScoring).where(LeadScoring.lead_id == lead_id))
    caps[("state", lead_id)] = None
    lead.score = 0
    db.session.flush()
    db.session.expire(lead, ["score"])
    lead.score = 0
    events = db.session.scalars(
        select(Event).where(Event.lead_id == lead_id).order_by(Event.occurred_at, Event.id)
    ).all()
    rules = rules or rules_by_kind()
    # Sales' rejections lowered the score when they were made: replayed at their time.
    rejected = list(
        db.session.scalars(
            select(Handoff.decided_at)
            .where(Handoff.lead_id == lead_id, Handoff.outcome == "rejected", Handoff.decided_at <= now)
            .order_by(Handoff.decided_at)
        )
    )
    for event in events:
        while rejected and rejected[0] < event.occurred_at:
            requalify(lead, rejected.pop(0))
        apply_event(event, handoff=False, rules=rules)
    for at in rejected:
        requalify(lead, at)
    state = _known_state(lead_id)
    if state is not None:
        decay(lead, state, now)
    return lead.score


def lead_ids() -> list[int]:

    return list(db.session.scalars(select(Lead.id).order_by(Lead.id)))


# -- hand-off -----------------------------------------------------------------------------


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


def reasons(lead_id: int, limit: int = 20) -> list[dict]:
    """The lead's score changes grouped by reason: points and how many times."""
    _write_changes()
    rows = db.session.execute(
        select(ScoreChange.reason, func.sum(ScoreChange.points), func.count(), func.max(ScoreChange.at))
        .where(ScoreChange.lead_id == lead_id)
        .group_by(ScoreChange.reason)
        .order_by(func.sum(ScoreChange.points).desc())
        .limit(limit)
    ).all()
    return [{"reason": r, "points": int(p), "times": n, "last": at} for r, p, n, at in rows]


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
        "message": latest_messages([lead.id]).get(lead.id, ""),
        "page_views": counts.get("page_view", 0),
        "downloads": counts.get("download", 0),
        "mails_opened": counts.get("mail_open", 0),
        "mails_clicked": counts.get("mail_click", 0),
        "reasons": [
            {"reason": r["reason"], "points": r["points"], "times": r["times"]} for r in reasons(lead.id)
        ],
    }


def _mail(owner, template: str, lead, now: datetime) -> None:
    from nurture.services import add_mail

    context = story(lead)
    context["locale"] = current_app.config["DEFAULT_LOCALE"].replace("_", "-")
    context["lead_url"] = absolute_url(f"/admin/leads/{lead.id}")
    # Sent now, whatever the event's time (a replayed or imported event may be ahead).
    add_mail(to=owner.email, template=template, context=context, now=min(now, utcnow()), kind="staff")


def hand_off(lead, *, now: datetime) -> Handoff:
    """The lead becomes an MQL (gated's service: signal and stage webhook), is given to
    a sales user, who is mailed its story, and the hand-off webhook is queued."""
    from gated import webhooks
    from gated.services import set_stage

    owner = next_owner(lead)
    handoff = Handoff(lead_id=lead.id, owner_id=owner.id if owner else None, score=lead.score, created_at=now)
    db.session.add(handoff)
    set_stage(lead, "mql", now=now)
    db.session.flush()
    if owner is not None:
        _mail(owner, HANDOFF_TEMPLATE, lead, now)
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
        _mail(owner, RETURNED_TEMPLATE, lead, at)


def decide(handoff_id: int, outcome: str, reason: str, *, user, now: datetime) -> Handoff:
    """Sales accepts (the lead becomes an SQL) or rejects (with a reason) a hand-off."""
    from gated.services import set_stage

    handoff = db.session.get(Handoff, handoff_id)
    if handoff is None or not (user.has_role("admin", "marketer") or handoff.owner_id == user.id):
        raise LookupError("hand-off")
    if outcome not in ("accepted", "rejected"):
        raise RuleError("outcome")
    reason = (reason or "").strip()
    if outcome == "rejected" and not reason:
        raise RuleError("reason")
    handoff.outcome, handoff.reason, handoff.decided_at = outcome, reason[:500], now
    lead = db.session.get(Lead, handoff.lead_id)
    if outcome == "accepted":
        set_stage(lead, "sql", now=now)
    elif lead.stage == "mql":
        requalify(lead, now)
        set_stage(lead, NURTURE_STAGE, now=now)
    db.session.commit()
    return handoff


def requalify(lead, at: datetime) -> None:
    """After sales rejected a lead: its score falls back to its fit points (who it is
    still counts), below the MQL threshold, so only new activity hands it off again."""
    _write_changes()
    fit = db.session.scalar(
        select(func.coalesce(func.sum(ScoreChange.points), 0))
        .join(ScoreRule, ScoreRule.id == ScoreChange.rule_id)
        .where(ScoreChange.lead_id == lead.id, ScoreRule.kind == "fit")
    )
    target = min(int(fit or 0), _config("SCORING_MQL_THRESHOLD") - 1)
    if (lead.score or 0) > target:
        _add(lead, target - (lead.score or 0), REJECTED, at)


# -- dormant pool ------------------------------------------------------------------------


def sweep(*, now: datetime) -> dict:
    """Decay every scored lead to `now` and move leads idle for SCORING_DORMANT_DAYS to
    the dormant pool. Returns {"decayed", "dormant"}."""

    cutoff = now - timedelta(days=_config("SCORING_DORMANT_DAYS"))
    counts = {"decayed": 0, "dormant": 0}
    days = [d for d in (_config("SCORING_DECAY_DAYS"), _config("SCORING_DORMANT_DAYS")) if d > 0]
    idle_since = now - timedelta(days=min(days or [0]))
    rows = db.session.execute(
        select(LeadScoring, Lead)
        .join(Lead, Lead.id == LeadScoring.lead_id)
        .where(LeadScoring.last_activity_at <= idle_since)
    ).all()
    for state, lead in rows:
        if decay(lead, state, now):
            counts["decayed"] += 1
        if state.dormant_at is None and state.last_activity_at < cutoff:
            state.dormant_at = now
            counts["dormant"] += 1
    db.session.commit()
    return counts


def dormant_leads(limit: int = 200):

    return db.session.execute(
        select(Lead, LeadScoring)
        .join(LeadScoring, LeadScoring.lead_id == Lead.id)
        .where(LeadScoring.dormant_at.is_not(None))
        .order_by(LeadScoring.dormant_at.desc())
        .limit(limit)
    ).all()


# -- rules ------------------------------------------------------------------------------


def save_rule(rule: ScoreRule | None, data: dict) -> ScoreRule:
    """Check and store a rule from the editor; RuleError says what is wrong."""
    from insights.models import EVENT_KINDS
    from insights.scoring.models import ACTION_FIELDS

    kind = data.get("kind")
    if kind == "action":
        if data.get("event_kind") not in EVENT_KINDS:
            raise RuleError("event_kind")
        if data.get("field") not in ACTION_FIELDS:
            raise RuleError("field")
        if data.get("field") == "ref_id" and not str(data.get("pattern", "")).strip().isdigit():
            raise RuleError("ref_id")
    elif kind == "fit":
        if data.get("field") not in FIT_FIELDS or not _keywords(data.get("pattern", "")):
            raise RuleError("fit")
    else:
        raise RuleError("kind")
    if rule is None:
        rule = ScoreRule()
        db.session.add(rule)
    rule.name = data["name"].strip()[:120]
    rule.kind = kind
    rule.event_kind = data.get("event_kind", "") if kind == "action" else ""
    rule.field = data.get("field", "")
    rule.pattern = (data.get("pattern") or "").strip()[:500]
    rule.points = int(data["points"])
    rule.daily_cap = int(data.get("daily_cap") or 0) if kind == "action" else 0
    rule.active = bool(data.get("active"))
    db.session.commit()
    return rule
