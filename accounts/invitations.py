"""Invitations: an administrator adds a staff user without a password, and the new user
gets a mail with a link to set their own (under the password policy). A staff user who
forgot their password asks for the same kind of link (a reset: good for
PASSWORD_RESET_HOURS).

The link carries a signed token (core.tokens) naming the user, their session version, the
address it was mailed to and a deadline. Setting the password moves the session version
on (models.User), so a link works once; it also stops working at its deadline
(INVITATION_DAYS), when the user is deactivated and when an administrator gives the user
another address (a mailbox that is no longer theirs must not set their password).
accounts sits below nurture, which sends every mail, so the mail is asked for with
core.signals.staff_mail_requested and queued in the same transaction as the user it
invites.
"""

from datetime import datetime, timedelta

from flask import current_app

from accounts import services
from accounts.models import User
from core.extensions import db
from core.signals import staff_mail_requested
from core.tokens import InvalidToken, sign, unsign
from core.urls import absolute_url_for

PURPOSE = "invitation"
TEMPLATE = "accounts/email/invitation"
RESET_PURPOSE = "password_reset"
RESET_TEMPLATE = "accounts/email/password_reset"


class InvalidInvitation(Exception):
    """A link that was tampered with, has expired or was used already; `expired` says
    whether asking for a new one is what helps."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def invitation_days() -> int:
    return int(current_app.config["INVITATION_DAYS"])


def invitation_token(user: User, *, now: datetime) -> str:
    """A signed token for `user`'s invitation, good until INVITATION_DAYS from `now`."""
    return _link_token(PURPOSE, user, now + timedelta(days=invitation_days()))


def _link_token(purpose: str, user: User, until: datetime) -> str:
    """A signed token naming `user`, their session version (a new password moves it on:
    the link works once) and their address, until `until`."""
    return sign(
        purpose,
        {"user": user.id, "version": user.session_version, "email": user.email, "until": until.isoformat()},
    )


def _user_of_link(purpose: str, token: str, *, now: datetime) -> User:
    """The active user a link of `purpose` names, while it holds. Raises InvalidInvitation."""
    try:
        payload = unsign(purpose, token)
        user_id, version, until = (
            payload["user"],
            payload["version"],
            datetime.fromisoformat(payload["until"]),
        )
    except (InvalidToken, KeyError, TypeError, ValueError) as exc:
        raise InvalidInvitation("not a link of ours") from exc
    if now > until:
        raise InvalidInvitation("expired", expired=True)
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or user.session_version != version:
        raise InvalidInvitation("used or withdrawn")
    # Links mailed before addresses were signed carry none: they name the user only.
    if payload.get("email", user.email) != user.email:
        raise InvalidInvitation("sent to an address the user no longer has")
    return user


def send_invitation(user: User, *, inviter: User | None, now: datetime) -> None:
    """Queue (the caller commits) the mail with `user`'s link to set a password."""
    _mail_link(
        user,
        TEMPLATE,
        "accounts.invitation",
        invitation_token(user, now=now),
        now=now,
        inviter=inviter.display_name if inviter is not None else "",
        role=user.role,
        days=invitation_days(),
    )


def _mail_link(user: User, template: str, endpoint: str, token: str, *, now: datetime, **context) -> None:
    """Queue a staff mail to `user` with the link to `endpoint` carrying `token`."""
    staff_mail_requested.send(
        current_app._get_current_object(),
        to=user.email,
        template=template,
        context={
            "name": user.display_name,
            "url": absolute_url_for(endpoint, token=token),
            "locale": current_app.config["DEFAULT_LOCALE"].replace("_", "-"),
            **context,
        },
        now=now,
    )


def invite_user(email: str, *, role: str, name: str, inviter: User | None, now: datetime) -> User:
    """Add a staff user with no password and mail them their link, in one transaction.
    Raises services.AccountError as add_user does (nothing is stored then)."""
    try:
        user = services.add_user(email, role=role, password=None, name=name)
    except services.AccountError:
        db.session.rollback()
        raise
    send_invitation(user, inviter=inviter, now=now)
    db.session.commit()
    return user


def resend_invitation(user: User, *, inviter: User | None, now: datetime) -> None:
    """A new link for an invited user who has not set a password yet (the last one
    expired, or the mail was lost)."""
    if user.has_password or not user.active:
        raise services.AccountError(f"{user.email} needs no invitation")
    send_invitation(user, inviter=inviter, now=now)
    db.session.commit()


def invited_user(token: str, *, now: datetime) -> User:
    """The user an invitation link is for, while it holds. Raises InvalidInvitation."""
    user = _user_of_link(PURPOSE, token, now=now)
    if user.has_password:
        raise InvalidInvitation("used or withdrawn")
    return user


def accept_invitation(token: str, password: str, *, now: datetime) -> User:
    """Set the invited user's password (the policy's); the link stops working. Returns the
    user with a fresh login key, to sign in. Raises InvalidInvitation or WeakPassword."""
    return _new_password(invited_user(token, now=now), password, now=now)


def _new_password(user: User, password: str, *, now: datetime) -> User:
    """The policy's check, the password set (the link it came by stops working), and a
    fresh login key to sign in with."""
    services.check_password_policy(password, email=user.email, name=user.name)
    user.set_password(password)
    db.session.commit()
    user.login_key = services.login_key(user, now=now)
    return user


def reset_hours() -> int:
    return int(current_app.config["PASSWORD_RESET_HOURS"])


def request_reset(email: str, *, now: datetime) -> bool:
    """Mail an active staff user at `email` a link to choose a new password (an invited one
    who has none yet: a new invitation). Whether anyone has the address is not told to
    whoever asked (the page says the same either way); returns it for the caller's log."""
    user = services.find_user(email)
    if user is None or not user.active:
        return False
    if not user.has_password:
        send_invitation(user, inviter=None, now=now)
    else:
        until = now + timedelta(hours=reset_hours())
        token = _link_token(RESET_PURPOSE, user, until)
        _mail_link(user, RESET_TEMPLATE, "accounts.password_reset", token, now=now, hours=reset_hours())
    db.session.commit()
    return True


def reset_user(token: str, *, now: datetime) -> User:
    """The user a password reset link is for, while it holds. Raises InvalidInvitation."""
    return _user_of_link(RESET_PURPOSE, token, now=now)


def accept_reset(token: str, password: str, *, now: datetime) -> User:
    """Set a new password (the policy's) through a reset link; every other session ends
    and the link stops working. Returns the user with a fresh login key, to sign in."""
    return _new_password(reset_user(token, now=now), password, now=now)
