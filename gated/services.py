"""What the gated package does: capture a lead from a form, hand out signed download links,
record downloads, confirm double opt-in, change stages.

Each service owns its transaction. Signals documented as "inside the transaction" are sent
before the commit, so the lead, its submission and what other packages add (queued mail,
enrollments, webhook rows) are stored together or not at all; SMTP is never touched here.
Erase, export and retention live in gated.privacy; assets in gated.assets; the hand-off
webhook in gated.webhooks; the visitor's signed tokens (form start time, lead cookie) in
gated.visitor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask import current_app, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from content.services import get_public_article
from core.extensions import db
from core.hooks import form_extras
from core.i18n import visitor_language
from core.ids import token_id
from core.schema import upsert_insert
from core.tokens import sign, unsign
from core.urls import absolute_url_for
from gated import identity, phonecodes, signals, webhooks
from gated.assets import asset_for_article
from gated.attribution import classify_channel, host_of, source_label
from gated.models import (
    IDENTITY_FIELDS,
    PERSON_FIELDS,
    STAGES,
    UTM_FIELDS,
    Asset,
    Consent,
    Download,
    Lead,
    Submission,
)
from gated.validation import InvalidSubmission, clean_fields

DOWNLOAD_PURPOSE = "download"
CONFIRM_PURPOSE = "confirm"
MESSAGE_LIMIT = 2000
# Fields each form insists on besides email (demo requests go to sales, who need a name).
REQUIRED = {"whitepaper": (), "demo": ("name", "company"), "newsletter": (), "import": ()}


class NotFound(Exception):
    """The lead or asset a link points at no longer exists (erased, or deleted)."""


@dataclass(frozen=True)
class RequestMeta:
    """What the request tells about the visit, apart from the form fields."""

    ip: str | None = None
    user_agent: str | None = None
    referrer: str = ""
    landing_page: str = ""


@dataclass(frozen=True)
class AssetRef:
    """What a submission needs of its asset (the id and, for the mail, the title): plain
    values, fit to be remembered between requests like the white paper behind a form."""

    id: int
    title: str


@dataclass
class Capture:
    lead: Lead
    submission: Submission
    created: bool
    download_url: str | None = None
    # Whether every mail the submission asked for was queued (see request_mail).
    mailed: bool = True
    # Read before the commit, which expires the objects: a view that only needs the ids
    # (the thank-you token, the lead cookie) does not load both rows again.
    lead_id: int | None = None
    submission_id: int | None = None


def _app():
    return current_app._get_current_object()


def site_hosts() -> list[str]:
    """Our own hosts: a referrer from one of them is internal navigation, not a source."""
    hosts = [host_of(current_app.config["SITE_URL"])]
    hosts += list(current_app.config.get("SITE_HOSTS") or [])
    return [host for host in hosts if host]


def consent_text() -> tuple[str, str]:
    """The marketing-consent wording shown now, and its version (stored with each consent)."""
    text = current_app.config.get("CONSENT_TEXT") or str(
        _l(
            "Yes, send me occasional emails about related content and events. "
            "I can unsubscribe at any time with one click."
        )
    )
    return current_app.config["CONSENT_VERSION"], text


def attribution(data, meta: RequestMeta) -> dict:
    """utm_*, referrer, landing page and channel of a submission. Hidden fields written on
    the landing page win over the POST's own headers (which only point back at us)."""
    utm = {name: str(data.get(name) or "").strip()[:200] for name in UTM_FIELDS}
    referrer = str(data.get("referrer") or meta.referrer or "")[:500]
    landing = str(data.get("landing_page") or meta.landing_page or "")[:500]
    hosts = site_hosts()
    channel = classify_channel(
        utm, referrer, landing, partner_domains=current_app.config["PARTNER_DOMAINS"], site_hosts=hosts
    )
    return {
        "utm": utm,
        "referrer": referrer,
        "landing_page": landing,
        "channel": channel,
        "source": source_label(utm, referrer, site_hosts=hosts),
    }


