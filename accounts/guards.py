"""The role guard every admin view uses."""

from functools import wraps

from flask import abort, current_app
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect


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


def may_open(path: str | None) -> bool:
    """Whether the current user may open this site path (a link to show them): its view's
    roles when it has a guard; True for unguarded views, False for paths the site does
    not serve. Lets a page built from other packages' links (a lead's timeline) offer
    only those the reader can follow."""
    if not path:
        return False
    try:
        endpoint, _args = current_app.url_map.bind("").match(path.split("?", 1)[0], method="GET")
    except (HTTPException, RequestRedirect):
        return False
    allowed = getattr(current_app.view_functions.get(endpoint), "allowed_roles", None)
    return allowed is None or (current_user.is_authenticated and current_user.has_role(*allowed))
