"""Staff users and their roles.

A user's `session_version` is what makes a sign-in revocable although sessions live in
signed cookies: every session and remember cookie carries the version it was issued
with (services.login_key), and the user loader refuses one that differs. It goes up on
sign-out and, through the flush hook below, whenever the password, the role or the
active flag changes, by whatever code changes them.
"""

from flask_login import UserMixin
from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from core.extensions import db
from core.timeutil import utcnow

ROLES = ("admin", "editor", "marketer", "sales")
# A change to any of these ends every session the user has open.
SESSION_ENDING_CHANGES = ("password_hash", "role", "active")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[object] = mapped_column(db.DateTime, default=utcnow)
    last_login_at: Mapped[object] = mapped_column(db.DateTime, nullable=True)
    # The zone this person reads times in (an IANA name); None: the site's TIMEZONE.
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    # The sign-in this object stands for in the request (services.login_key): what
    # Flask-Login keeps in the session and the remember cookie. Not a column.
    login_key = ""

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """Flask-Login's identifier: the sign-in's key rather than the bare id, so a cookie
        stops working when the user's session version moves on."""
        return self.login_key

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return self.has_password and check_password_hash(self.password_hash, password)

    @property
    def has_password(self) -> bool:
        """False for an invited user who has not yet set one: no password signs them in."""
        return bool(self.password_hash)

    def has_role(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]


@event.listens_for(User, "before_update")
def _end_sessions_on_change(mapper, connection, user: User) -> None:
    """A new password, another role or a deactivation signs the user out everywhere: a
    stolen cookie, or the rights it was issued with, must not outlive the change."""
    state = inspect(user)
    if any(state.attrs[name].history.has_changes() for name in SESSION_ENDING_CHANGES):
        user.session_version = (user.session_version or 0) + 1


class AuditEntry(db.Model):
    """One staff action recorded from core.signals.staff_action: who (kept as the
    address too, so an entry outlives the user), when, from where and what changed."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[object] = mapped_column(db.DateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(
        db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    user_email: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(120), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    details: Mapped[dict] = mapped_column(db.JSON, default=dict)