def landing_facts(slug: str, *, now: datetime) -> dict | None:
    """What a white paper's form submission needs (plain values, fit to be remembered
    between requests): the article's nurture sequence and its asset (an AssetRef); None
    when no public white paper has that slug."""
    article = get_public_article("whitepaper", slug, now=now)
    if article is None:
        return None
    asset = asset_for_article(article.id)
    return {
        "sequence": article.sequence_slug or None,
        "asset": AssetRef(asset.id, asset.title) if asset else None,
    }


def upsert_lead(
    email: str = "",
    *,
    phone: str = "",
    now: datetime,
    touch: dict | None = None,
    source: str = "",
    fields: dict | None = None,
) -> tuple[Lead, bool]:
    """The lead of `email` or `phone` (normalised; at least one given), created if new,
    inside the caller's transaction. `fields` (column values) are written only when the
    lead is created, in the same INSERT.

    Which lead: the one known by the address; else the one known by the number, when it
    has no address yet (a lead known by phone who gives an email stays one lead); else a
    new lead. A number already held by a lead with another address is not taken by the
    new one (the caller records it as proposed: claim_identity). Two people are never
    merged here: staff merge (gated.merging).

    INSERT … ON CONFLICT DO NOTHING RETURNING the row, then (when it existed) SELECT,
    holds under concurrency on both databases: PostgreSQL makes the second insert wait
    for the first to commit and then skip; SQLite has one writer at a time. No savepoint
    is needed (a savepoint under pysqlite would commit early when it is the outermost).
    The conflict target is left out, so a clash on either unique index skips the insert.
    """
    if not email and not phone:
        raise ValueError("a lead needs an email address or a mobile number")
    touch = touch or {}
    values = {
        "created_at": now,
        "updated_at": now,
        "source": (source or touch.get("source") or "")[:120],
        "stage": "new",
        "first_touch_at": now,
    }
    if touch:
        values.update(
            first_landing_page=touch["landing_page"],
            first_referrer=touch["referrer"],
            first_channel=touch["channel"],
            **{f"first_{name}": value for name, value in touch["utm"].items()},
        )
    values.update(fields or {})
    lead = _insert_lead({**values, "email": email, "phone": phone})
    if lead is not None:
        return lead, True
    by_email, by_phone = find_leads(email, phone, populate=True)
    if by_email is not None:
        return by_email, False
    if by_phone is not None and not (email and by_phone.email):
        return by_phone, False
    # The number is another person's (a lead with another address): a lead of its own.
    lead = _insert_lead({**values, "email": email, "phone": ""})
    if lead is not None:
        return lead, True
    return find_leads(email, "", populate=True)[0], False


def _insert_lead(values: dict) -> Lead | None:
    """The new lead, or None when a lead holds its address or number already."""
    statement = (
        upsert_insert(db.session.get_bind(), Lead).values(**values).on_conflict_do_nothing().returning(Lead)
    )
    return db.session.scalars(statement, execution_options={"populate_existing": True}).one_or_none()


def find_leads(email: str, phone: str, *, populate: bool = False) -> tuple[Lead | None, Lead | None]:
    """The lead known by this address and the one known by this number (either None,
    or the same lead twice)."""
    found = {}
    for name, value in (("email", email), ("phone", phone)):
        if value:
            column = getattr(Lead, name)
            # `<> ''` lets SQLite use the partial unique index.
            found[name] = db.session.scalars(
                select(Lead).where(column == value, column != ""),
                execution_options={"populate_existing": populate},
            ).one_or_none()
    return found.get("email"), found.get("phone")


