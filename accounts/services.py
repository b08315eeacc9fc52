"""What the accounts package does: create staff users, check logins."""

import secrets

from sqlalchemy import func, select

from accounts.models import ROLES, User
from core.extensions import db
from core.timeutil import utcnow

MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A user could not be created or changed; the message says why."""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def create_user(email: str, *, role: str, password: str, name: str = "") -> User:
    """Create a staff user. Raises AccountError for a bad role, a short password or a
    taken address."""
    email = normalise_email(email)
    if "@" not in email:
        raise AccountError(f"not an email address: {email!r}")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if find_user(email):
        raise AccountError(f"a user with the address {email} exists already")
    user = User(email=email, role=role, name=name)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def set_password(email: str, password: str) -> User:
    user = find_user(email)
    if not user:
        raise AccountError(f"no user with the address {email}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    user.set_password(password)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, with the login time recorded; else None."""
    user = find_user(email)
    if user is None or not user.active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def set_timezone(user: User, timezone: str | None) -> None:
    """Show `user` every time in `timezone` (an IANA name), or in the site's (None)."""
    user.timezone = timezone
    db.session.commit()
