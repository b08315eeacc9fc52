"""The scoring engine: points for events and fit, decay, and the replay that rescores.

`apply_event` runs inside the transaction that records an event (the event_recorded
receiver, see handoff.py) and is also what `rescore_lead` replays, so a recomputed score
equals the incremental one. Decay is counted in whole steps since the last activity; each
step takes SCORING_DECAY_POINTS off, never below zero.

What a form POST costs (scoring runs while SQLite's write lock is held): the active rules
come from the process's copy (rules.RuleCache), the lead's scoring state is read at most
once per transaction and not at all for a lead its INSERT created, and the score changes
of a transaction are written by one Core statement when the session next flushes or
commits. What one transaction knows is a `Transaction`, kept in the session's info and
forgotten at commit and rollback by the listeners `register_listeners` installs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql.dml import OnConflictDoUpdate as PostgresDoUpdate
from sqlalchemy.dialects.sqlite.dml import OnConflictDoUpdate as SQLiteDoUpdate
from sqlalchemy.orm import Session

from core.extensions import db
from core.localtime import day_of, site_zone
from core.trends import midnight
from gated.models import Lead
from insights.models import Event
from insights.scoring.models import Handoff, LeadScoring, ScoreChange, ScoreRule
from insights.scoring.rules import (
    RULES_CHANGED,
    Rule,
    action_matches,
    fit_matches,
    note_rule_changes,
    read_rules,
    rule_cache,
)

# Events that are not the lead's own doing, or (a leave ping) say nothing its page view did
# not: no points of activity, no return from dormancy.
PASSIVE_KINDS = ("mail_sent", "stage_change", "page_time")
TRANSACTION_KEY = "insights.scoring.transaction"
# The reason of the score change a sales rejection makes (shown translated, like "decay").
REJECTED = "sales_rejected"


def config(name: str) -> int:
    return int(current_app.config[name])


@dataclass
class Transaction:
    """What scoring keeps for one database transaction (a batch of page views, a rescore)
    instead of reading it once per event; forgotten at commit and rollback."""

    rules: dict[str, tuple[Rule, ...]] | None = None
    # Score changes not written yet (rows for ScoreChange), see write_changes.
    pending: list[dict] = field(default_factory=list)
    # Points a capped rule gave a lead on a day of the site's:
    # (lead id, rule id, the day's first instant in UTC) -> points.
    given_on_day: dict[tuple[int, int, datetime], int] = field(default_factory=dict)
    # Fit points each rule gave a lead: lead id -> {rule id: points}.
    fit_given: dict[int, dict[int, int]] = field(default_factory=dict)
    # Each lead's scoring state as read (None: not scored yet).
    states: dict[int, LeadScoring | None] = field(default_factory=dict)
    # Leads whose INSERT ran in this transaction: nothing to read about them.
    created: set[int] = field(default_factory=set)
    # Leads a rescore replays from nothing: every capped rule's points are here.
    replayed: set[int] = field(default_factory=set)


def transaction(session=None) -> Transaction:
    """The current transaction's scoring state (made on first use)."""
    session = session if session is not None else db.session()
    state = session.info.get(TRANSACTION_KEY)
    if state is None:
        state = session.info[TRANSACTION_KEY] = Transaction()
    return state


def rules_by_kind() -> dict[str, tuple[Rule, ...]]:
    """The active rules by kind, the same for a whole transaction: the process's copy,
    or, in a transaction that changed rules, the rules as it sees them (kept out of the
    copy: they may yet be rolled back)."""
    state = transaction()
    if state.rules is None:
        if db.session.info.get(RULES_CHANGED):
            state.rules = read_rules()
        else:
            state.rules = rule_cache().get(float(current_app.config["SCORING_RULES_TTL"]))
    return state.rules


def active_rules(kind: str) -> list[Rule]:
    """The active rules of a kind (see `rules_by_kind`)."""
    return list(rules_by_kind().get(kind, ()))


# -- the session's hooks --------------------------------------------------------------------


# A rule deleted by another process while this one's copy still had it: the change is kept
# without its rule (as the foreign key's ON DELETE SET NULL would have left it).
_INSERT_CHANGES = insert(ScoreChange.__table__).values(
    rule_id=select(ScoreRule.id).where(ScoreRule.id == bindparam("rule")).scalar_subquery()
)


def write_changes(session=None) -> None:
    """Write the transaction's pending score changes: one statement for all of them. Runs
    before anything reads score changes, and before every flush and commit."""
    session = session if session is not None else db.session()
    state = session.info.get(TRANSACTION_KEY)
    if state is None or not state.pending:
        return
    pending, state.pending = state.pending, []
    # A Core statement on the connection: no autoflush, so it may run inside a flush.
    session.connection().execute(_INSERT_CHANGES, pending)


