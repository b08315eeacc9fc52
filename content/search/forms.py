"""The synonym group form of the admin."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class SynonymForm(FlaskForm):
    terms = TextAreaField(
        _l("Terms that mean the same"),
        validators=[DataRequired(), Length(max=1500)],
        render_kw={"rows": 2},
    )
