"""The role guard every admin view uses."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def roles_required(*roles: str):
    """Allow logged-in staff with one of `roles` (admins always); others get 403.

    Anonymous visitors are sent to the login page by Flask-Login first.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        # Who may open the view, for the access-matrix test (admins always may).
        guarded.allowed_roles = frozenset(("admin", *roles))
        return guarded

    return decorator


ANY_STAFF = ("admin", "editor", "marketer", "sales")
