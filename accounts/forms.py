"""Login form; a staff member's own settings and password."""

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from core.localtime import zone_choices, zone_label


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))
    next = HiddenField()


def _own_zone_choices() -> list[tuple[str, str]]:
    site = zone_label(current_app.config["TIMEZONE"])
    return [("", _("The site's time zone (%(zone)s)", zone=site)), *zone_choices()]


class AccountForm(FlaskForm):
    timezone = SelectField(_l("Show times in"), choices=_own_zone_choices)


class PasswordForm(FlaskForm):
    """A staff user's own new password; the policy's answer goes beside new_password."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two new passwords differ."))],
    )