def _write_before_flush(session, flush_context, instances) -> None:
    write_changes(session)


def _note_created_lead(lead, context) -> None:
    """A lead that came back from its own INSERT (gated's upsert) was created in this
    transaction, so it has no scoring state yet: scoring need not read it. An upsert that
    updates on conflict returns existing leads too, so it does not count."""
    statement = getattr(context.compile_state, "statement", None)
    if not getattr(statement, "is_insert", False):
        return
    if isinstance(getattr(statement, "_post_values_clause", None), (PostgresDoUpdate, SQLiteDoUpdate)):
        return
    transaction(context.session).created.add(lead.id)


def _after_commit(session) -> None:
    session.info.pop(TRANSACTION_KEY, None)
    if session.info.pop(RULES_CHANGED, False) and has_app_context():
        rule_cache().invalidate()


def _after_rollback(session, previous_transaction) -> None:
    session.info.pop(TRANSACTION_KEY, None)
    session.info.pop(RULES_CHANGED, None)


LISTENERS = (
    (Session, "after_flush", note_rule_changes),
    (Session, "before_flush", _write_before_flush),
    (Session, "before_commit", write_changes),
    (Session, "after_commit", _after_commit),
    (Session, "after_soft_rollback", _after_rollback),
    (Lead, "load", _note_created_lead),
)


def register_listeners() -> None:
    """Install scoring's session and mapper hooks (from init_app; once per process,
    however many apps are made: the hooks are the classes', not an app's)."""
    for target, name, listener in LISTENERS:
        if not sa_event.contains(target, name, listener):
            sa_event.listen(target, name, listener)


# -- the engine -----------------------------------------------------------------------


def _day(at: datetime) -> tuple[datetime, datetime]:
    """The site's local day `at` (naive UTC) falls on, as the naive UTC instants it starts
    and ends: a cap means "per day" as the team reads its days (in Shanghai from 16:00
    UTC; in New York 23 or 25 hours long on the days the clocks change)."""
    place = site_zone()
    day = day_of(at, place)
    return midnight(day, tz=place), midnight(day + timedelta(days=1), tz=place)


