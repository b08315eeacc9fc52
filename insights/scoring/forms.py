"""The rule editor's and sales' forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
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


RETURN_REASON_LABELS = {
    "not_a_fit": _l("Not a fit"),
    "no_budget": _l("No budget"),
    "wrong_contact": _l("Wrong contact"),
    "customer": _l("Already a customer"),
    "duplicate": _l("Duplicate lead"),
    "other": _l("Other"),
}


class DecisionForm(FlaskForm):
    """The desk's decision: 接受 or 退回 (the button pressed), why it is returned, a note."""

    outcome = SelectField(
        _l("Outcome"),
        choices=[SelectChoice("accepted", _l("Accept")), SelectChoice("rejected", _l("Return"))],
        validate_choice=False,
    )
    reason_code = RadioField(
        _l("Why return it"),
        choices=[SelectChoice(code, words) for code, words in RETURN_REASON_LABELS.items()],
        validators=[Optional()],
        validate_choice=False,
    )
    reason = StringField(_l("Other reason"), validators=[Length(max=500)])
    note = TextAreaField(_l("Note"), validators=[Length(max=1000)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.outcome.data not in ("accepted", "rejected"):
            self.outcome.errors.append(_l("Press Accept or Return."))
            return False
        if self.outcome.data == "rejected":
            if self.reason_code.data not in RETURN_REASON_LABELS:
                self.reason_code.errors.append(_l("Choose why you return the lead."))
                valid = False
            elif self.reason_code.data == "other" and not (self.reason.data or "").strip():
                self.reason.errors.append(_l("Say why the lead is returned."))
                valid = False
        return valid

    def reason_words(self) -> str:
        """What the decision stores as its reason: the preset's words or the typed text."""
        if self.outcome.data != "rejected":
            return (self.reason.data or "").strip()
        if self.reason_code.data == "other":
            return self.reason.data.strip()
        return str(RETURN_REASON_LABELS[self.reason_code.data])


class ReenrollForm(FlaskForm):
    sequence = SelectField(_l("Sequence"), coerce=int)
