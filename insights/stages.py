"""What each figure about leads counts, defined once, so that the dashboards' tables, their
charts and CSV files and the weekly digest add up to one another.

- A period is whole days `since`..`until` of the site's zone (TIMEZONE): the times in
  [the local midnight that starts `since`, the one that ends `until`), whoever reads.
- A lead is new in a period when its row was created in it.
- A lead's channel, in every figure about the lead (new leads, the stages it reaches, its
  hand-offs), is its first-touch channel (`Lead.first_channel`): where it first came
  from, which no later visit changes.
- A lead reaches a stage (mql, sql, customer) in a period when it moved to that stage in
  it: the `stage_change` event, stamped with the time of the move and the lead's first
  channel. A lead that reaches a stage twice (handed off, rejected, handed off again)
  counts twice, as its two hand-offs do.
- The MQL step is the hand-off: scoring moves a lead to mql and hands it to sales in one
  transaction at one time, so the hand-offs made in a period are the period's MQLs. The
  SQL step is sales' acceptance, which moves the lead to sql, so the hand-offs accepted in
  a period are the period's SQLs. The sales table therefore counts hand-offs made in the
  period and decisions made in it, whenever the hand-off was made.

Staff moving a lead to mql or sql by hand (the lead page, an import) is a stage change
without a hand-off: the funnel counts it, the sales table does not.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select

from core.extensions import db
from core.localtime import site_zone
from core.trends import local_day
from insights.rollups import _as_date, _start, tally

FUNNEL_STAGES = ("mql", "sql", "customer")


def bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """The period's first moment and the first moment after it."""
    return _start(since), _start(until + timedelta(days=1))


def new_leads(since: date, until: date, *, channel: str = "", by: tuple[str, ...] = ("channel",)) -> dict:
    """Leads created in the period (of first channel `channel`, when given), grouped by
    "channel" (the first channel) and/or "day" (the site's local day), as {(values of `by`): count}."""
    from gated.models import Lead

    columns = {"channel": Lead.first_channel, "day": local_day(Lead.created_at, since, until, tz=site_zone())}
    chosen = [columns[name] for name in by]
    start, end = bounds(since, until)
    query = (
        select(*chosen, func.count()).where(Lead.created_at >= start, Lead.created_at < end).group_by(*chosen)
    )
    if channel:
        query = query.where(Lead.first_channel == channel)
    return {
        tuple(
            _as_date(value) if name == "day" else value for name, value in zip(by, row[:-1], strict=True)
        ): row[-1]
        for row in db.session.execute(query)
        if row[-1]
    }


def stages_reached(since: date, until: date, *, channel: str = "", by: tuple[str, ...] = ("stage",)) -> dict:
    """Moves to FUNNEL_STAGES in the period (of leads of first channel `channel`, when
    given), grouped by "stage", "channel" and/or "day", as {(values of `by`): count}. Read
    through rollups.tally, so the figures stay when old raw events are pruned."""
    groups = tuple(name for name in by if name != "stage")
    counted = tally(
        since,
        until,
        kinds=("stage_change",),
        by=(*groups, "value"),
        where={"channel": channel} if channel else {},
    )
    reached: dict[tuple, int] = defaultdict(int)
    for key, count in counted.items():
        stage = key[-1].partition(">")[2]
        if stage in FUNNEL_STAGES:
            values = dict(zip(groups, key[:-1], strict=True)) | {"stage": stage}
            reached[tuple(values[name] for name in by)] += count
    return dict(reached)


def sales_outcomes(since: date, until: date, *, channel: str = "") -> list[dict]:
    """Per owner: "handed", the hand-offs made in the period (its MQL step); "accepted"
    and "rejected", the decisions made in it (accepted: its SQL step), with sales'
    "reasons" for rejecting, most frequent first; "pending", the hand-offs awaiting a
    decision at its end (the owner's backlog, whenever they were made). Only leads of
    first channel `channel`, when given."""
    from accounts.models import User
    from gated.models import Lead
    from insights.scoring.models import Handoff

    start, end = bounds(since, until)

    def per_owner(*columns, when):
        query = (
            select(Handoff.owner_id, *columns, func.count()).where(when).group_by(Handoff.owner_id, *columns)
        )
        if channel:
            query = query.join(Lead, Lead.id == Handoff.lead_id).where(Lead.first_channel == channel)
        return db.session.execute(query).all()

    decided = (Handoff.decided_at >= start) & (Handoff.decided_at < end)
    out: dict = {}

    def row(owner_id) -> dict:
        empty = {"owner_id": owner_id, "handed": 0, "accepted": 0, "rejected": 0, "pending": 0, "reasons": []}
        return out.setdefault(owner_id, empty)

    for owner_id, count in per_owner(when=(Handoff.created_at >= start) & (Handoff.created_at < end)):
        row(owner_id)["handed"] += count
    for owner_id, outcome, count in per_owner(
        Handoff.outcome, when=decided & Handoff.outcome.in_(("accepted", "rejected"))
    ):
        row(owner_id)[outcome] += count
    awaiting = (Handoff.created_at < end) & or_(Handoff.decided_at.is_(None), Handoff.decided_at >= end)
    for owner_id, count in per_owner(when=awaiting):
        row(owner_id)["pending"] += count
    reasons = per_owner(Handoff.reason, when=decided & (Handoff.outcome == "rejected"))
    for owner_id, reason, count in sorted(reasons, key=lambda r: (-r[2], r[1])):
        out[owner_id]["reasons"].append({"reason": reason, "count": count})
    emails = dict(
        db.session.execute(select(User.id, User.email).where(User.id.in_([i for i in out if i]))).all()
    )
    for owner_id, figures in out.items():
        figures["owner"] = emails.get(owner_id, "")
    return sorted(out.values(), key=lambda r: (-r["handed"], -r["pending"], r["owner"]))


def moved_to(stage: str):
    """The condition on insights' raw events (Event) that a lead moved to `stage` (mql,
    sql, customer), whatever it came from: the per-lead form of what stages_reached
    counts, for reports that follow chosen leads (a campaign's recipients who became MQL)."""
    from insights.models import Event

    return (Event.kind == "stage_change") & Event.value.endswith(">" + stage)
