"""Signed download links: made for a lead and an asset, resolved when opened, recorded as
a download, sent again (by mail or text) when one has expired.

A link that came by mail (or text) proves the person: the token says so (`m`), and the
download that opens it sends `proven`.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select

from core.extensions import db
from core.ids import token_id
from core.tokens import sign, unsign
from core.urls import absolute_url_for
from gated import signals
from gated.leads import NotFound
from gated.mail import request_mail
from gated.models import Asset, Download, Lead, Submission

DOWNLOAD_PURPOSE = "download"


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
        current_app._get_current_object(),
        lead_id=lead.id,
        asset_id=asset.id,
        download_id=download.id,
        proven=proven,
    )
    return download


def send_fresh_link(token: str, *, now: datetime) -> bool | None:
    """Mail a new download link for an expired one; whether it was queued (the address
    may have had its share of mail lately), None for a lead who left no address (a
    phone number only). Refuses tampered tokens (InvalidToken) and links whose lead or
    asset is gone (NotFound)."""
    lead, asset = _lead_and_asset(unsign(DOWNLOAD_PURPOSE, token))
    if not lead.email:
        return None
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
        current_app._get_current_object(),
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
