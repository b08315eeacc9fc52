"""Telling the audit log what the API and its keys did, through core's staff_action
signal (core/signals.py): the API never imports the audit log."""

from flask import current_app, g, has_request_context

from core.signals import staff_action


def audit(action: str, target: str, details: dict, *, user=None) -> None:
    """Send staff_action. A change made through the API names its key as the actor
    (`details["actor"]`), since no staff user is signed in."""
    key = g.get("api_key") if has_request_context() else None
    if key is not None:
        details = {"actor": key.label, **details}
    staff_action.send(
        current_app._get_current_object(), action=action, user=user, target=target, details=details
    )
