"""A person to talk to: the 企业微信 contact QR image of an adviser (a staff user, an
account owner) or of a campaign, shown on the thank-you page and at the assistant's
hand-over ("扫码添加您的专属顾问").

An upload is checked by what its bytes are, never by its name or the browser's word:
PNG or JPEG signatures, a size cap (ADVISOR_QR_MAX_BYTES) and a sensible pixel size read
from the image's own header. Which card a lead sees: the campaign card of the link that
brought the lead, else that link's owner's (the sharer for a personal link), else the card
of the lead's last utm_campaign; the hand-over shows the account owner's.
"""

import struct
from datetime import datetime

from flask import current_app, render_template
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select, update

from channels.models import AdvisorCard, LinkLead, ShortLink
from core.extensions import db
from gated.models import Lead

MIN_SIDE, MAX_SIDE = 120, 4000


class CardError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def image_facts(data: bytes) -> tuple[str, int, int] | None:
    """(content type, width, height) of a PNG or JPEG, read from its header, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                return None
            marker = data[index + 1]
            length = struct.unpack(">H", data[index + 2 : index + 4])[0]
            # SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return "image/jpeg", width, height
            index += 2 + length
    return None


def validated_image(data: bytes) -> tuple[str, int, int]:
    """The facts of an acceptable contact QR image; CardError with the reason otherwise."""
    limit = current_app.config["ADVISOR_QR_MAX_BYTES"]
    if not data:
        raise CardError(_("Choose an image file."))
    if len(data) > limit:
        raise CardError(_("The image is larger than %(size)d KB.", size=limit // 1024))
    facts = image_facts(data)
    if facts is None:
        raise CardError(_("The file is not a PNG or JPEG image."))
    _type, width, height = facts
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise CardError(
            _(
                "The image is %(width)d×%(height)d pixels; a QR code needs %(min)d to %(max)d on each side.",
                width=width,
                height=height,
                min=MIN_SIDE,
                max=MAX_SIDE,
            )
        )
    return facts


def save_card(data: bytes, *, now: datetime, user_id: int | None = None, campaign: str = "") -> AdvisorCard:
    """Set (or replace) the card of a user or a campaign. Raises CardError; stores nothing then."""
    content_type, width, height = validated_image(data)
    campaign = (campaign or "").strip()[:120]
    if user_id is None and not campaign:
        raise CardError(_("Name the campaign this card belongs to."))
    where = AdvisorCard.user_id == user_id if user_id is not None else AdvisorCard.campaign == campaign
    card = db.session.scalar(select(AdvisorCard).where(where))
    if card is None:
        card = AdvisorCard(user_id=user_id, campaign=campaign or None)
        db.session.add(card)
    card.content_type, card.image, card.width, card.height, card.updated_at = (
        content_type,
        data,
        width,
        height,
        now,
    )
    db.session.commit()
    return card


def delete_card(card: AdvisorCard) -> None:
    db.session.delete(card)
    db.session.commit()


def _card_where(*clauses) -> AdvisorCard | None:
    for clause in clauses:
        if clause is None:
            continue
        card = db.session.scalar(select(AdvisorCard).where(clause))
        if card is not None:
            return card
    return None


def card_for(*, lead_id: int | None = None, owner_id: int | None = None) -> AdvisorCard | None:
    """The card a lead (or a hand-over to `owner_id`) should see, or None."""
    if owner_id is not None:
        return _card_where(AdvisorCard.user_id == owner_id)
    if lead_id is None:
        return None
    link = db.session.scalar(
        select(ShortLink)
        .join(LinkLead, LinkLead.link_id == ShortLink.id)
        .where(LinkLead.lead_id == lead_id)
        .order_by(LinkLead.created_at.desc(), LinkLead.id.desc())
        .limit(1)
    )
    campaign = db.session.scalar(select(Lead.last_utm_campaign).where(Lead.id == lead_id))
    return _card_where(
        AdvisorCard.campaign == link.campaign if link is not None and link.campaign else None,
        AdvisorCard.user_id == (link.sharer_user_id or link.owner_id)
        if link is not None and (link.sharer_user_id or link.owner_id)
        else None,
        AdvisorCard.campaign == campaign if campaign else None,
    )


def render_card(*, lead_id=None, owner_id=None, placement="") -> str:
    """The advisor_card hook: the card's HTML, counted as shown once per rendering."""
    card = card_for(lead_id=lead_id, owner_id=owner_id)
    if card is None:
        return ""
    db.session.execute(
        update(AdvisorCard).where(AdvisorCard.id == card.id).values(shown=AdvisorCard.shown + 1)
    )
    db.session.commit()
    return Markup(render_template("channels/advisor_card.html", card=card, placement=placement))
