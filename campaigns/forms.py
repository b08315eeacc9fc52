"""The segment form: name, slug and the rules as YAML, the same text a file holds, so
the builder and `flask segments import` share one language and one check."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

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
