"""What the accounts package does: create and change staff users, check logins, and
issue and check the keys that sessions and remember cookies carry."""

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from accounts.models import ROLES, User
from accounts.passwords import password_matches, password_problem
from core.extensions import db
from core.ids import parse_id
from core.timeutil import utcnow

EPOCH = datetime(1970, 1, 1)
# Web nodes' clocks may differ a little: a sign-in on one is good at once on another.
CLOCK_SKEW = timedelta(minutes=5)


class AccountError(ValueError):
    """A user could not be created or changed; the message says why (in English, for the
    command line), `field` which form field it belongs beside ("" for none). A page
    says it in the reader's words by the exception's class."""

    field = ""


class BadEmail(AccountError):
    field = "email"


class EmailTaken(AccountError):
    field = "email"


class UnknownRole(AccountError):
    field = "role"


class OwnAccount(AccountError):
    """An administrator's change to their own role or active flag: another admin makes it."""


class LastAdmin(AccountError):
    """A change that would leave no active administrator to manage the site."""


class WrongPassword(AccountError):
    """The current password given to change it was not the user's."""


class WeakPassword(AccountError):
    """A password the policy refuses (accounts.passwords); the message, translated, goes
    beside the password field."""

    field = "password"


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def check_password_policy(password: str, *, email: str = "", name: str = "") -> None:
    """Raise WeakPassword unless the policy accepts the password for this user."""
    problem = password_problem(password, known=(email, name))
    if problem:
        raise WeakPassword(str(problem))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UnknownRole(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")


def _address(email: str) -> str:
    """The address as stored (normalised); BadEmail when it is none."""
    email = normalise_email(email)
    if "@" not in email:
        raise BadEmail(f"not an email address: {email!r}")
    return email


def _check_free(email: str, user: User | None = None) -> None:
    """EmailTaken when a staff user other than `user` has this address."""
    other = find_user(email)
    if other is not None and (user is None or other.id != user.id):
        raise EmailTaken(f"a user with the address {email} exists already")


def add_user(email: str, *, role: str, password: str | None, name: str = "") -> User:
    """Add (flushed, not committed) a staff user. Without a password the user is invited:
    no password signs in until they set one (accounts.invitations). Raises AccountError
    for a bad address or role, a weak password or a taken address."""
    email = _address(email)
    name = (name or "").strip()
    _check_role(role)
    if password is not None:
        check_password_policy(password, email=email, name=name)
    _check_free(email)
    user = User(email=email, role=role, name=name, password_hash="")
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def create_user(email: str, *, role: str, password: str, name: str = "") -> User:
    """Create a staff user with a password. Raises AccountError as add_user does."""
    user = add_user(email, role=role, password=password, name=name)
    db.session.commit()
    return user


def set_profile(user: User, *, name: str, email: str) -> dict:
    """A staff user's name and address (flushed, not committed); returns what changed as
    {field: (before, after)}. Raises BadEmail or EmailTaken; the address is where
    invitations, password resets and staff mail go, and what the user signs in with."""
    email = _address(email)
    name = (name or "").strip()
    _check_free(email, user)
    changes = {
        field: (getattr(user, field), value)
        for field, value in (("name", name), ("email", email))
        if getattr(user, field) != value
    }
    user.name, user.email = name, email
    db.session.flush()
    return changes


def find_existing(email: str) -> User:
    """The user with this address; AccountError when there is none."""
    user = find_user(email)
    if not user:
        raise AccountError(f"no user with the address {email}")
    return user


def set_password(email: str, password: str) -> User:
    """A new password, if the policy accepts it; every session of the user ends."""
    user = find_existing(email)
    check_password_policy(password, email=user.email, name=user.name)
    user.set_password(password)
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str, *, now: datetime) -> User:
    """A staff user's own new password: the current one first, then the policy. Every
    session of the user ends; the caller signs the one at hand in again (login_key)."""
    if not password_matches(user.password_hash, current):
        raise WrongPassword("wrong current password")
    check_password_policy(new, email=user.email, name=user.name)
    user.set_password(new)
    db.session.commit()
    user.login_key = login_key(user, now=now)
    return user


