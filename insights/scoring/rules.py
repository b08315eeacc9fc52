"""Scoring rules: the editor's checks, what a rule matches, and the process's copy of the
active rules (`RuleCache`), so a form POST reads no rule while SQLite's write lock is held."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from itertools import chain

from flask import current_app
from sqlalchemy import select

from core.extensions import db
from insights.models import Event
from insights.scoring.models import FIT_FIELDS, ScoreRule

RULES_KEY = "insights.scoring.rules"
# Set in session.info by a flush that wrote a rule; the process's copy is dropped at commit.
RULES_CHANGED = "insights.scoring.rules_changed"


class RuleError(ValueError):
    """A rule a marketer entered that cannot be used; the message says why."""


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


def read_rules() -> dict[str, tuple[Rule, ...]]:
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
        rules = read_rules()
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


def note_rule_changes(session, flush_context) -> None:
    """after_flush: a transaction that wrote a rule reads rules as it sees them, and the
    process's copy is dropped when it commits."""
    if any(isinstance(obj, ScoreRule) for obj in chain(session.new, session.dirty, session.deleted)):
        session.info[RULES_CHANGED] = True


# -- matching -----------------------------------------------------------------------------


def keywords(pattern: str) -> list[str]:
    return [word.strip().lower() for word in pattern.split(",") if word.strip()]


def action_matches(rule: Rule, event: Event) -> bool:
    if rule.event_kind != event.kind:
        return False
    if not rule.field or not rule.pattern:
        return True
    if rule.field == "ref_id":
        return str(event.ref_id or "") == rule.pattern.strip()
    text = (getattr(event, rule.field) or "").lower()
    return any(word in text for word in keywords(rule.pattern))


def fit_matches(rule: Rule, lead) -> bool:
    words = keywords(rule.pattern)
    if rule.field == "role":
        return (lead.role or "").lower() in words
    if rule.field == "email_domain":
        return lead.email.rsplit("@", 1)[-1].lower() in words
    text = (getattr(lead, rule.field, "") or "").lower()
    return bool(text) and any(word in text for word in words)


# -- the editor -----------------------------------------------------------------------------


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
        if data.get("field") not in FIT_FIELDS or not keywords(data.get("pattern", "")):
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
