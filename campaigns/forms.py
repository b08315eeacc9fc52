"""The segment form (name, slug and the rules as YAML, the same text a file holds, so
the builder and `flask segments import` share one language and one check) and the
campaign editor's form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from nurture.forms import CheckboxesField

VARIANT_ROWS = 4  # the editor offers up to four subjects to test; a file may have more

EXAMPLE_RULES = """all:
  - {field: role, op: eq, value: decision_maker}
  - {event: download, asset: saas-renewal, within: 30d}
  - not:
      - {event: mail_open, within: 30d}
"""


class SegmentForm(FlaskForm):
    name = StringField(_l("Name"))
    slug = StringField(_l("Slug"))
    rules = TextAreaField(_l("Rules"), default=EXAMPLE_RULES, render_kw={"rows": 14, "spellcheck": "false"})


class CampaignForm(FlaskForm):
    """A campaign in the browser: the same fields as a campaign file (campaigns.editor
    turns it into one, and campaigns.validation checks both alike)."""

    name = StringField(_l("Name"))
    slug = StringField(_l("Slug"))
    topic = SelectField(_l("Topic"), choices=[], validate_choice=False)
    segments = CheckboxesField(_l("Send to (any of these segments)"), choices=[], validate_choice=False)
    exclude = CheckboxesField(_l("Leave out (whoever is in these)"), choices=[], validate_choice=False)
    subject = StringField(_l("Subject"))
    test = BooleanField(_l("Test two or more subjects"))
    variants = FieldList(StringField(_l("Subject")), min_entries=VARIANT_ROWS, max_entries=VARIANT_ROWS)
    sample_percent = IntegerField(_l("Sample (%)"), default=20, validators=[Optional()])
    wait = StringField(_l("Wait before the winner goes out"), default="4h")
    metric = SelectField(
        _l("Winner by"), choices=[SelectChoice("opens", _l("opens")), SelectChoice("clicks", _l("clicks"))]
    )
    when = RadioField(
        _l("When"),
        default="draft",
        choices=[
            SelectChoice("draft", _l("Keep as a draft")),
            SelectChoice("now", _l("Send now")),
            SelectChoice("at", _l("At a time")),
            SelectChoice("local", _l("At a local hour in each recipient's time zone")),
        ],
    )
    send_at = DateTimeLocalField(_l("Send at"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    local_time = StringField(_l("Local hour"), default="09:00")
    body = TextAreaField(_l("Body (Markdown)"), render_kw={"rows": 14})
    resend_after = StringField(_l("Resend to non-openers after"))
    resend_subject = StringField(_l("Resend subject"))