def _check_change(user: User, *, role: str, active: bool, actor: User | None) -> None:
    """Refuse an administrator's change to themselves (`actor`: who changes, None at the
    command line) and any change that leaves no active administrator."""
    if actor is not None and actor.id == user.id and (role != user.role or active != user.active):
        raise OwnAccount("you cannot change your own role or deactivate yourself")
    if user.role != "admin" or not user.active or (role == "admin" and active):
        return
    # Locked (on PostgreSQL), so two admins demoting each other at once cannot both pass.
    others = db.session.scalars(
        select(User.id)
        .where(User.role == "admin", User.active.is_(True), User.id != user.id)
        .with_for_update()
    ).all()
    if not others:
        raise LastAdmin(f"{user.email} is the last active administrator")


def set_role(email: str, role: str, *, actor: User | None = None) -> User:
    """Another role; every session of the user ends (it was issued with the old rights).
    Raises OwnAccount or LastAdmin (see _check_change)."""
    _check_role(role)
    user = find_existing(email)
    _check_change(user, role=role, active=user.active, actor=actor)
    user.role = role
    db.session.commit()
    return user


def set_active(email: str, active: bool, *, actor: User | None = None) -> User:
    """Deactivate (every session ends, no sign-in works) or activate a user. Raises
    OwnAccount or LastAdmin (see _check_change)."""
    user = find_existing(email)
    _check_change(user, role=user.role, active=active, actor=actor)
    user.active = active
    db.session.commit()
    return user


def staff_users() -> list[User]:
    """Every staff user for the users page: active ones first, then by name and address."""
    return list(
        db.session.scalars(select(User).order_by(User.active.desc(), func.lower(User.name), User.email))
    )


def end_sessions(user: User) -> None:
    """Sign the user out everywhere: every session and remember cookie issued so far is
    refused from now on."""
    user.session_version = (user.session_version or 0) + 1
    db.session.commit()


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, with the login time recorded and a fresh
    login key (see login_key); else None.

    The password is hashed whatever the address: an unknown or deactivated address costs
    what a wrong password does, so timing does not tell which addresses are staff."""
    user = find_user(email)
    matched = password_matches(user.password_hash if user else None, password)
    if user is None or not matched or not user.active:
        return None
    now = utcnow()
    user.last_login_at = now
    db.session.commit()
    user.login_key = login_key(user, now=now)
    return user


def login_key(user: User, *, now: datetime) -> str:
    """What a new sign-in's session and remember cookie carry: "id.version.time.random".
    The version ties it to the user's sessions (end_sessions and any change of password,
    role or active flag move it on); the time bounds its life (user_for_login_key); the
    random part makes every sign-in's remember cookie a new one."""
    issued = int((now - EPOCH).total_seconds())
    return f"{user.id}.{user.session_version}.{issued}.{secrets.token_hex(8)}"


def login_lifetime() -> timedelta:
    """How long a sign-in lasts at most, remembered or not: REMEMBER_COOKIE_DURATION."""
    duration = current_app.config["REMEMBER_COOKIE_DURATION"]
    return duration if isinstance(duration, timedelta) else timedelta(seconds=int(duration))


def user_for_login_key(key: str, *, now: datetime) -> User | None:
    """The user a session or remember cookie stands for, or None when the key is not one
    of ours, the user is gone or deactivated, their sessions were ended since, or the
    sign-in is older than login_lifetime() (a copied cookie does not live forever)."""
    parts = (key or "").split(".")
    if len(parts) != 4 or not all(part.isdecimal() and len(part) <= 12 for part in parts[:3]):
        return None  # a bare id: a session from before session versions, signed in again
    user_id, version, issued = parse_id(parts[0]), int(parts[1]), int(parts[2])
    age = now - EPOCH - timedelta(seconds=issued)
    if age < -CLOCK_SKEW or age > login_lifetime():
        return None
    user = db.session.get(User, user_id) if user_id else None
    if user is None or not user.active or user.session_version != version:
        return None
    user.login_key = key
    return user


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def set_timezone(user: User, timezone: str | None) -> None:
    """Show `user` every time in `timezone` (an IANA name), or in the site's (None)."""
    user.timezone = timezone
    db.session.commit()
