"""What identifies a lead on a form: an email address, a mobile number, or either.

`FORM_IDENTITY` (email | phone | email_or_phone) is the site's rule; its default is
`email_or_phone` where the site speaks Chinese first (DEFAULT_LOCALE zh_CN), since Chinese
prospects leave a mobile number more readily than a work email, else `email`.
`FORM_IDENTITY_OVERRIDES` ("demo=email,newsletter=email") sets it per form.

Mobile numbers are parsed by `phonenumbers` (Google's libphonenumber) in the region of
`PHONE_REGION` (a number typed without +country code is read as one of that country), and
kept in E.164 (+8613800138000): the form a lead is keyed by, as emails are normalised.
`PHONE_ALLOWED_REGIONS` (e.g. "CN") refuses numbers of other countries.
"""

from __future__ import annotations

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l

IDENTITIES = ("email", "phone", "email_or_phone")
_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
# Longest a typed number may be before we stop parsing it (libphonenumber caps at 250).
MAX_TYPED = 40


def default_identity(default_locale: str) -> str:
    """The identity rule when FORM_IDENTITY is not set."""
    return "email_or_phone" if str(default_locale).replace("-", "_").lower() == "zh_cn" else "email"


def parse_overrides(value, *, allowed: tuple[str, ...] = IDENTITIES) -> dict[str, str]:
    """A per-form setting ("demo=email,newsletter=email") as {form: value}; raises
    ValueError on an entry whose value is not `allowed`."""
    if isinstance(value, dict):
        pairs = value.items()
    else:
        items = value if isinstance(value, list) else str(value or "").split(",")
        pairs = []
        for item in items:
            if not str(item).strip():
                continue
            form, _, identity = str(item).partition("=")
            pairs.append((form.strip(), identity.strip()))
    overrides = {}
    for form, identity in pairs:
        if identity not in allowed or not form:
            raise ValueError(f"{form}={identity}")
        overrides[form] = identity
    return overrides


# Forms whose promise is a mail: they ask for an address whatever the site's default (a
# number alone would be thanked for an issue that can never reach it); an override may
# still say otherwise.
MAIL_FORMS = {"newsletter": "email"}


def form_identity(form_kind: str) -> str:
    """The identity a form asks for (email, phone or email_or_phone)."""
    config = current_app.config
    return (
        config["FORM_IDENTITY_OVERRIDES"].get(form_kind)
        or MAIL_FORMS.get(form_kind)
        or config["FORM_IDENTITY"]
    )


def identity_fields(form_kind: str) -> tuple[str, ...]:
    """The identity fields a form shows, in form order."""
    return {"email": ("email",), "phone": ("phone",), "email_or_phone": ("email", "phone")}[
        form_identity(form_kind)
    ]


def normalise_phone(
    value: str, *, region: str = "CN", allowed: tuple[str, ...] = (), mobile_only: bool = True
) -> str:
    """A mobile number in E.164, or "" for an empty value. Raises ValueError with a message
    for the visitor: malformed, not a mobile number, or of a country not allowed.
    `mobile_only=False` (staff imports) takes any valid number: a sales team's list may
    hold office lines, and a form's number must receive a text."""
    typed = " ".join(str(value or "").split())
    if not typed:
        return ""
    if len(typed) > MAX_TYPED:
        raise ValueError(_l("Enter a valid mobile number, like 138 0013 8000."))
    if typed.startswith("00"):
        typed = "+" + typed[2:]
    try:
        number = phonenumbers.parse(typed, region or None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(_l("Enter a valid mobile number, like 138 0013 8000.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_l("Enter a valid mobile number, like 138 0013 8000."))
    country = phonenumbers.region_code_for_number(number)
    if allowed and country not in allowed:
        if list(allowed) == ["CN"]:
            raise ValueError(_l("Enter a mobile number of mainland China (+86)."))
        raise ValueError(
            _l(
                "Mobile numbers of this country are not accepted here (%(allowed)s only).",
                allowed=", ".join(allowed),
            )
        )
    if mobile_only and phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise ValueError(_l("This is not a mobile number: enter the mobile number that can receive a text."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_rules() -> dict:
    """normalise_phone's keyword arguments from the settings of the app in use."""
    config = current_app.config
    return {"region": config["PHONE_REGION"], "allowed": tuple(config["PHONE_ALLOWED_REGIONS"])}


def phone_number(number: str) -> str:
    """A stored number (E.164) as people write it, for staff screens and mails:
    +86 139 0013 9000 ("" stays ""; anything unparsable is shown as stored)."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def lead_name(lead) -> str:
    """How staff screens and mails name a lead: the name, else the address, else the
    number as people write it."""
    return lead.name or lead.email or phone_number(lead.phone)


def masked(number: str) -> str:
    """A number shown to staff in lists (the SMS outbox): +86 138****8000."""
    if len(number) < 8:
        return "*" * len(number)
    return f"{number[:-8]}****{number[-4:]}"
