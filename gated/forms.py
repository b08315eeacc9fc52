"""The public lead forms. Validation lives in the service (gated.validation), so the same
rules hold for web forms and CSV imports; these classes render the fields. CSRF is
checked by Origin / Sec-Fetch-Site (core.security.csrf_by_origin), not by a token in the
form: a token would start a session for every visitor and make the page per visitor.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice

from gated.models import PERSON_FIELDS, UTM_FIELDS


class Marked:
    """Marks a field required for the label and the browser; the service checks it."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        return None


ROLE_CHOICES = [
    SelectChoice("", _l("Choose…")),
    SelectChoice("decision_maker", _l("I decide on the purchase")),
    SelectChoice("user", _l("I will use it")),
    SelectChoice("requester", _l("I am looking on behalf of my team")),
    SelectChoice("other", _l("Other")),
]


class LeadForm(FlaskForm):
    """Every field a lead form may show; views pick which (FIELDS) and progressive
    profiling drops what is already known."""

    class Meta:
        csrf = False

    email = EmailField(_l("Work email"), validators=[Marked()])
    name = StringField(_l("Full name"))
    company = StringField(_l("Company"))
    job_title = StringField(_l("Job title"))
    phone = TelField(_l("Mobile number"))
    sms_code = StringField(_l("Verification code"))
    role = SelectField(_l("Your part in the decision"), choices=ROLE_CHOICES, validate_choice=False)
    message = TextAreaField(_l("What would you like to see?"))
    consent = BooleanField()
    website = StringField(_l("Leave this field empty"))
    started = HiddenField()
    referrer = HiddenField()
    landing_page = HiddenField()
    utm_source = HiddenField()
    utm_medium = HiddenField()
    utm_campaign = HiddenField()
    utm_term = HiddenField()
    utm_content = HiddenField()


HIDDEN = ("started", "referrer", "landing_page", *UTM_FIELDS)
FIELDS = {
    "whitepaper": PERSON_FIELDS,
    "video": PERSON_FIELDS,
    "demo": (*PERSON_FIELDS, "message"),
    "newsletter": ("email", "name"),
}
AUTOCOMPLETE = {
    "email": "email",
    "name": "name",
    "company": "organization",
    "job_title": "organization-title",
    "phone": "tel",
    "sms_code": "one-time-code",
}