def add_change(lead, points: int, reason: str, at: datetime, *, rule=None, event_id=None) -> None:
    """A score change, kept with the transaction's others until `write_changes`."""
    if not points:
        return
    state = transaction()
    state.pending.append(
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
        key = (lead.id, rule.id, _day(at)[0])
        if key in state.given_on_day:
            state.given_on_day[key] += points
    given = state.fit_given.get(lead.id)
    if rule.kind == "fit" and given is not None:
        given[rule.id] = given.get(rule.id, 0) + points


def known_state(lead_id: int) -> LeadScoring | None:
    """The lead's scoring state (None: not scored yet), read at most once per transaction
    and not at all for a lead created in it."""
    state = transaction()
    if lead_id not in state.states:
        if lead_id in state.created:
            state.states[lead_id] = None
        else:
            state.states[lead_id] = db.session.get(LeadScoring, lead_id)
    return state.states[lead_id]


def _scoring_state(lead, at: datetime, fit_rules) -> LeadScoring:
    scoring = known_state(lead.id)
    if scoring is not None:
        return scoring
    scoring = LeadScoring(lead_id=lead.id, decay_steps=0)
    db.session.add(scoring)
    state = transaction()
    state.states[lead.id] = scoring
    # Not scored before, so no fit points given: refit in this transaction needs no read.
    state.fit_given[lead.id] = {}
    for rule in fit_rules:
        if fit_matches(rule, lead):
            add_change(lead, rule.points, rule.name, at, rule=rule)
    return scoring


def decay(lead, state: LeadScoring, at: datetime) -> int:
    """Take off the decay steps due at `at` since the last activity; returns the points."""
    days, points = config("SCORING_DECAY_DAYS"), config("SCORING_DECAY_POINTS")
    if not state.last_activity_at or days <= 0 or points <= 0:
        return 0
    steps = int((at - state.last_activity_at) / timedelta(days=days)) - state.decay_steps
    if steps <= 0:
        return 0
    state.decay_steps += steps
    taken = min(steps * points, max(lead.score or 0, 0))
    add_change(lead, -taken, "decay", at)
    return taken


def _capped(rule: Rule, lead_id: int, at: datetime) -> int:
    """The points the rule may still give the lead on `at`'s day (the site's)."""
    start, end = _day(at)
    state, key = transaction(), (lead_id, rule.id, start)
    given = state.given_on_day
    if key not in given and lead_id in state.replayed:
        given[key] = 0  # a rescore replays the lead from nothing: what it gave is all here
    if key not in given:
        write_changes()
        given[key] = int(
            db.session.scalar(
                select(func.coalesce(func.sum(ScoreChange.points), 0)).where(
                    ScoreChange.lead_id == lead_id,
                    ScoreChange.rule_id == rule.id,
                    ScoreChange.at >= start,
                    ScoreChange.at < end,
                )
            )
            or 0
        )
    return max(rule.daily_cap - given[key], 0)


@dataclass(frozen=True, slots=True)
class Scored:
    """What scoring one event did to its lead: `returned` from the dormant pool."""

    lead: Lead
    returned: bool


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
        apply_event(anonymous, lead_id=event.lead_id, live=False)


def apply_event(event: Event, *, lead_id: int | None = None, live: bool = True, rules=None) -> Scored | None:
    """Score one event of a lead (inside the caller's transaction); None for an event of
    no lead. `live`: recorded now (not replayed), so a form also scores the visitor's
    earlier anonymous events. `rules`: the active rules by kind, when the caller read them
    once for many events (rescore)."""
    lead_id = lead_id or event.lead_id
    if lead_id is None:
        return None
    if live and event.kind == "form_submit" and event.visitor_id:
        _earlier_anonymous(event)
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        return None
    at = event.occurred_at
    rules = rules or rules_by_kind()
    state = _scoring_state(lead, at, rules["fit"])
    if event.kind in PASSIVE_KINDS:
        return Scored(lead, returned=False)
    decay(lead, state, at)
    for rule in rules["action"]:
        if not action_matches(rule, event):
            continue
        points = rule.points
        if rule.daily_cap and points > 0:
            points = min(points, _capped(rule, lead.id, at))
        add_change(lead, points, rule.name, at, rule=rule, event_id=event.id)
    returned = state.dormant_at is not None
    if returned:
        state.dormant_at = None
        state.returned_at = at
    state.last_activity_at = max(state.last_activity_at or at, at)
    state.decay_steps = 0
    return Scored(lead, returned=returned)


def refit(lead, at: datetime) -> int:
    """Bring a scored lead's fit points in line with its fields now (a later form gave
    its role, title or company): a fit rule that matches and gave nothing gives its
    points, one that gave points and no longer matches takes them back. Returns the
    change. A lead not scored yet gets its fit when first scored."""
    fit_rules = active_rules("fit")
    if not fit_rules or known_state(lead.id) is None:
        return 0
    state = transaction()
    given = state.fit_given.get(lead.id)
    if given is None:
        write_changes()
        given = state.fit_given[lead.id] = {
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
        add_change(lead, points, rule.name, at, rule=rule)
        change += points
    return change


def requalify(lead, at: datetime) -> None:
    """After sales rejected a lead: its score falls back to its fit points (who it is
    still counts), below the MQL threshold, so only new activity hands it off again."""
    write_changes()
    fit = db.session.scalar(
        select(func.coalesce(func.sum(ScoreChange.points), 0))
        .join(ScoreRule, ScoreRule.id == ScoreChange.rule_id)
        .where(ScoreChange.lead_id == lead.id, ScoreRule.kind == "fit")
    )
    target = min(int(fit or 0), config("SCORING_MQL_THRESHOLD") - 1)
    if (lead.score or 0) > target:
        add_change(lead, target - (lead.score or 0), REJECTED, at)


def reasons(lead_id: int, limit: int = 20) -> list[dict]:
    """The lead's score changes grouped by reason: points and how many times."""
    write_changes()
    rows = db.session.execute(
        select(ScoreChange.reason, func.sum(ScoreChange.points), func.count(), func.max(ScoreChange.at))
        .where(ScoreChange.lead_id == lead_id)
        .group_by(ScoreChange.reason)
        .order_by(func.sum(ScoreChange.points).desc())
        .limit(limit)
    ).all()
    return [{"reason": r, "points": int(p), "times": n, "last": at} for r, p, n, at in rows]


# -- rescore ----------------------------------------------------------------------------


def rescore_lead(lead_id: int, *, now: datetime, rules: dict | None = None) -> int:
    """Recompute a lead's score from its events (without a new hand-off); returns it."""
    lead = db.session.get(Lead, lead_id)
    write_changes()
    state = transaction()
    state.replayed.add(lead_id)
    for key in [key for key in state.given_on_day if key[0] == lead_id]:
        del state.given_on_day[key]
    state.fit_given.pop(lead_id, None)
    db.session.execute(delete(ScoreChange).where(ScoreChange.lead_id == lead_id))
    db.session.execute(delete(LeadScoring).where(LeadScoring.lead_id == lead_id))
    state.states[lead_id] = None
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
        apply_event(event, live=False, rules=rules)
    for at in rejected:
        requalify(lead, at)
    scoring = known_state(lead_id)
    if scoring is not None:
        decay(lead, scoring, now)
    return lead.score


def lead_ids() -> list[int]:
    return list(db.session.scalars(select(Lead.id).order_by(Lead.id)))