def claim_identity(lead: Lead, name: str, value: str, *, verified: bool) -> bool:
    """Give a lead an address or number it did not have (or, verified, another one),
    unless another lead is known by it: that is another person, or the same person
    twice, which staff decide by merging (gated.merging), never a form. Returns whether
    the value was taken; a value not taken is a proposal."""
    stored = getattr(lead, name)
    if not value or stored == value:
        return True
    if stored and not verified:
        return False
    column = getattr(Lead, name)
    holder = db.session.scalar(select(Lead.id).where(column == value, column != "", Lead.id != lead.id))
    if holder is not None:
        return False
    setattr(lead, name, value)
    return True


def _touch_columns(touch: dict, now: datetime) -> dict:
    """The lead's last-touch columns for a submission's attribution."""
    return {
        "last_landing_page": touch["landing_page"],
        "last_referrer": touch["referrer"],
        "last_channel": touch["channel"],
        **{f"last_{name}": value for name, value in touch["utm"].items()},
        "last_touch_at": now,
    }


def check_submission(form_kind: str, data, *, known_lead_id: int | None = None) -> str:
    """The normalised email (or, without one, the mobile number) of a submission
    capture_lead would take, or InvalidSubmission with per-field messages as it would
    raise; stores nothing (for a submission that is held rather than captured at once)."""
    clean = _validated(form_kind, data, known_lead_id=known_lead_id)[1]
    return clean["email"] or clean.get("phone", "")


def _validated(form_kind: str, data, *, known_lead_id: int | None) -> tuple[dict, dict, bool, str]:
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


