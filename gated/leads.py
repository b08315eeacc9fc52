"""A lead's record: found or created by its address or number, given an address or number
it lacked, and a submission's profile values written onto it; NotFound for links to a lead
or asset that is gone.

Everything here runs inside the caller's transaction. Two people are never merged here:
staff merge (gated.merging).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core.extensions import db
from core.schema import upsert_insert
from gated.models import Lead


class NotFound(Exception):
    """The lead or asset a link points at no longer exists (erased, or deleted)."""


def upsert_lead(
    email: str = "",
    *,
    phone: str = "",
    now: datetime,
    touch: dict | None = None,
    source: str = "",
    fields: dict | None = None,
) -> tuple[Lead, bool]:
    """The lead of `email` or `phone` (normalised; at least one given), created if new,
    inside the caller's transaction. `fields` (column values) are written only when the
    lead is created, in the same INSERT.

    Which lead: the one known by the address; else the one known by the number, when it
    has no address yet (a lead known by phone who gives an email stays one lead); else a
    new lead. A number already held by a lead with another address is not taken by the
    new one (the caller records it as proposed: claim_identity). Two people are never
    merged here: staff merge (gated.merging).

    INSERT … ON CONFLICT DO NOTHING RETURNING the row, then (when it existed) SELECT,
    holds under concurrency on both databases: PostgreSQL makes the second insert wait
    for the first to commit and then skip; SQLite has one writer at a time. No savepoint
    is needed (a savepoint under pysqlite would commit early when it is the outermost).
    The conflict target is left out, so a clash on either unique index skips the insert.
    """
    if not email and not phone:
        raise ValueError("a lead needs an email address or a mobile number")
    touch = touch or {}
    values = {
        "created_at": now,
        "updated_at": now,
        "source": (source or touch.get("source") or "")[:120],
        "stage": "new",
        "first_touch_at": now,
    }
    if touch:
        values.update(
            first_landing_page=touch["landing_page"],
            first_referrer=touch["referrer"],
            first_channel=touch["channel"],
            **{f"first_{name}": value for name, value in touch["utm"].items()},
        )
    values.update(fields or {})
    lead = _insert_lead({**values, "email": email, "phone": phone})
    if lead is not None:
        return lead, True
    by_email, by_phone = find_leads(email, phone, populate=True)
    if by_email is not None:
        return by_email, False
    if by_phone is not None and not (email and by_phone.email):
        return by_phone, False
    # The number is another person's (a lead with another address): a lead of its own.
    lead = _insert_lead({**values, "email": email, "phone": ""})
    if lead is not None:
        return lead, True
    return find_leads(email, "", populate=True)[0], False


def _insert_lead(values: dict) -> Lead | None:
    """The new lead, or None when a lead holds its address or number already."""
    statement = (
        upsert_insert(db.session.get_bind(), Lead).values(**values).on_conflict_do_nothing().returning(Lead)
    )
    return db.session.scalars(statement, execution_options={"populate_existing": True}).one_or_none()


def find_leads(email: str, phone: str, *, populate: bool = False) -> tuple[Lead | None, Lead | None]:
    """The lead known by this address and the one known by this number (either None,
    or the same lead twice)."""
    found = {}
    for name, value in (("email", email), ("phone", phone)):
        if value:
            column = getattr(Lead, name)
            # `<> ''` lets SQLite use the partial unique index.
            found[name] = db.session.scalars(
                select(Lead).where(column == value, column != ""),
                execution_options={"populate_existing": populate},
            ).one_or_none()
    return found.get("email"), found.get("phone")


def claim_identity(lead: Lead, name: str, value: str, *, verified: bool) -> bool:
    """Give a lead an address or number it did not have (or, verified, another one),
    unless another lead is known by it: that is another person, or the same person
    twice, which staff decide by merging (gated.merging), never a form. Returns whether
    the value was taken; a value not taken is a proposal."""
    stored = getattr(lead, name)
    if not value or stored == value:
        return True
    if stored and not verified:
        return False
    column = getattr(Lead, name)
    holder = db.session.scalar(select(Lead.id).where(column == value, column != "", Lead.id != lead.id))
    if holder is not None:
        return False
    setattr(lead, name, value)
    return True


def merge_profile(lead: Lead, values: dict, *, verified: bool) -> list[str]:
    """Write a submission's profile values onto a lead that existed; return the names of
    those only proposed (kept on the submission, not applied).

    Anyone can type anyone's address into a public form, so a submission not proven to
    come from the address's owner may only add what the lead lacks: a stranger posting
    li.lei@example.cn with another name must not rename Li Lei. A verified one, sent from
    a browser holding the lead's cookie (which only a mailed link or the double opt-in
    gives: gated.visitor), may change what is stored. Staff import overwrites on its own.
    """
    proposed = []
    for name, value in values.items():
        stored = getattr(lead, name)
        if stored == value:
            continue
        if stored and not verified:
            proposed.append(name)
            continue
        setattr(lead, name, value)
    return proposed
