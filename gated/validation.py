"""Field rules of the lead forms: what a valid value is and its normalised form.

Pure functions (no database, no request): the service calls `clean_fields` and gets back
either clean values or every field's message at once.
"""

import re
from collections.abc import Mapping

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from gated.models import ROLES

MAX_LENGTHS = {"name": 120, "company": 200, "job_title": 120}
_PHONE_PUNCTUATION = re.compile(r"[\s\-().·]")
_CN_MOBILE = re.compile(r"^(?:\+86)?(1[3-9]\d{9})$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class InvalidSubmission(Exception):
    """A submission with fields to correct. `errors` maps a field name to its message."""

    def __init__(self, errors: Mapping[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = dict(errors)


def normalise_email(value: str) -> str:
    """The address as stored and compared: trimmed, domain lower-cased (IDNA-aware),
    local part as typed, since some mail servers treat its case as significant.

    Raises ValueError with a message for the visitor."""
    value = (value or "").strip()
    if not value:
        raise ValueError(_l("Enter your email address."))
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(_l("Enter a valid email address, like name@company.com.")) from exc
    if len(result.normalized) > 254:
        raise ValueError(_l("This email address is too long."))
    return result.normalized


def normalise_phone(value: str) -> str:
    """A Chinese mobile number (11 digits starting 13-19, with or without +86) becomes
    +86XXXXXXXXXXX; any other number must be international, +country code and number.
    Empty stays empty. Raises ValueError."""
    compact = _PHONE_PUNCTUATION.sub("", value or "")
    if not compact:
        return ""
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("86") and len(compact) == 13:
        compact = "+" + compact
    mobile = _CN_MOBILE.match(compact)
    if mobile:
        return "+86" + mobile.group(1)
    if compact.startswith("+86"):
        raise ValueError(_l("A Chinese mobile number has 11 digits and starts with 13–19."))
    if _E164.match(compact):
        return compact
    raise ValueError(
        _l("Enter a Chinese mobile number (e.g. 138 0013 8000) or an international one starting with +.")
    )


def clean_fields(data: Mapping[str, str], *, required: tuple[str, ...] = ("email",)) -> dict:
    """Validate and normalise the person's fields of a submission.

    Returns {email, name, company, job_title, phone, role} with only the fields present in
    `data`; raises InvalidSubmission with every field's message at once.
    """
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    try:
        clean["email"] = normalise_email(data.get("email", ""))
    except ValueError as exc:
        errors["email"] = str(exc.args[0])
    for name, limit in MAX_LENGTHS.items():
        if name not in data:
            continue
        value = " ".join(str(data.get(name) or "").split())
        if len(value) > limit:
            errors[name] = str(_l("At most %(limit)d characters.", limit=limit))
        clean[name] = value
    if "phone" in data:
        try:
            clean["phone"] = normalise_phone(str(data.get("phone") or ""))
        except ValueError as exc:
            errors["phone"] = str(exc.args[0])
    if "role" in data:
        role = str(data.get("role") or "").strip()
        if role and role not in ROLES:
            errors["role"] = str(_l("Choose one of the listed roles."))
        clean["role"] = role
    for name in required:
        if name != "email" and name not in errors and not clean.get(name):
            errors[name] = str(_l("This field is required."))
    if errors:
        raise InvalidSubmission(errors)
    return clean
