"""The admin's forms: a short link, a partner, an adviser's contact QR image."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Optional


class LinkForm(FlaskForm):
    target = StringField(
        _l("Page"), render_kw={"placeholder": "/library/saas-renewal", "spellcheck": "false"}
    )
    code = StringField(_l("Code (optional)"), render_kw={"spellcheck": "false", "autocapitalize": "off"})
    channel = StringField(_l("Channel"), render_kw={"list": "channel-choices", "autocapitalize": "off"})
    campaign = StringField(_l("Campaign"), render_kw={"autocapitalize": "off"})
    owner_id = SelectField(_l("Owner"), coerce=int, validate_choice=False)
    expires_on = DateField(_l("Expires on"), validators=[Optional()])


class PartnerForm(FlaskForm):
    name = StringField(_l("Name"))
    contact = StringField(_l("Contact"))


class AdvisorCardForm(FlaskForm):
    user_id = SelectField(_l("Staff member"), coerce=int, validate_choice=False)
    campaign = StringField(_l("or campaign"))
    image = FileField(_l("WeCom contact QR (PNG or JPEG)"), render_kw={"accept": "image/png,image/jpeg"})
