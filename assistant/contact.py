"""How the person handed over to a human is reached: an email address or a mobile number,
as the lead forms take them (gated.identity's rule for the form "assistant": with the
Chinese default `email_or_phone`, either is enough), and the acknowledgement by mail or,
for a number alone, by SMS through nurture's queue.

A number is normalised to E.164 by the forms' rules (PHONE_REGION, CN by default;
PHONE_ALLOWED_REGIONS). When the forms ask a phone lead for an SMS code
(gated.phonecodes.asks_for_code, SMS_CODE_FORMS / SMS_CODE_OVERRIDES "assistant=on"),
so does the hand-over: the code is checked before anything is stored and spent in the
ticket's transaction.

Replies: Chinese SMS vendors send approved templates only, never free text, so a staff
reply cannot go by SMS. A visitor who left only a number gets the acknowledgement text
(`ticket_received`: their ticket number and that a person will contact them), and staff
call them: the ticket pages show the number formatted, as a tel: link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.extensions import db
from gated import identity, phonecodes
from gated.validation import InvalidSubmission, clean_fields
from nurture.sms.models import SmsMessage
from nurture.sms.queue import send_sms

FORM = "assistant"
TEXT = "ticket_received"


@dataclass(frozen=True)
class Contact:
    email: str
    phone: str
    name: str
    code_id: int | None = None


def fields() -> tuple[str, ...]:
    """The contact fields the hand-over form shows: email, phone, or both."""
    return identity.identity_fields(FORM)


def asks_for_code() -> bool:
    return phonecodes.asks_for_code(FORM)


def clean_contact(data, *, now: datetime) -> tuple[Contact | None, dict[str, str]]:
    """The contact typed on the hand-over form, or None with per-field messages. A wrong
    SMS code counts (committed by gated.phonecodes), as on the lead forms."""
    shown = fields()
    typed = {"name": data.get("name", "")}
    for name in shown:
        typed[name] = data.get(name, "")
    try:
        clean = clean_fields(typed, identity=identity.form_identity(FORM), phone_rules=identity.phone_rules())
    except InvalidSubmission as exc:
        return None, exc.errors
    try:
        code_id = phonecodes.proof_for(
            FORM, {**typed, phonecodes.FIELD: data.get(phonecodes.FIELD, "")}, now=now
        )
    except InvalidSubmission as exc:
        return None, exc.errors
    return Contact(clean["email"], clean.get("phone", ""), clean.get("name", ""), code_id), {}


def acknowledge_by_sms(ticket, *, now: datetime) -> bool:
    """Queue the acknowledgement text of a ticket reached by phone alone (inside the
    caller's transaction). False when the number had its share of texts lately."""
    message = send_sms(ticket.phone, TEXT, {"number": str(ticket.id)}, now=now)
    if message is None:
        return False
    message.lead_id = ticket.lead_id
    return True


def sms_acknowledged(ticket) -> bool:
    """Whether the ticket's acknowledgement text was queued (and not given up)."""
    status = db.session.scalar(
        select(SmsMessage.status).where(
            SmsMessage.to_number == ticket.phone,
            SmsMessage.template == TEXT,
            SmsMessage.created_at == ticket.created_at,
        )
    )
    return status is not None and status != "failed"
