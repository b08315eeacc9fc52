"""Asking for a transactional mail: gated never sends one itself; nurture's queue answers
signals.mail_requested inside the caller's transaction, so the mail is stored with what
asked for it or not at all."""

from __future__ import annotations

from flask import current_app

from gated import signals
from gated.models import Lead


def request_mail(lead: Lead, template: str, context: dict) -> bool:
    """Ask for a transactional mail, inside the caller's transaction. Whether it was
    queued (see signals.mail_requested): a page says "we have emailed you" only then.
    A lead known only by a mobile number has no mailbox: nothing is asked."""
    if not lead.email:
        return False
    answers = signals.mail_requested.send(
        current_app._get_current_object(), lead_id=lead.id, template=template, context=context
    )
    return any(queued for _receiver, queued in answers)
