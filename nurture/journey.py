"""The journey view of a sequence: what each card of the editor shows.

Cards are built from the editor's form (the journey as typed, maybe not saved yet) and
the saved steps' figures: trigger → (wait → condition → mail) per step → exit. Each mail
card says when it goes in words, its subject rendered for the preview lead, and what it
did (sent, opened, clicked, unsubscribed, became MQL after it).
"""

from dataclasses import dataclass, field
from types import SimpleNamespace

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.ids import parse_id
from gated.labels import label as lead_label
from gated.models import Asset, Lead
from nurture import delays, personalise, stats
from nurture.labels import nurture_label
from nurture.models import Enrollment, Sequence

# What the variable picker offers: the name to insert, and its words.
VARIABLES = (
    ("lead.name", _l("Full name")),
    ("lead.first_name", _l("First name")),
    ("lead.company", _l("Company")),
    ("lead.job_title", _l("Job title")),
    ("lead.email", _l("Email")),
    ("download_url", _l("Download link")),
    ("site_url", _l("Site address")),
    ("site_name", _l("Site name")),
)
PREVIEW_LEADS = 20


@dataclass
class Card:
    index: int
    entry: object  # the step's subform
    when: str  # the delay in words, or "" when the typed delay does not read
    subject: str  # rendered for the preview lead, or as typed when it does not render
    condition: str
    figures: dict | None = None
    waiting: int = 0
    saved: bool = False
    errors: list = field(default_factory=list)


def preview_context(lead: Lead | None) -> dict:
    """The sample lead's context, or a real lead's fields in it."""
    context = personalise.sample_context(current_app.config)
    if lead is not None:
        context = {**context, "lead": personalise.lead_context(lead)}
    return context


def preview_leads(sequence: Sequence | None) -> list[Lead]:
    """Leads a marketer may preview with: the latest enrolled in this sequence."""
    if sequence is None:
        return []
    return db.session.scalars(
        select(Lead)
        .join(Enrollment, Enrollment.lead_id == Lead.id)
        .where(Enrollment.sequence_id == sequence.id, Lead.email != "")
        .order_by(Enrollment.enrolled_at.desc())
        .limit(PREVIEW_LEADS)
    ).all()


def variables(context: dict) -> list[dict]:
    """The picker's rows: `{{ lead.company }}` with its words and the preview value."""
    rows = []
    for name, words in VARIABLES:
        value = context
        for part in name.split("."):
            value = value.get(part, "") if isinstance(value, dict) else ""
        rows.append({"tag": "{{ " + name + " }}", "words": str(words), "sample": value})
    return rows


def _typed_sequence(form) -> SimpleNamespace:
    """The sequence's settings as typed, as delays.delay_words reads them."""
    return SimpleNamespace(
        trigger_kind=form.trigger_kind.data or "manual",
        window_days=form.days.data or [],
        window_start=(form.window_start.data or "00:00").strip(),
        window_end=(form.window_end.data or "24:00").strip(),
    )


def trigger_target(kind: str, value: str) -> str:
    """The asset or form a trigger listens for, by its name: the white paper's title for
    its slug, the form's name for its code ("" for none); a slug no asset has any more
    as it is."""
    value = (value or "").strip()
    if not value:
        return ""
    if kind == "asset":
        return db.session.scalar(select(Asset.title).where(Asset.slug == value)) or value
    if kind == "form":
        return lead_label("form", value)
    return value


def trigger_words(kind: str, value: str) -> str:
    """What enrolls a lead, in words: "线索下载《SaaS 续费指南》时"."""
    value = trigger_target(kind, value)
    if kind == "asset":
        return (
            _("When a lead downloads %(asset)s", asset=value)
            if value
            else _("When a lead downloads an asset")
        )
    if kind == "form":
        return (
            _("When a lead sends the form %(form)s", form=value) if value else _("When a lead sends a form")
        )
    return _("When a marketer enrolls a lead or an import does")


def cards(form, sequence: Sequence | None, context: dict) -> list[Card]:
    """One card per step row of the form, in its order."""
    figures = {}
    if sequence is not None:
        figures = {row["step"].id: row for row in stats.step_figures(sequence)}
    typed = _typed_sequence(form)
    result = []
    for index, entry in enumerate(form.steps.entries):
        step = entry.form
        try:
            minutes = delays.parse_delay((step.delay.data or "0h").strip())
        except delays.ScheduleError:
            when = ""
        else:
            timing = SimpleNamespace(delay_minutes=minutes, delay_from=step.delay_from.data)
            try:
                when = delays.delay_words(timing, typed, first=index == 0)
            except (ValueError, KeyError):
                when = ""
        subject = personalise.subject_as_read(step.subject.data or "", context)
        condition = ""
        if step.condition.data:
            condition = str(nurture_label("condition", step.condition.data))
            if step.condition.data == "downloaded" and step.condition_asset.data:
                condition = f"{condition}（{step.condition_asset.data}）"
        saved_id = parse_id(step.step_id.data)
        row = figures.get(saved_id)
        result.append(
            Card(
                index=index,
                entry=entry,
                when=when,
                subject=subject,
                condition=condition,
                figures=row,
                waiting=row["waiting"] if row else 0,
                saved=row is not None,
                errors=[error for sub in step for error in sub.errors],
            )
        )
    return result
