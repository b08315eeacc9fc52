"""SMS verification codes on the lead forms: the third proof that a visitor holds what
they typed (after a mailed link and the double opt-in). A form that asks for one
(SMS_CODE_FORMS) lets its submission change what a lead stored, like the lead's cookie.

- A code is 6 digits, valid SMS_CODE_VALID_SECONDS (5 minutes), good for one submission.
- Only a keyed hash (HMAC-SHA256 with a key derived from SECRET_KEY) is stored; the
  text's copy in the SMS queue is blanked once sent (nurture.sms). Codes are never
  logged.
- Wrong codes count: after SMS_CODE_MAX_ATTEMPTS the code is locked, and a new one must
  be asked for.
- Sending costs money: it sits behind the forms' proof-of-work (the view), Flask-Limiter
  per IP, and counts kept in this table per number and per IP (SMS_CODE_RESEND_SECONDS
  between two codes to a number, SMS_CODE_PER_NUMBER_PER_HOUR, SMS_CODE_PER_IP_PER_HOUR),
  so the limits hold on every web node.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from core.extensions import db
from gated import identity, signals
from gated.models import PhoneCode
from gated.validation import InvalidSubmission

FIELD = "sms_code"
MODES = ("auto", "on", "off")


class CodeRefused(Exception):
    """A code not sent or not accepted; `message` is for the visitor, `field` the form
    field it belongs beside, `retry_after` seconds when waiting helps."""

    def __init__(self, message, *, field: str = FIELD, retry_after: int | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        self.retry_after = retry_after


@dataclass(frozen=True)
class CodeSent:
    phone: str
    resend_after: int


def asks_for_code(form_kind: str) -> bool:
    """Whether the form asks for an SMS code with a mobile number: SMS_CODE_FORMS is
    "auto" (forms identified by phone alone on a Chinese site), "on", "off", or per
    form through SMS_CODE_OVERRIDES ("demo=off")."""
    config = current_app.config
    mode = config["SMS_CODE_OVERRIDES"].get(form_kind) or config["SMS_CODE_FORMS"]
    if mode == "auto":
        chinese = str(config["DEFAULT_LOCALE"]).replace("-", "_").lower() == "zh_cn"
        return chinese and identity.form_identity(form_kind) == "phone"
    return mode == "on"


def _hash(phone: str, code: str) -> str:
    key = f"lodestar.sms-code:{current_app.config['SECRET_KEY']}".encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _count(*where) -> int:
    return db.session.scalar(select(func.count()).select_from(PhoneCode).where(*where))


def request_code(typed_phone: str, *, ip: str | None, now: datetime) -> CodeSent:
    """Make a code for the number and queue its text (committed). Raises CodeRefused:
    a bad number (beside the phone field), or too many codes lately."""
    config = current_app.config
    try:
        phone = identity.normalise_phone(typed_phone, **identity.phone_rules())
    except ValueError as exc:
        raise CodeRefused(exc.args[0], field="phone") from exc
    if not phone:
        raise CodeRefused(_l("Enter your mobile number."), field="phone")
    hour_ago = now - timedelta(hours=1)
    latest = db.session.scalar(select(func.max(PhoneCode.created_at)).where(PhoneCode.phone == phone))
    wait = config["SMS_CODE_RESEND_SECONDS"]
    if latest is not None and latest > now - timedelta(seconds=wait):
        left = wait - int((now - latest).total_seconds())
        raise CodeRefused(
            _l("A code was sent a moment ago. You can ask for another in %(seconds)d seconds.", seconds=left),
            retry_after=left,
        )
    if (
        _count(PhoneCode.phone == phone, PhoneCode.created_at > hour_ago)
        >= config["SMS_CODE_PER_NUMBER_PER_HOUR"]
    ):
        raise CodeRefused(
            _l("This number has had several codes in the last hour. Please try again later."),
            retry_after=3600,
        )
    if (
        ip
        and _count(PhoneCode.ip == ip, PhoneCode.created_at > hour_ago) >= config["SMS_CODE_PER_IP_PER_HOUR"]
    ):
        raise CodeRefused(
            _l("Too many codes were asked for from here. Please try again later."), retry_after=3600
        )
    code = f"{secrets.randbelow(10**6):06d}"
    valid = config["SMS_CODE_VALID_SECONDS"]
    expires_at = now + timedelta(seconds=valid)
    db.session.add(
        PhoneCode(phone=phone, code_hash=_hash(phone, code), ip=ip, created_at=now, expires_at=expires_at)
    )
    answers = signals.sms_requested.send(
        current_app._get_current_object(),
        to_number=phone,
        lead_id=None,
        template="verify_code",
        params={"code": code, "minutes": str(max(1, valid // 60))},
        secret=["code"],
        expires_at=expires_at,
    )
    if not any(queued for _receiver, queued in answers):
        db.session.rollback()
        raise CodeRefused(
            _l("We could not send a code to this number now. Please try again later."), retry_after=wait
        )
    db.session.commit()
    return CodeSent(phone=phone, resend_after=wait)


def check_code(phone: str, code: str, *, now: datetime) -> int:
    """The id of the number's valid code matching `code` (not yet spent: see spend).
    A wrong code counts against the latest code and is committed. Raises CodeRefused."""
    code = "".join(str(code or "").split())
    if not code:
        raise CodeRefused(_l("Enter the code we sent to your phone."))
    latest = db.session.scalars(
        select(PhoneCode)
        .where(PhoneCode.phone == phone)
        .order_by(PhoneCode.created_at.desc(), PhoneCode.id.desc())
        .limit(1)
    ).first()
    if latest is None or latest.used_at is not None:
        raise CodeRefused(_l("Ask for a code first: press “Send code”."))
    if latest.attempts >= current_app.config["SMS_CODE_MAX_ATTEMPTS"]:
        raise CodeRefused(_l("Too many wrong codes. Ask for a new code."))
    if latest.expires_at <= now:
        raise CodeRefused(_l("This code has expired. Ask for a new code."))
    if not hmac.compare_digest(latest.code_hash, _hash(phone, code)):
        latest.attempts += 1
        db.session.commit()
        raise CodeRefused(_l("This code is not right. Check the text message and try again."))
    return latest.id


def proof_for(form_kind: str, data, *, now: datetime) -> int | None:
    """For a form that asks for a code: the id of the valid code of the number typed, or
    None when no code is due (no number, or one the form rules will refuse anyway).
    Raises InvalidSubmission beside the code field."""
    if not asks_for_code(form_kind):
        return None
    try:
        phone = identity.normalise_phone(str(data.get("phone") or ""), **identity.phone_rules())
    except ValueError:
        return None
    if not phone:
        return None
    try:
        return check_code(phone, data.get(FIELD), now=now)
    except CodeRefused as refused:
        raise InvalidSubmission({FIELD: refused.message}) from refused


def spend(code_id: int, *, now: datetime) -> None:
    """Inside the submission's transaction: mark the code used, once. A second
    submission with the same code (sent at the same moment) raises InvalidSubmission."""
    spent = db.session.execute(
        update(PhoneCode).where(PhoneCode.id == code_id, PhoneCode.used_at.is_(None)).values(used_at=now)
    )
    if not spent.rowcount:
        raise InvalidSubmission({FIELD: str(_l("Ask for a code first: press “Send code”."))})


def purge(now: datetime) -> int:
    """Delete codes an hour past their expiry (the counts need only the last hour)."""
    from sqlalchemy import delete

    cutoff = now - timedelta(hours=1)
    return db.session.execute(delete(PhoneCode).where(PhoneCode.expires_at < cutoff)).rowcount
