"""The forms of content operations: teams, standards per kind, verify, the reviewer's
checklist and an article's owner and team. Values are checked by the services
(content.teams, content.standards, content.freshness), which say what is wrong per field."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (usable on a phone, unlike <select multiple>)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        """Unknown values are the service's to report, beside the field."""


def _optional_int(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class TeamForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=200)])
    members = CheckboxesField(_l("Members"), coerce=int)
    reviewers = CheckboxesField(_l("Reviewers"), coerce=int)
    categories = StringField(_l("Categories the team owns"), validators=[Optional(), Length(max=2000)])


class StandardForm(FlaskForm):
    team = SelectField(_l("Owning team"), coerce=_optional_int, validate_choice=False)
    review_months = StringField(_l("Review every (months)"), render_kw={"inputmode": "numeric"})
    required_fields = CheckboxesField(_l("Required before publishing"))
    template = TextAreaField(_l("Template (Markdown)"), validators=[Length(max=100_000)])
    checklist = TextAreaField(_l("Reviewer's checklist (one item a line)"), validators=[Length(max=5000)])


class VerifyForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])


class ChecklistForm(FlaskForm):
    items = CheckboxesField(_l("Reviewer's checklist"))


class OwnershipForm(FlaskForm):
    team = SelectField(_l("Team"), coerce=_optional_int, validate_choice=False)
    owner = SelectField(_l("Owner"), coerce=_optional_int, validate_choice=False)


class PlanForm(FlaskForm):
    title = StringField(_l("Working title"), validators=[Length(max=1000)])
    kind = SelectField(_l("Kind"), validate_choice=False)
    team = SelectField(_l("Team"), coerce=_optional_int, validate_choice=False)
    owner = SelectField(_l("Owner"), coerce=_optional_int, validate_choice=False)
    target_date = StringField(_l("Target date"), render_kw={"type": "date"})
    serves = StringField(_l("Serves (campaign or product launch)"), validators=[Length(max=1000)])
    idea = HiddenField()


class MoveForm(FlaskForm):
    target_date = StringField(_l("New date"), render_kw={"type": "date"})
