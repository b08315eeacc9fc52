"""Field rules of the lead forms: what a valid value is and its normalised form.

Pure functions (no database, no request): the service calls `clean_fields` and gets back
either clean values or every field's message at once.
"""

from collections.abc import Mapping

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from gated.identity import normalise_phone
from gated.models import ROLES

MAX_LENGTHS = {"name": 120, "company": 200, "job_title": 120}


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


def clean_fields(
    data: Mapping[str, str],
    *,
    required: tuple[str, ...] = (),
    identity: str = "email",
    phone_rules: Mapping | None = None,
) -> dict:
    """Validate and normalise the person's fields of a submission.

    `identity` (gated.identity) says which of email and phone must be there: "email",
    "phone", or "email_or_phone" (at least one). `required` names further fields the form
    insists on; `phone_rules` are normalise_phone's region and allowed countries.
    Returns {email, name, company, job_title, phone, role} with the fields present in
    `data` (email always, "" when not given); raises InvalidSubmission with every field's
    message at once.
    """
    errors: dict[str, str] = {}
    clean: dict[str, str] = {"email": ""}
    typed_email = str(data.get("email") or "").strip()
    if typed_email or identity == "email":
        try:
            clean["email"] = normalise_email(typed_email)
        except ValueError as exc:
            errors["email"] = str(exc.args[0])
    for name, limit in MAX_LENGTHS.items():
        if name not in data:
            continue
        value = " ".join(str(data.get(name) or "").split())
        if len(value) > limit:
            errors[name] = str(_l("At most %(limit)d characters.", limit=limit))
        clean[name] = value
    if "phone" in data or identity == "phone":
        try:
            clean["phone"] = normalise_phone(str(data.get("phone") or ""), **(phone_rules or {}))
        except ValueError as exc:
            errors["phone"] = str(exc.args[0])
        if identity == "phone" and "phone" not in errors and not clean["phone"]:
            errors["phone"] = str(_l("Enter your mobile number."))
    neither = not clean["email"] and not clean.get("phone")
    if identity == "email_or_phone" and neither and not errors.get("email") and not errors.get("phone"):
        errors["email"] = str(_l("Enter your email address or your mobile number."))
    if "role" in data:
        role = str(data.get("role") or "").strip()
        if role and role not in ROLES:
            errors["role"] = str(_l("Choose one of the listed roles."))
        clean["role"] = role
    for name in required:
        if name not in ("email", "phone") and name not in errors and not clean.get(name):
            errors[name] = str(_l("This field is required."))
    if errors:
        raise InvalidSubmission(errors)
    return clean
