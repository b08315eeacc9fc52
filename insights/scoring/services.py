"""Scoring's service functions as other packages call them (DESIGN: a package calls the
services of the packages before it). The work is done in rules, engine, handoff and
dormant; this module only names what is meant for use from outside."""

from insights.scoring.dormant import dormant_leads, sweep
from insights.scoring.engine import (
    REJECTED,
    active_rules,
    lead_ids,
    reasons,
    rescore_lead,
    rules_by_kind,
)
from insights.scoring.handoff import decide, hand_off, next_owner, owner_names, owner_of, story
from insights.scoring.rules import RuleError, rule_cache, save_rule

__all__ = [
    "REJECTED",
    "RuleError",
    "active_rules",
    "decide",
    "dormant_leads",
    "hand_off",
    "lead_ids",
    "next_owner",
    "owner_names",
    "owner_of",
    "reasons",
    "rescore_lead",
    "rule_cache",
    "rules_by_kind",
    "save_rule",
    "story",
    "sweep",
]