def capture_lead(
    form_kind: str,
    data,
    *,
    asset: Asset | AssetRef | None = None,
    request_meta: RequestMeta,
    now: datetime,
    known_lead_id: int | None = None,
    phone_code_id: int | None = None,
    sequence: str | None = None,
    consent_shown: bool = True,
    before_commit: Callable[[Capture], None] | None = None,
) -> Capture:
    """Upsert the lead behind a form submission and record the submission, its consent
    and the mails it asks for.

    `data` holds the form fields (email, name, company, job_title, phone, role, consent,
    message, utm_*, referrer, landing_page). `known_lead_id` is the lead of the visitor's
    signed cookie (given only once the address was proven): when the form did not ask for
    the email again, it is theirs, and a submission for that lead may change what it
    stored; any other may only add what is missing (merge_profile).
    `phone_code_id`: the SMS code that proved the submission's mobile number
    (gated.phonecodes.proof_for); it is spent in this transaction, and proves the lead
    known by that number as the lead's cookie does.
    `consent_shown`: the consent box was on the form, so an unticked box is a decision
    worth recording too (browsers send nothing for it). `before_commit(capture)` runs
    inside the transaction, so what it writes is stored with the lead or not at all.
    Raises InvalidSubmission with per-field messages; stores nothing in that case (what
    the caller added to the session, e.g. a spent proof-of-work, is rolled back too).
    """
    config = current_app.config
    extras = extra_values(data)
    try:
        data, clean, consent, message = _validated(form_kind, data, known_lead_id=known_lead_id)
    except InvalidSubmission:
        db.session.rollback()
        raise

    touch = attribution(data, request_meta)
    version, text = consent_text()
    profile = {name: value for name, value in clean.items() if name not in IDENTITY_FIELDS and value}
    changes = {**_touch_columns(touch, now), "updated_at": now}
    granted = {"marketing_consent": True, "consent_version": version, "consent_at": now} if consent else {}
    # The language of the page the form was on: the language to write to the person in.
    language = {"locale": visitor_language()} if has_request_context() else {}
    try:
        # A new lead is written whole by the upsert's INSERT; a known one is updated.
        lead, created = upsert_lead(
            clean["email"],
            phone=clean.get("phone", ""),
            now=now,
            touch=touch,
            fields={**profile, **changes, **granted, **language},
        )
        proposed = [
            name for name in IDENTITY_FIELDS if created and clean.get(name, "") != getattr(lead, name)
        ]
        if phone_code_id is not None:
            phonecodes.spend(phone_code_id, now=now)
        if not created:
            proven = phone_code_id is not None and lead.phone == clean.get("phone")
            verified = known_lead_id == lead.id or proven
            proposed = merge_profile(lead, profile, verified=verified)
            proposed += [
                name
                for name in IDENTITY_FIELDS
                if not claim_identity(lead, name, clean.get(name, ""), verified=verified)
            ]
            for name, value in changes.items():
                setattr(lead, name, value)
            if lead.stage == "new":
                lead.stage = "engaged"
            if language and not lead.locale:
                lead.locale = language["locale"]
            if granted and not lead.marketing_consent:
                for name, value in granted.items():
                    setattr(lead, name, value)
        submitted = {name: str(data.get(name) or "")[:500] for name in PERSON_FIELDS if name in data}
        if message:
            submitted["message"] = message
        submitted["consent"] = consent
        submitted.update(extras)
        user_agent = (request_meta.user_agent or "")[:500] or None
        # One INSERT … RETURNING each instead of a unit-of-work flush: the submission
        # comes back as an ORM object (receivers get it from the identity map, without a
        # SELECT); nothing reads the consent row back.
        submission = db.session.scalars(
            insert(Submission).returning(Submission),
            [
                {
                    "lead_id": lead.id,
                    "form": form_kind,
                    "asset_id": asset.id if asset else None,
                    "fields": submitted,
                    "proposed_fields": proposed,
                    "utm": {k: v for k, v in touch["utm"].items() if v},
                    "referrer": touch["referrer"],
                    "landing_page": touch["landing_page"],
                    "channel": touch["channel"],
                    "ip": request_meta.ip,
                    "user_agent": user_agent,
                    "created_at": now,
                }
            ],
        ).one()
        if consent_shown or consent:
            db.session.execute(
                insert(Consent).values(
                    lead_id=lead.id,
                    submission_id=submission.id,
                    version=version,
                    text=text,
                    granted=consent,
                    ip=request_meta.ip,
                    user_agent=user_agent,
                    created_at=now,
                )
            )
        capture = Capture(
            lead=lead, submission=submission, created=created, lead_id=lead.id, submission_id=submission.id
        )
        _request_mails(capture, form_kind, asset, consent, now=now)
        may_nurture = lead.marketing_consent and (
            not config["DOUBLE_OPT_IN"] or lead.confirmed_at is not None
        )
        signals.lead_captured.send(
            _app(),
            lead_id=lead.id,
            submission_id=submission.id,
            asset_id=asset.id if asset else None,
            form=form_kind,
            marketing_consent=bool(may_nurture),
            sequence=sequence,
            proven=created or known_lead_id == lead.id,
        )
        if created:
            webhooks.enqueue("lead.created", lead, now=now)
        if before_commit is not None:
            before_commit(capture)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return capture


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


def merge_profile(lead: Lead, values: dict, *, verified: bool) -> list[str]:
    """Write a submission's profile values onto a lead that existed; return the names of
    those only proposed (kept on the submission, not applied).

    Anyone can type anyone's address into a public form, so a submission not proven to
    come from the address's owner may only add what the lead lacks: a stranger posting
    li.lei@example.cn with another name must not rename Li Lei. A verified one, sent from
    a browser holding the lead's cookie (which only a mailed link or the double opt-in
    gives: gated.visitor), may change what is stored. Staff import overwrites on its own.
    """
    proposed = []
    for name, value in values.items():
        stored = getattr(lead, name)
        if stored == value:
            continue
        if stored and not verified:
            proposed.append(name)
            continue
        setattr(lead, name, value)
    return proposed


