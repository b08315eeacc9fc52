"""Merging two leads that turned out to be one person, and undoing it (docs/LEADS.md).

`merge(a, b)` moves every row that points at lead B to lead A in one transaction: the
tables are found from every foreign key to leads.id in the metadata, so a package added
later is covered without a change here. A row of B that would break a unique constraint
(both enrolled in one sequence, both with a score row, the same tag) is not moved: A's is
kept and B's is copied into the log and deleted. A takes B's email and phone where it has
none, and the value staff chose for each field that differs. Lead B's row is then deleted
after a full copy into the log, rather than kept as a tombstone: a tombstone would hold
the person's address (blocking the unique identity indexes) and would have to be filtered
out of every list, count and export, while a deleted row re-inserted with its own id and
columns is exactly what it was.

Where a package says B's row should win a clash (gated.merge_carry.add_clash_rule: a
topic choice made more recently), A's row is the one copied into the log and deleted,
and B's moves. A's consent, double opt-in and first/last touch columns are set from both
leads by the rules of gated.merge_carry.

`undo(log)` re-inserts B with its id, moves back exactly the rows listed as moved that
still point at A, re-inserts the clashing copies, and gives A its values before (the
carried columns only where nothing changed them since).
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import and_, delete, insert, select, update

from core.extensions import db
from gated import merge_carry, signals
from gated.models import Lead, LeadMerge

# The lead fields staff choose between when both leads have a value and they differ.
CHOSEN_FIELDS = ("email", "phone", "name", "company", "job_title", "role", "stage", "locale", "timezone")
IDENTITY = ("email", "phone")
ERASED_SUFFIX = "@anonymised.invalid"


class MergeRefused(Exception):
    """A merge or undo that must not happen; the message says why (translated)."""


def is_erased(lead: Lead) -> bool:
    return (lead.email or "").endswith(ERASED_SUFFIX)


def differing_fields(a: Lead, b: Lead) -> list[str]:
    """The fields where both leads have a value and the values differ: staff choose."""
    return [
        name
        for name in CHOSEN_FIELDS
        if getattr(a, name) and getattr(b, name) and getattr(a, name) != getattr(b, name)
    ]


def _encode(value):
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode()}
    if isinstance(value, Decimal):
        return {"$n": str(value)}
    return value


def _decode(value):
    if isinstance(value, dict) and len(value) == 1:
        key, raw = next(iter(value.items()))
        if key == "$dt":
            return datetime.fromisoformat(raw)
        if key == "$d":
            return date.fromisoformat(raw)
        if key == "$b":
            return base64.b64decode(raw)
        if key == "$n":
            return Decimal(raw)
    return value


def _row_dict(row) -> dict:
    return {key: _encode(value) for key, value in row._mapping.items()}


def _lead_references():
    """(table, column) for every foreign key to leads.id in the metadata."""
    leads = Lead.__table__
    found = []
    for table in db.Model.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column is leads.c.id and fk.parent.table is table:
                found.append((table, fk.parent))
    return found


def _unique_sets(table, column) -> list[list]:
    """The other columns of each unique key (constraint, index, primary key) that holds
    `column`: B's row clashes with A's where A has one with the same values on them."""
    sets = []
    keys = [list(table.primary_key.columns)]
    keys += [list(c.columns) for c in table.constraints if c.__class__.__name__ == "UniqueConstraint"]
    keys += [list(index.columns) for index in table.indexes if index.unique]
    for columns in keys:
        if column in columns:
            sets.append([c for c in columns if c is not column])
    return sets


def _pk(table, row) -> dict:
    return {c.name: _encode(row._mapping[c.name]) for c in table.primary_key.columns}


def _pk_clause(table, values: dict):
    return and_(*(table.c[name] == _decode(value) for name, value in values.items()))


def merge(lead_id: int, other_id: int, *, chosen: dict, user_id: int | None, now: datetime) -> LeadMerge:
    """Fold lead `other_id` into `lead_id` and commit; `chosen` maps a differing field to
    "a" or "b" (missing: A's value). Raises MergeRefused."""
    from flask_babel import gettext as _

    if lead_id == other_id:
        raise MergeRefused(_("A lead cannot be merged into itself."))
    a, b = db.session.get(Lead, lead_id), db.session.get(Lead, other_id)
    if a is None or b is None:
        raise MergeRefused(_("That lead no longer exists."))
    if is_erased(a) or is_erased(b):
        raise MergeRefused(_("An erased lead cannot be merged."))
    before = {name: getattr(a, name) for name in CHOSEN_FIELDS}
    values = {}
    for name in CHOSEN_FIELDS:
        mine, theirs = getattr(a, name), getattr(b, name)
        if theirs and (not mine or (mine != theirs and chosen.get(name) == "b")):
            values[name] = theirs
    lead_table = Lead.__table__
    b_row = db.session.execute(select(lead_table).where(lead_table.c.id == b.id)).one()
    moved, clashed = [], []
    try:
        db.session.flush()
        for table, column in _lead_references():
            rows = db.session.execute(select(table).where(column == b.id)).all()
            sets = _unique_sets(table, column)
            for row in rows:
                mine = next(
                    (
                        found
                        for others in sets
                        for found in db.session.execute(
                            select(table)
                            .where(column == a.id, *(c == row._mapping[c.name] for c in others))
                            .limit(1)
                        )
                    ),
                    None,
                )
                if mine is not None and merge_carry.theirs_wins(table.name, mine._mapping, row._mapping):
                    # B's row wins: A's is kept in the log instead, and B's moves.
                    clashed.append({"table": table.name, "row": _row_dict(mine)})
                    db.session.execute(delete(table).where(_pk_clause(table, _pk(table, mine))))
                    mine = None
                if mine is not None:
                    clashed.append({"table": table.name, "row": _row_dict(row)})
                    db.session.execute(delete(table).where(_pk_clause(table, _pk(table, row))))
                else:
                    moved.append({"table": table.name, "column": column.name, "pk": _pk(table, row)})
                    db.session.execute(
                        update(table).where(_pk_clause(table, _pk(table, row))).values({column.name: a.id})
                    )
        db.session.expunge(b)
        db.session.execute(delete(lead_table).where(lead_table.c.id == b_row.id))
        for name, value in values.items():
            setattr(a, name, value)
        carried_before = {name: getattr(a, name) for name in merge_carry.CARRIED}
        carried = merge_carry.carried_values(
            {**carried_before, "email": before["email"]}, dict(b_row._mapping), email_after=a.email
        )
        for name, value in carried.items():
            setattr(a, name, value)
        a.updated_at = now
        log = LeadMerge(
            lead_id=a.id,
            merged_id=b_row.id,
            user_id=user_id,
            created_at=now,
            chosen={name: ("b" if name in values else "a") for name in differing_fields_from(before, b_row)},
            snapshot={
                "lead": _row_dict(b_row),
                "before": before,
                "after": {name: getattr(a, name) for name in CHOSEN_FIELDS},
                "carried": {
                    "before": {name: _encode(value) for name, value in carried_before.items()},
                    "after": {name: _encode(value) for name, value in carried.items()},
                },
                "moved": moved,
                "clashed": clashed,
            },
        )
        db.session.add(log)
        db.session.flush()
        signals.leads_merged.send(current_app._get_current_object(), lead_ids=[a.id])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return log


def differing_fields_from(before: dict, b_row) -> list[str]:
    return [
        name
        for name in CHOSEN_FIELDS
        if before[name] and b_row._mapping[name] and before[name] != b_row._mapping[name]
    ]


def undo_problem(log: LeadMerge) -> str:
    """Why this merge cannot be undone now ("" when it can): undone already; A gone
    (erased or merged again); B's id or address taken since; A's merged fields changed
    since (staff's later edit would be lost)."""
    from flask_babel import gettext as _

    if log.undone_at is not None:
        return _("This merge was undone already.")
    a = db.session.get(Lead, log.lead_id)
    if a is None:
        return _("The lead it went into no longer exists.")
    if db.session.get(Lead, log.merged_id) is not None:
        return _("The merged lead's number is in use again.")
    saved = log.snapshot["lead"]
    for name in IDENTITY:
        value = saved.get(name) or ""
        holder = value and db.session.scalar(select(Lead.id).where(getattr(Lead, name) == value))
        if holder and holder != a.id:
            return _("Another lead has this address or number now.")
    if any(getattr(a, name) != value for name, value in log.snapshot["after"].items()):
        return _("The lead's details changed after the merge.")
    return ""


def undo(log_id: int, *, user_id: int | None, now: datetime) -> LeadMerge:
    """Undo a merge and commit; raises MergeRefused with undo_problem's reason."""
    from flask_babel import gettext as _

    log = db.session.get(LeadMerge, log_id)
    if log is None:
        raise MergeRefused(_("That lead no longer exists."))
    problem = undo_problem(log)
    if problem:
        raise MergeRefused(problem)
    a = db.session.get(Lead, log.lead_id)
    tables = {table.name: table for table, _column in _lead_references()}
    tables[Lead.__table__.name] = Lead.__table__
    snapshot = log.snapshot
    try:
        # A gives back what it took first, so B's address is free for B again.
        for name, value in snapshot["before"].items():
            setattr(a, name, value)
        carried = snapshot.get("carried") or {"before": {}, "after": {}}
        decoded = {part: {k: _decode(v) for k, v in carried[part].items()} for part in ("before", "after")}
        current = {name: getattr(a, name) for name in decoded["before"]}
        for name, value in merge_carry.restorable(current, decoded["before"], decoded["after"]).items():
            setattr(a, name, value)
        a.updated_at = now
        db.session.flush()
        lead_row = {key: _decode(value) for key, value in snapshot["lead"].items()}
        db.session.execute(insert(Lead.__table__).values(lead_row))
        for item in snapshot["moved"]:
            table = tables.get(item["table"])
            if table is None:
                continue
            column = table.c[item["column"]]
            db.session.execute(
                update(table)
                .where(_pk_clause(table, item["pk"]), column == a.id)
                .values({column.name: log.merged_id})
            )
        for item in snapshot["clashed"]:
            table = tables.get(item["table"])
            if table is not None:
                db.session.execute(insert(table).values({k: _decode(v) for k, v in item["row"].items()}))
        log.undone_at, log.undone_by_id = now, user_id
        db.session.flush()
        signals.leads_merged.send(current_app._get_current_object(), lead_ids=[a.id, log.merged_id])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return log


def candidates(lead: Lead, q: str, *, limit: int) -> list[Lead]:
    """Other leads a search finds: by the lead list's text search (email, name, company)
    and by a phone number typed in any usual way."""
    from gated.identity import normalise_phone
    from gated.listing import LeadFilters, lead_query

    found = list(db.session.scalars(lead_query(LeadFilters(q=q)).where(Lead.id != lead.id).limit(limit)))
    try:
        phone = normalise_phone(q, region=current_app.config["PHONE_REGION"], mobile_only=False)
    except ValueError:
        phone = ""
    if phone:
        by_phone = db.session.scalar(select(Lead).where(Lead.phone == phone, Lead.id != lead.id))
        if by_phone is not None and by_phone not in found:
            found.insert(0, by_phone)
    return [other for other in found if not is_erased(other)][:limit]


def merges_of(lead_id: int) -> list[LeadMerge]:
    """The merges into this lead and out of it, newest first."""
    return list(
        db.session.scalars(
            select(LeadMerge)
            .where((LeadMerge.lead_id == lead_id) | (LeadMerge.merged_id == lead_id))
            .order_by(LeadMerge.created_at.desc(), LeadMerge.id.desc())
        )
    )
