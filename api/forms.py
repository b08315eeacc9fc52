"""The form staff create an API key with."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from api.labels import LABELS
from api.models import SCOPES

EXPIRIES = [
    SelectChoice("", _l("Never")),
    SelectChoice("30d", _l("30 days")),
    SelectChoice("90d", _l("90 days")),
    SelectChoice("365d", _l("One year")),
]


class KeyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    scopes = SelectMultipleField(
        _l("Scopes"),
        choices=[SelectChoice(scope, scope) for scope in SCOPES],
        validators=[DataRequired()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    expires = SelectField(_l("Expires after"), choices=EXPIRIES, default="90d")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # What a scope opens, in the reader's words, with the code that docs/API.md and
        # the command line use beside it.
        self.scopes.choices = [
            SelectChoice(scope, Markup("{} <code>{}</code>").format(LABELS["scope"][scope], scope))
            for scope in SCOPES
        ]
