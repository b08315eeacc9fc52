"""Capturing a lead from a form: the lead upserted, the submission and its consent
recorded, its attribution (utm_*, referrer, landing page, channel) kept, and the mails it
asks for queued, in one transaction.

Signals documented as "inside the transaction" are sent before the commit, so the lead,
its submission and what other packages add (queued mail, enrollments, webhook rows) are
stored together or not at all; SMTP is never touched here. The links the mails carry come
from gated.downloads and gated.consent; the lead's record from gated.leads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context
from sqlalchemy import insert

from content.public import get_public_article
from core.extensions import db
from core.i18n import visitor_language
from gated import phonecodes, signals, webhooks
from gated.assets import asset_for_article
from gated.attribution import classify_channel, host_of, source_label
from gated.consent import confirm_url, consent_text
from gated.downloads import link_days, make_download_url
from gated.form_input import extra_values, validated
from gated.leads import claim_identity, merge_profile, upsert_lead
from gated.mail import request_mail
from gated.models import IDENTITY_FIELDS, PERSON_FIELDS, UTM_FIELDS, Asset, Consent, Lead, Submission
from gated.validation import InvalidSubmission


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
    """What capture_lead stored: the lead (new or known), its submission, the mailed link."""

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


def site_hosts() -> list[str]:
    """Our own hosts: a referrer from one of them is internal navigation, not a source."""
    hosts = [host_of(current_app.config["SITE_URL"])]
    hosts += list(current_app.config.get("SITE_HOSTS") or [])
    return [host for host in hosts if host]


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
        # The page's language: the consent it showed, and the one to write to the lead in.
        "locale": article.locale,
    }


def _touch_columns(touch: dict, now: datetime) -> dict:
    """The lead's last-touch columns for a submission's attribution."""
    return {
        "last_landing_page": touch["landing_page"],
        "last_referrer": touch["referrer"],
        "last_channel": touch["channel"],
        **{f"last_{name}": value for name, value in touch["utm"].items()},
        "last_touch_at": now,
    }


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
    article_id: int | None = None,
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
    `article_id`: the article the form was on, when no asset says it (a gated video).
    `consent_shown`: the consent box was on the form, so an unticked box is a decision
    worth recording too (browsers send nothing for it). `before_commit(capture)` runs
    inside the transaction, so what it writes is stored with the lead or not at all.
    Raises InvalidSubmission with per-field messages; stores nothing in that case (what
    the caller added to the session, e.g. a spent proof-of-work, is rolled back too).
    """
    config = current_app.config
    extras = extra_values(data)
    try:
        data, clean, consent, message = validated(form_kind, data, known_lead_id=known_lead_id)
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
                    "article_id": article_id,
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
            current_app._get_current_object(),
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


def _request_mails(
    capture: Capture, form_kind: str, asset: Asset | AssetRef | None, consent: bool, *, now: datetime
) -> None:
    """Queue the transactional mails of a submission through mail_requested."""
    lead = capture.lead
    queued = []
    if asset is not None:
        capture.download_url = make_download_url(lead.id, asset.id, mailed=True)
        # Mailed where this visitor asked for it: a form sent with a mobile number alone,
        # though the number belongs to a lead with an address, mails nobody (whoever typed
        # the number sees the download on the page and learns nothing of the address).
        if capture.submission.gave_email:
            queued.append(
                request_mail(
                    lead,
                    "gated/email/download_link",
                    {
                        "download_url": capture.download_url,
                        "asset_title": asset.title,
                        "valid_days": link_days(),
                    },
                )
            )
    if form_kind == "demo":
        request_mail(lead, "gated/email/demo_received", {})
    if consent and current_app.config["DOUBLE_OPT_IN"] and lead.confirmed_at is None:
        link = confirm_url(lead.id, capture.submission.id)
        queued.append(request_mail(lead, "gated/email/confirm", {"confirm_url": link}))
    capture.mailed = all(queued)
