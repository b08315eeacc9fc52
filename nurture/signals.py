"""Signals the nurture package sends; later packages (insights) subscribe in init_app.

Each is sent inside the transaction (before the commit) with the app as sender; receivers
add rows to db.session and never commit or roll back.
"""

from blinker import Namespace

signals = Namespace()

mail_opened = signals.signal("mail-opened")
"""A mail's open pixel was loaded. Payload: message_id (int)."""

mail_clicked = signals.signal("mail-clicked")
"""A tracked link in a mail was followed. Payload: message_id (int), url (where the link
led; "" when not known)."""

mail_complained = signals.signal("mail-complained")
"""The mail provider reported a complaint (marked as spam) about a sent mail, which is
also marked bounced. Payload: message_id (int)."""

pass_started = signals.signal("delivery-pass-started")
"""A delivery pass (`flask nurture tick`, or one round of the worker) begins, before any
mail is queued or claimed. Payload: now (naive UTC, the pass's `--now`). Sent outside
any transaction: receivers (campaigns starting their due sends) commit their own work,
so what they queue goes out in this very pass.
"""

unsubscribed = signals.signal("unsubscribed")
"""Someone unsubscribed. Payload: message_id (int, or None when the mail provider
reported it), email (the normalised address)."""
