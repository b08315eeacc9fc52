"""Campaign files: import (upsert by slug, after every check in campaigns.validation) and
export, and cancelling a send."""

from datetime import datetime

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from campaigns.models import Campaign, Topic
from campaigns.segments import SegmentError, parse_yaml
from campaigns.validation import CampaignError, clean_campaign
from core.extensions import db
from nurture.models import Message
from nurture.scheduling import format_delay

# A campaign in these states has recipients: editing it would change what some of them got.
STARTED = ("sending", "sent", "cancelled")


def campaign_template(campaign_id: int) -> str:
    """The prefix of its messages' `template` ("campaign:<id>:<variant>")."""
    return f"campaign:{campaign_id}:"


def save_campaign(data: dict, *, now: datetime, campaign_id: int | None = None) -> tuple[Campaign, str]:
    """Create or update the campaign `campaign_id` (the editor) or of `data["slug"]` (a
    file); "created", "updated" or "unchanged". A campaign with a send time is
    scheduled; one without is a draft, sent by `flask campaigns send` or the editor's
    Send now. The file and the editor share this one check: nothing is stored when it
    raises CampaignError."""
    clean = clean_campaign(data, now=now)
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == clean["slug"]))
    if campaign_id is not None:
        if campaign is not None and campaign.id != campaign_id:
            raise CampaignError(["slug: " + str(_l("another campaign has this slug"))])
        campaign = db.get_or_404(Campaign, campaign_id)
    if campaign is not None and campaign.status in STARTED:
        raise CampaignError(["status: " + _started(campaign)])
    status = "scheduled" if clean["send_at"] else "draft"
    if campaign is None:
        campaign = Campaign(**clean, status=status, created_at=now, updated_at=now)
        db.session.add(campaign)
        outcome = "created"
    elif all(getattr(campaign, key) == value for key, value in clean.items()) and campaign.status == status:
        outcome = "unchanged"
    else:
        for key, value in clean.items():
            setattr(campaign, key, value)
        campaign.status, campaign.updated_at = status, now
        outcome = "updated"
    db.session.commit()
    return campaign, outcome


def _started(campaign: Campaign) -> str:
    from flask_babel import gettext as _

    return _(
        "the send started (%(status)s): its recipients are fixed; cancel it instead", status=campaign.status
    )


def import_campaign(text: str, *, now: datetime) -> tuple[Campaign, str]:
    try:
        data = parse_yaml(text)
    except SegmentError as exc:
        raise CampaignError(exc.lines()) from exc
    return save_campaign(data, now=now)


def _audience_out(items: list[dict]):
    out = [item.get("segment") or item["rules"] for item in items]
    return out[0] if len(out) == 1 else out


def export_dict(campaign: Campaign) -> dict:
    data = {
        "slug": campaign.slug,
        "name": campaign.name,
        "topic": db.session.get(Topic, campaign.topic_id).slug,
        "segment": _audience_out(campaign.audience),
    }
    if campaign.exclude:
        data["exclude"] = _audience_out(campaign.exclude)
    if len(campaign.variants) == 1:
        data["subject"] = campaign.variants[0]["subject"]
    else:
        data["variants"] = campaign.variants
        data["sample_percent"] = campaign.sample_percent
        if campaign.sample_percent < 100:
            data["wait"] = format_delay(campaign.wait_minutes)
        data["metric"] = campaign.metric
    if campaign.local_time:
        data["local_time"] = campaign.local_time
    elif campaign.send_at and campaign.status == "scheduled":
        data["send_at"] = campaign.send_at.isoformat() + "+00:00"
    if campaign.resend_after_minutes:
        data["resend"] = {
            "after": format_delay(campaign.resend_after_minutes),
            "subject": campaign.resend_subject,
        }
    data["locale"] = campaign.locale
    data["body"] = campaign.body
    return data


def export_campaign(slug: str) -> str:
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise LookupError(slug)
    return yaml.safe_dump(export_dict(campaign), allow_unicode=True, sort_keys=False, width=100)


def cancel(campaign_id: int, *, now: datetime) -> int:
    """Stop a campaign: nothing more is queued, and its mail not yet sent is skipped (a
    mail being handed to the server at this moment still goes). How many went out."""
    campaign = db.get_or_404(Campaign, campaign_id)
    campaign.status, campaign.updated_at = "cancelled", now
    prefix = campaign_template(campaign.id)
    db.session.execute(
        update(Message)
        .where(Message.template.startswith(prefix), Message.status == "queued")
        .values(status="skipped", error="the campaign was cancelled")
    )
    db.session.commit()
    return db.session.scalar(
        select(func.count()).where(Message.template.startswith(prefix), Message.status == "sent")
    )
