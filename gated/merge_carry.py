"""What a merge (gated.merging) carries onto the surviving lead besides the rows it
moves: the person's consent and their first and last touch, by rules stated here (and
in docs/LEADS.md), never by whichever lead happened to be chosen as the survivor.

- **Email marketing consent** (the lead's `marketing_consent`, `consent_version`,
  `consent_at`): the *stricter* wins. A withdrawal on either lead (consent given once and
  taken back since, by an unsubscribe: `marketing_consent` false with `consent_at` set)
  leaves the merged lead without consent; else consent on either lead stands, with the
  version and time of the *most recent* grant. Every consent record (the text shown,
  when, from where) moves with its lead's rows, so the history stays whole.
- **The double opt-in confirmation** (`confirmed_at`) proves an address: it goes with the
  address the survivor keeps.
- **Topics** (a lead's choice per topic, one row per lead and topic): the *most recent*
  decision wins; made at the same moment, leaving (the stricter) wins. A package that
  owns such a table says so with `add_clash_rule` (nurture does for topic_choices).
- **Attribution**: the first touch is the earlier of the two (every first_* column and
  `source`, as one block, so a touch is never half one lead's and half the other's);
  the last touch the later. Submissions, visits and link credits move as rows.

Undo gives the survivor back its own values, column by column, except where a column
changed after the merge (a later visit's last touch): that is the survivor's own since.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app

CONSENT = ("marketing_consent", "consent_version", "consent_at")
FIRST_TOUCH = (
    "first_landing_page",
    "first_referrer",
    "first_utm_source",
    "first_utm_medium",
    "first_utm_campaign",
    "first_utm_term",
    "first_utm_content",
    "first_channel",
    "first_touch_at",
    "source",
)
LAST_TOUCH = (
    "last_landing_page",
    "last_referrer",
    "last_utm_source",
    "last_utm_medium",
    "last_utm_campaign",
    "last_utm_term",
    "last_utm_content",
    "last_channel",
    "last_touch_at",
)
CARRIED = (*CONSENT, "confirmed_at", *FIRST_TOUCH, *LAST_TOUCH)
_RULES = "lodestar.merge_clash_rules"


def add_clash_rule(app, table: str, theirs_wins: Callable[[dict, dict], bool]) -> None:
    """When both leads have a row of `table` that may exist once per lead (a unique key),
    the survivor's is kept unless `theirs_wins(survivor_row, merged_row)` (row mappings)."""
    app.extensions.setdefault(_RULES, {})[table] = theirs_wins


def theirs_wins(table: str, mine: dict, theirs: dict) -> bool:
    rule = current_app.extensions.get(_RULES, {}).get(table)
    return bool(rule and rule(mine, theirs))


def _withdrawn(values: dict) -> bool:
    return not values["marketing_consent"] and values["consent_at"] is not None


def _consent(mine: dict, theirs: dict) -> dict:
    if _withdrawn(mine) or _withdrawn(theirs):
        withdrawn = [v for v in (mine, theirs) if _withdrawn(v)]
        latest = max(withdrawn, key=lambda v: v["consent_at"])
        return {
            "marketing_consent": False,
            "consent_version": latest["consent_version"],
            "consent_at": latest["consent_at"],
        }
    granted = [v for v in (mine, theirs) if v["marketing_consent"]]
    if not granted:
        return {name: mine[name] for name in CONSENT}
    latest = max(granted, key=lambda v: v["consent_at"] or datetime.min)
    return {name: latest[name] for name in CONSENT}


def _pick(mine: dict, theirs: dict, at: str, *, earliest: bool) -> dict:
    """The lead with the earlier (or later) `at`; a missing time loses; a tie keeps mine."""
    if theirs[at] is None:
        return mine
    if mine[at] is None:
        return theirs
    return theirs if (theirs[at] < mine[at] if earliest else theirs[at] > mine[at]) else mine


def carried_values(mine: dict, theirs: dict, *, email_after: str) -> dict:
    """The survivor's carried columns after a merge, from both leads' values (`mine`:
    the survivor's, `theirs`: the merged lead's) and the address it keeps."""
    values = _consent(mine, theirs)
    source = theirs if email_after and email_after == theirs["email"] != mine["email"] else mine
    values["confirmed_at"] = source["confirmed_at"]
    first = _pick(mine, theirs, "first_touch_at", earliest=True)
    values.update({name: first[name] for name in FIRST_TOUCH})
    last = _pick(mine, theirs, "last_touch_at", earliest=False)
    values.update({name: last[name] for name in LAST_TOUCH})
    return values


def restorable(current: dict, before: dict, after: dict) -> dict:
    """The survivor's values to give back on undo: those still as the merge left them."""
    return {name: before[name] for name in before if current.get(name) == after.get(name)}