def _request_mails(
    capture: Capture, form_kind: str, asset: Asset | AssetRef | None, consent: bool, *, now: datetime
) -> None:
    """Queue the transactional mails of a submission through mail_requested."""
    lead = capture.lead
    queued = []
    if asset is not None:
        capture.download_url = make_download_url(lead.id, asset.id, mailed=True)
        queued.append(
            request_mail(
                lead,
                "gated/email/download_link",
                {"download_url": capture.download_url, "asset_title": asset.title, "valid_days": link_days()},
            )
        )
    if form_kind == "demo":
        request_mail(lead, "gated/email/demo_received", {})
    if consent and current_app.config["DOUBLE_OPT_IN"] and lead.confirmed_at is None:
        token = sign(CONFIRM_PURPOSE, {"l": lead.id, "s": capture.submission.id})
        confirm_url = absolute_url_for("gated.confirm", token=token)
        queued.append(request_mail(lead, "gated/email/confirm", {"confirm_url": confirm_url}))
    capture.mailed = all(queued)


def request_mail(lead: Lead, template: str, context: dict) -> bool:
    """Ask for a transactional mail, inside the caller's transaction. Whether it was
    queued (see signals.mail_requested): a page says "we have emailed you" only then.
    A lead known only by a mobile number has no mailbox: nothing is asked."""
    if not lead.email:
        return False
    answers = signals.mail_requested.send(_app(), lead_id=lead.id, template=template, context=context)
    return any(queued for _receiver, queued in answers)


