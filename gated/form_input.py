"""What a lead form's submission holds once checked: the person's fields cleaned (with the
known visitor's address where the form did not ask for it), the consent, the message, and
the values of the inputs other packages add to the forms. Stores nothing."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from core.extensions import db
from core.hooks import form_extras
from gated import identity
from gated.models import IDENTITY_FIELDS, PERSON_FIELDS, Lead
from gated.validation import InvalidSubmission, clean_fields

MESSAGE_LIMIT = 2000
# Fields each form insists on besides email (demo requests go to sales, who need a name).
REQUIRED = {"whitepaper": (), "video": (), "demo": ("name", "company"), "newsletter": (), "import": ()}


def check_submission(form_kind: str, data, *, known_lead_id: int | None = None) -> str:
    """The normalised email (or, without one, the mobile number) of a submission
    capture_lead would take, or InvalidSubmission with per-field messages as it would
    raise; stores nothing (for a submission that is held rather than captured at once)."""
    clean = validated(form_kind, data, known_lead_id=known_lead_id)[1]
    return clean["email"] or clean.get("phone", "")


def validated(form_kind: str, data, *, known_lead_id: int | None) -> tuple[dict, dict, bool, str]:
    """The form's data (with the known visitor's email when the form did not ask for
    it), its cleaned person fields, the consent and the message; or InvalidSubmission."""
    data = dict(data)
    typed = [name for name in IDENTITY_FIELDS if str(data.get(name) or "").strip()]
    if known_lead_id and "email" not in typed:
        # The form did not ask for the address again (or the visitor gave only a
        # number): the known visitor's address is theirs.
        known = db.session.get(Lead, known_lead_id)
        if known is not None and known.email:
            data["email"] = known.email
    if known_lead_id and not typed:
        known = db.session.get(Lead, known_lead_id)
        if known is not None and known.phone:
            data["phone"] = known.phone
    person_fields = {name: data[name] for name in PERSON_FIELDS if name in data}
    errors = {}
    try:
        clean = clean_fields(
            person_fields,
            required=REQUIRED.get(form_kind, ()),
            identity=identity.form_identity(form_kind),
            phone_rules=identity.phone_rules(),
        )
    except InvalidSubmission as exc:
        errors.update(exc.errors)
        clean = {}
    consent = str(data.get("consent") or "").lower() in ("1", "y", "yes", "on", "true")
    if not consent and (current_app.config["CONSENT_REQUIRED"] or form_kind == "newsletter"):
        errors["consent"] = str(_l("Please tick the box to agree."))
    message = str(data.get("message") or "").strip()
    if len(message) > MESSAGE_LIMIT:
        errors["message"] = str(_l("At most %(limit)d characters.", limit=MESSAGE_LIMIT))
    if errors:
        raise InvalidSubmission(errors)
    return data, clean, consent, message


# At most this many values of one added input (core.hooks.add_form_extra), each this long.
EXTRA_VALUES, EXTRA_LENGTH = 20, 40


def extra_values(data) -> dict[str, list[str]]:
    """The values posted for the inputs other packages add to the forms, as lists of
    short strings (what they mean is the adding package's business)."""
    found = {}
    for name, _render in form_extras(current_app):
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name) or []
        values = [values] if isinstance(values, str) else list(values)
        kept = [str(value)[:EXTRA_LENGTH] for value in values[:EXTRA_VALUES] if str(value).strip()]
        if kept:
            found[name] = kept
    return found
