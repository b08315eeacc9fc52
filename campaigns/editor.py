"""The campaign editor's form as a campaign file's mapping, and the file's errors put
back beside the fields they name, so the browser and `flask campaigns import` go through
the one check in campaigns.validation.

The editor chooses segments by name; inline rules and per-variant bodies that a file
gave the campaign are kept as they are when it is edited in the browser."""

import re

from flask import current_app
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from campaigns.forms import VARIANT_ROWS, CampaignForm
from campaigns.models import Campaign, Segment, Topic
from core.extensions import db
from core.localtime import zone
from nurture.scheduling import format_delay

# "variants[1].subject: …" → ("variants", 1, "subject"); "segment.all[0].field" → ("segment", …)
FIELD = re.compile(r"^(?P<name>[a-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<rest>[\w.\[\]]+))?$")
SAME_NAME = {
    "name",
    "slug",
    "topic",
    "subject",
    "sample_percent",
    "wait",
    "metric",
    "body",
    "local_time",
    "send_at",
}


def offer_choices(form: CampaignForm) -> None:
    topics = db.session.scalars(select(Topic).order_by(Topic.id)).all()
    form.topic.choices = [SelectChoice("", "—")] + [SelectChoice(topic.slug, topic.name) for topic in topics]
    rows = db.session.scalars(select(Segment).order_by(Segment.name))
    form.segments.choices = form.exclude.choices = [SelectChoice(row.slug, row.name) for row in rows]


def fill(form: CampaignForm, campaign: Campaign) -> None:
    """The form as the campaign is now (for GET)."""
    form.name.data, form.slug.data, form.body.data = campaign.name, campaign.slug, campaign.body
    form.topic.data = campaign.topic.slug
    form.segments.data = [item["segment"] for item in campaign.audience if "segment" in item]
    form.exclude.data = [item["segment"] for item in campaign.exclude if "segment" in item]
    form.test.data = len(campaign.variants) > 1
    if form.test.data:
        for entry, variant in zip(form.variants.entries, campaign.variants, strict=False):
            entry.data = variant["subject"]
        form.sample_percent.data = campaign.sample_percent
        form.wait.data = format_delay(campaign.wait_minutes) if campaign.wait_minutes else "4h"
        form.metric.data = campaign.metric
    else:
        form.subject.data = campaign.variants[0]["subject"]
    if campaign.local_time:
        form.when.data, form.local_time.data = "local", campaign.local_time
    elif campaign.send_at and campaign.status == "scheduled":
        form.when.data = "at"
        form.send_at.data = (
            campaign.send_at.replace(tzinfo=zone("UTC")).astimezone(zone()).replace(tzinfo=None)
        )
    if campaign.resend_after_minutes:
        form.resend_after.data = format_delay(campaign.resend_after_minutes)
        form.resend_subject.data = campaign.resend_subject


def as_data(form: CampaignForm, campaign: Campaign | None) -> dict:
    """The campaign file the form stands for."""
    kept_in = [item for item in (campaign.audience if campaign else []) if "rules" in item]
    kept_out = [item for item in (campaign.exclude if campaign else []) if "rules" in item]
    data = {
        "slug": (form.slug.data or "").strip(),
        "name": form.name.data or "",
        "topic": form.topic.data or None,
        "segment": list(form.segments.data or []) + [item["rules"] for item in kept_in],
        "exclude": list(form.exclude.data or []) + [item["rules"] for item in kept_out],
        "body": form.body.data or "",
        "locale": campaign.locale if campaign else current_app.config["DEFAULT_LOCALE"],
    }
    if form.test.data:
        subjects = [(entry.data or "").strip() for entry in form.variants.entries]
        while subjects and not subjects[-1]:
            subjects.pop()  # rows left empty at the end are not variants
        bodies = [variant.get("body") for variant in campaign.variants] if campaign else []
        data["variants"] = [
            {"subject": subject, **({"body": bodies[i]} if i < len(bodies) and bodies[i] else {})}
            for i, subject in enumerate(subjects)
        ]
        data["sample_percent"] = form.sample_percent.data if form.sample_percent.data is not None else 100
        data["wait"] = form.wait.data or ""
        data["metric"] = form.metric.data
    else:
        data["subject"] = form.subject.data or ""
    if form.when.data == "at":
        moment = form.send_at.data
        data["send_at"] = moment.replace(tzinfo=zone()).isoformat() if moment else ""
    elif form.when.data == "local":
        data["local_time"] = form.local_time.data or ""
    if (form.resend_after.data or "").strip() or (form.resend_subject.data or "").strip():
        data["resend"] = {"after": form.resend_after.data or "", "subject": form.resend_subject.data or ""}
    return data


def place_errors(form: CampaignForm, errors: list[str]) -> list[str]:
    """Each "field: message" beside its field in the form; what names no field."""
    elsewhere = []
    for error in errors:
        field, _sep, message = error.partition(": ")
        target = _field_for(form, field)
        if target is None:
            elsewhere.append(error)
        else:
            target.errors = [*target.errors, message] if isinstance(target.errors, list) else [message]
    return elsewhere


def _field_for(form: CampaignForm, field: str):
    match = FIELD.match(field)
    if match is None:
        return None
    name, index, rest = match.group("name"), match.group("index"), match.group("rest")
    if name in SAME_NAME:
        return getattr(form, name)
    if name == "segment":
        return form.segments
    if name == "exclude":
        return form.exclude
    if name == "variants":
        if index is not None and int(index) < VARIANT_ROWS and rest == "subject":
            return form.variants.entries[int(index)]
        return form.test
    if name == "resend":
        return form.resend_subject if rest == "subject" else form.resend_after
    return None