def link_days() -> int:
    """How long download links work, in whole days (for the pages and mails that say so)."""
    return max(1, current_app.config["DOWNLOAD_LINK_MAX_AGE"] // 86400)


def make_download_url(lead_id: int, asset_id: int, *, external: bool = True, mailed: bool = False) -> str:
    """A signed link to the asset for this lead, valid DOWNLOAD_LINK_MAX_AGE seconds.
    `mailed`: the link goes only to the lead's mailbox, so opening it proves the address
    (the thank-you page's link, shown to whoever typed the address, does not)."""
    return absolute_url_for(
        "gated.download", token=download_token(lead_id, asset_id, mailed=mailed), external=external
    )


def download_token(lead_id: int, asset_id: int, *, mailed: bool = False) -> str:
    """The signed token of a download link (send_fresh_link takes it back)."""
    return sign(DOWNLOAD_PURPOSE, {"l": lead_id, "a": asset_id, **({"m": 1} if mailed else {})})


class Grant(NamedTuple):
    """What a download token gives: the lead, the asset, and whether the link came by
    mail (its opener holds the lead's mailbox)."""

    lead: Lead
    asset: Asset
    mailed: bool


def resolve_download(token: str) -> Grant:
    """The lead and asset of a download token. Raises InvalidToken (tampered or expired:
    `expired` is set on the exception) or NotFound."""
    payload = unsign(DOWNLOAD_PURPOSE, token, max_age=current_app.config["DOWNLOAD_LINK_MAX_AGE"])
    return Grant(*_lead_and_asset(payload), mailed=payload.get("m") == 1)


def _lead_and_asset(payload) -> tuple[Lead, Asset]:
    if not isinstance(payload, dict):
        raise NotFound("bad payload")
    lead_id, asset_id = token_id(payload.get("l")), token_id(payload.get("a"))
    lead = db.session.get(Lead, lead_id) if lead_id else None
    asset = db.session.get(Asset, asset_id) if asset_id else None
    if lead is None or asset is None:
        raise NotFound("lead or asset gone")
    return lead, asset


def record_download(
    lead: Lead, asset: Asset, *, ip: str | None, now: datetime, proven: bool = False
) -> Download:
    """Record that the file went to the lead; sends download_recorded after commit.
    `proven`: the link came by mail, so this browser is the lead's person's."""
    latest = db.session.scalar(
        select(Submission.id)
        .where(Submission.lead_id == lead.id, Submission.asset_id == asset.id)
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(1)
    )
    download = Download(lead_id=lead.id, asset_id=asset.id, submission_id=latest, ip=ip, created_at=now)
    db.session.add(download)
    db.session.commit()
    signals.download_recorded.send(
        _app(), lead_id=lead.id, asset_id=asset.id, download_id=download.id, proven=proven
    )
    return download


def send_fresh_link(token: str, *, now: datetime) -> bool:
    """Mail a new download link for an expired one; whether it was queued (the address
    may have had its share of mail lately). Refuses tampered tokens (InvalidToken) and
    links whose lead or asset is gone (NotFound)."""
    lead, asset = _lead_and_asset(unsign(DOWNLOAD_PURPOSE, token))
    queued = request_mail(
        lead,
        "gated/email/download_link",
        {
            "download_url": make_download_url(lead.id, asset.id, mailed=True),
            "asset_title": asset.title,
            "valid_days": link_days(),
            "fresh": True,
        },
    )
    lead.updated_at = now
    db.session.commit()
    return queued


def send_link_by_sms(token: str, *, now: datetime) -> bool:
    """Text the download link to the lead's mobile number (where a browser cannot keep the
    file, as in WeChat); whether it was queued (no number, or the number has had its
    share of texts lately). Refuses tampered tokens (InvalidToken) and links whose lead
    or asset is gone (NotFound)."""
    lead, asset = _lead_and_asset(unsign(DOWNLOAD_PURPOSE, token))
    if not lead.phone:
        return False
    answers = signals.sms_requested.send(
        _app(),
        to_number=lead.phone,
        lead_id=lead.id,
        template="download_link",
        # Sent to the person's own phone: opening it proves the browser, as a mailed link does.
        params={"title": asset.title, "url": make_download_url(lead.id, asset.id, mailed=True)},
        secret=[],
        expires_at=None,
    )
    queued = any(result for _receiver, result in answers)
    lead.updated_at = now
    db.session.commit()
    return queued


def confirm_lead(token: str, *, now: datetime) -> Lead:
    """Double opt-in: mark the lead confirmed (once) and let nurture enrol it now, by
    sending lead_captured again for the submission that asked, with consent."""
    payload = unsign(CONFIRM_PURPOSE, token, max_age=current_app.config["CONFIRM_LINK_MAX_AGE"])
    lead_id = token_id(payload.get("l")) if isinstance(payload, dict) else None
    lead = db.session.get(Lead, lead_id) if lead_id else None
    if lead is None:
        raise NotFound("lead gone")
    if lead.confirmed_at is None:
        lead.confirmed_at = now
        submission_id = token_id(payload.get("s"))
        submission = db.session.get(Submission, submission_id) if submission_id else None
        signals.lead_captured.send(
            _app(),
            lead_id=lead.id,
            submission_id=submission.id if submission else None,
            asset_id=submission.asset_id if submission else None,
            form=submission.form if submission else "confirm",
            marketing_consent=lead.marketing_consent,
            sequence=None,
            proven=True,
        )
        db.session.commit()
    return lead


def change_stage(lead_id: int, new: str, *, now: datetime) -> Lead:
    """Move a lead to another stage; sends lead_stage_changed and queues the webhook."""
    if new not in STAGES:
        raise ValueError(new)
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        raise NotFound("lead")
    if set_stage(lead, new, now=now):
        db.session.commit()
    return lead


def change_stages(lead_ids: list[int], new: str, *, now: datetime) -> int:
    """Move many leads (the list's bulk action) to `new` in one transaction, each with its
    signal and webhook as one move would; the number that moved."""
    if new not in STAGES:
        raise ValueError(new)
    moved = 0
    for lead in db.session.scalars(select(Lead).where(Lead.id.in_(lead_ids)).order_by(Lead.id)):
        moved += set_stage(lead, new, now=now)
    db.session.commit()
    return moved


def set_stage(lead: Lead, new: str, *, now: datetime) -> bool:
    """Inside the caller's transaction: the stage, its signal and webhook. False if the
    lead was in that stage already."""
    old = lead.stage
    if old == new:
        return False
    lead.stage = new
    lead.updated_at = now
    signals.lead_stage_changed.send(_app(), lead_id=lead.id, old=old, new=new)
    webhooks.enqueue("lead.stage_changed", lead, now=now, extra={"old_stage": old, "new_stage": new})
    return True
