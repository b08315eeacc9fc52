"""Login form; a staff member's own settings and password."""

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from accounts.labels import role_label
from accounts.models import ROLES
from core.localtime import zone_choices, zone_label


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))
    next = HiddenField()


def _own_zone_choices() -> list[tuple[str, str]]:
    site = zone_label(current_app.config["TIMEZONE"])
    return [("", _("The site's time zone (%(zone)s)", zone=site)), *zone_choices()]


class ResetRequestForm(FlaskForm):
    """A forgotten password: the address a link is mailed to."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class AccountForm(FlaskForm):
    timezone = SelectField(_l("Show times in"), choices=_own_zone_choices)


class NewPasswordForm(FlaskForm):
    """A new password, twice: an invited user's first; the policy's answer goes beside
    new_password."""

    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two new passwords differ."))],
    )


class PasswordForm(NewPasswordForm):
    """A staff user's own new password, the current one first."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])


def _role_choices() -> list[tuple[str, str]]:
    return [(role, role_label(role)) for role in ROLES]


class RoleForm(FlaskForm):
    """Another role for a staff user (the users page)."""

    role = SelectField(_l("Role"), choices=_role_choices, validate_choice=False)


def _staff_email(missing: str) -> EmailField:
    """A staff user's address (what they sign in with); `missing` says it is empty."""
    return EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=missing),
            Length(max=254),
            Email(message=_l("Enter an email address such as name@example.com."), check_deliverability=False),
        ],
    )


def _staff_name() -> StringField:
    return StringField(_l("Full name"), validators=[Length(max=120)])


class ProfileForm(FlaskForm):
    """A staff user's name and address, as an administrator corrects them."""

    name = _staff_name()
    email = _staff_email(_l("Enter the user's email address."))


def _new_role_choices() -> list[tuple[str, str]]:
    return [("", _("Choose a role")), *_role_choices()]


class InviteForm(FlaskForm):
    """A new staff user, invited by mail to set their own password. The role is chosen,
    never assumed: a field left as it was must not make an administrator."""

    email = _staff_email(_l("Enter the new user's email address."))
    name = _staff_name()
    role = SelectField(
        _l("Role"),
        choices=_new_role_choices,
        validators=[DataRequired(message=_l("Choose the new user's role."))],
        validate_choice=False,
    )
