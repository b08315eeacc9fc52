"""Signals core defines for every package: packages send, and whoever records listens,
so a feature never imports the audit log.

`staff_action` is sent for every staff action that changes data or reads personal data in
bulk (publish, delete, export, erase, merge, stage change, settings, key creation, sign-in
and failed sign-in). Send it as
`staff_action.send(current_app._get_current_object(), action="leads.export", user=user,
target="lead:7" or "", details={...})`: `action` is "<package>.<verb>", `user` the acting
staff user (None for a failed sign-in, with the address tried in `details`), `details` a
JSON-able dict of what changed (no secrets, no codes, no passwords).
"""

from blinker import Namespace

signals = Namespace()
staff_action = signals.signal("staff-action")

staff_mail_requested = signals.signal("staff-mail-requested")
"""Inside the transaction: a mail to a member of staff, such as the weekly review
reminder or a new user's invitation. Payload: to (str, an address), template (str, a
folder with subject.txt, body.txt, body.html and reason.txt), context (dict of JSON
values), now (datetime: when it is due). nurture queues it as a staff mail; the sender
commits it with its own rows."""


def send_staff_action(action: str, *, user, target: str = "", details: dict | None = None) -> None:
    """Send `staff_action` from the current app (see above): after the action's commit."""
    from flask import current_app

    staff_action.send(
        current_app._get_current_object(), action=action, user=user, target=target, details=details or {}
    )


# Sent by core.beacon when a browser says it showed one of our pages, with `page` (a
# core.beacon.Page: path, query, args, referrer, endpoint) and `response` (the beacon's
# answer, on which a receiver may set this visitor's cookies).
page_seen = signals.signal("page-seen")

# Sent by core.beacon when a page's script says the visitor is leaving it (the page was
# hidden or unloaded), with `page` (as for page_seen) and `seconds`, how long the page
# was in view (a whole number, at most beacon.MAX_SECONDS). No cookie is set on its answer.
page_left = signals.signal("page-left")
