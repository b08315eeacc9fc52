"""The rule editor's and sales' forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from insights.labels import LABELS
from insights.models import EVENT_KINDS

FIELD_LABELS = {
    "": _l("anything"),
    "path": _l("page path contains"),
    "value": _l("value contains (form kind, query, URL)"),
    "ref_id": _l("reference id equals"),
    "role": _l("role is"),
    "job_title": _l("job title contains"),
    "email_domain": _l("email domain is"),
    "company": _l("company contains"),
}


class RuleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the rule a name.")), Length(max=120)])
    kind = SelectField(
        _l("Type"), choices=[SelectChoice("action", _l("Action")), SelectChoice("fit", _l("Fit"))]
    )
    event_kind = SelectField(
        _l("Event (action rules)"), choices=[SelectChoice(k, LABELS["event"][k]) for k in EVENT_KINDS]
    )
    field = SelectField(_l("Match"), choices=[SelectChoice(k, v) for k, v in FIELD_LABELS.items()])
    pattern = StringField(
        _l("Keywords"),
        validators=[Length(max=500)],
        description=_l("Comma-separated, case-insensitive; empty matches every event of the kind."),
    )
    points = IntegerField(
        _l("Points"),
        validators=[
            InputRequired(_l("Enter a whole number of points.")),
            NumberRange(-1000, 1000, _l("Points are between -1000 and 1000.")),
        ],
    )
    daily_cap = IntegerField(
        _l("Daily cap"),
        validators=[Optional(), NumberRange(0, 10000, _l("The daily cap is between 0 and 10000."))],
        description=_l("At most this many points per lead and day; 0 or empty: no cap."),
    )
    active = BooleanField(_l("Active"), default=True)


class DecisionForm(FlaskForm):
    outcome = SelectField(
        _l("Outcome"),
        choices=[SelectChoice("accepted", _l("Accept")), SelectChoice("rejected", _l("Reject"))],
    )
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])


class ReenrollForm(FlaskForm):
    sequence = SelectField(_l("Sequence"), coerce=int)
