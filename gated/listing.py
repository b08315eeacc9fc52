"""Finding leads (the admin list, exports) and writing them out as CSV or JSON, and
importing them from CSV.

The filters are one dataclass read from a query string or CLI options, so the list a
marketer sees and the CSV they export are the same rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import Select, false, func, or_, select

from core.extensions import db
from core.hooks import lead_views
from core.ids import parse_id
from core.listing import KeysetPage, Sort, chosen_sort, keyset_page
from core.localtime import iso_local
from core.spreadsheet import csv_text
from core.timeutil import parse_date, utcnow
from gated import leadfields, signals, textsearch, webhooks
from gated.models import IDENTITY_FIELDS, PERSON_FIELDS, STAGES, Lead, LeadTag, Submission
from gated.validation import InvalidSubmission, clean_fields

EXPORT_FIELDS = webhooks.LEAD_FIELDS + (
    "consent_version",
    "consent_at",
    "confirmed_at",
    "first_touch_at",
    "last_touch_at",
    "updated_at",
    "locale",
    "timezone",
    "tags",
)
IMPORT_FIELDS = (*PERSON_FIELDS, "stage", "source", "consent", "locale", "timezone", "tags")
# The lead fields an import checks with gated.leadfields, and how.
_EXTRA_FIELDS = {
    "locale": leadfields.clean_locale,
    "timezone": leadfields.clean_timezone,
    "tags": leadfields.clean_tags,
}
# Leads whose tags are read in one query while exporting.
TAG_BATCH = 1000
TRUE = {"1", "y", "yes", "true", "on", "是"}
# The list counts its matches up to this many and then says "10,000+": an exact count
# reads every matching row on every page view.
COUNT_CAP = 10_000
# The source filter offers the most frequent sources of this many latest leads (the
# campaigns running now; any other source still filters by its link).
SOURCES_WINDOW = 5_000


@dataclass
class LeadFilters:
    q: str = ""
    stage: str = ""
    channel: str = ""
    source: str = ""
    asset: int | None = None
    since: date | None = None
    until: date | None = None
    # A saved view (a segment, core.hooks.lead_views): its leads, whoever they are now.
    segment: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LeadFilters:
        return cls(
            q=(args.get("q") or "").strip()[:200],
            stage=args.get("stage", "") if args.get("stage", "") in STAGES else "",
            channel=(args.get("channel") or "").strip()[:20],
            source=(args.get("source") or "").strip()[:120],
            # A number no asset can have (0, or past 32 bits) is no filter at all, never
            # one that is kept but filters nothing: "filter the list first" guards on it.
            asset=parse_id(args.get("asset", "")),
            since=parse_date(args.get("since")),
            until=parse_date(args.get("until")),
            segment=parse_id(args.get("segment", "")),
        )

    def as_args(self) -> dict:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in ("", None)
        }


def lead_query(filters: LeadFilters) -> Select:
    """Leads matching the filters, newest first."""
    query = select(Lead)
    if filters.q:
        query = query.where(textsearch.matches(filters.q))
    if filters.stage:
        query = query.where(Lead.stage == filters.stage)
    if filters.channel:
        query = query.where(or_(Lead.first_channel == filters.channel, Lead.last_channel == filters.channel))
    if filters.source:
        query = query.where(Lead.source == filters.source)
    if filters.asset is not None:
        query = query.where(
            Lead.id.in_(select(Submission.lead_id).where(Submission.asset_id == filters.asset))
        )
    if filters.since:
        query = query.where(Lead.created_at >= datetime.combine(filters.since, datetime.min.time()))
    if filters.until:
        query = query.where(
            Lead.created_at < datetime.combine(filters.until + timedelta(days=1), datetime.min.time())
        )
    if filters.segment is not None:
        query = query.where(view_condition(filters.segment))
    return query.order_by(Lead.created_at.desc(), Lead.id.desc())


def view_condition(view_id: int):
    """A saved view's condition; a view that does not exist (deleted, or no package
    offers views) matches nobody, never everybody."""
    provider = lead_views(current_app)
    found = provider[1](view_id, utcnow()) if provider else None
    return false() if found is None else found


def view_by_slug(slug: str) -> int | None:
    """The id of the saved view (segment) with this slug, or None."""
    provider = lead_views(current_app)
    return provider[2](slug) if provider else None


def view_choices() -> list[tuple[int, str]]:
    """The saved views the lead list offers (id, name)."""
    provider = lead_views(current_app)
    return provider[0]() if provider else []


# The lead list's orders (?sort=), the first the default; each is a column no lead lacks,
# so the keyset cursor always has a value to stand on.
LEAD_SORTS = [
    Sort("created", Lead.created_at),
    Sort("created_asc", Lead.created_at, descending=False),
    Sort("score", Lead.score),
    Sort("score_asc", Lead.score, descending=False),
    Sort("email", Lead.email, descending=False),
    Sort("email_desc", Lead.email),
]


def lead_page(
    filters: LeadFilters,
    *,
    per_page: int,
    page: int = 1,
    after: str | None = None,
    before: str | None = None,
    sort: str | None = None,
) -> KeysetPage:
    """One page of the list in the order ?sort= names (newest first by default). The
    Previous/Next links carry a keyset cursor, so a late page costs what the first one
    does; a bare ?page=n (an old link) still works by OFFSET."""
    return keyset_page(
        lead_query(filters),
        sort=chosen_sort(LEAD_SORTS, sort),
        id_column=Lead.id,
        per_page=per_page,
        page=page,
        after=after,
        before=before,
        count_cap=COUNT_CAP,
        session=db.session,
    )


def frequent_sources(limit: int = 30) -> list[str]:
    """The sources of the latest SOURCES_WINDOW leads, most frequent first (bounded work
    on every list view, however many leads there are)."""
    latest = (
        select(Lead.source).order_by(Lead.created_at.desc(), Lead.id.desc()).limit(SOURCES_WINDOW).subquery()
    )
    return list(
        db.session.scalars(
            select(latest.c.source)
            .where(latest.c.source != "")
            .group_by(latest.c.source)
            .order_by(func.count().desc(), latest.c.source)
            .limit(limit)
        )
    )


def export_rows(filters: LeadFilters | None = None) -> list[dict]:
    return lead_rows(db.session.scalars(lead_query(filters or LeadFilters())))


def _tags_of(lead_ids: list[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {}
    query = select(LeadTag.lead_id, LeadTag.tag).where(LeadTag.lead_id.in_(lead_ids)).order_by(LeadTag.tag)
    for lead_id, tag in db.session.execute(query):
        tags.setdefault(lead_id, []).append(tag)
    return tags


def lead_rows(leads: Iterable[Lead]) -> list[dict]:
    """The export's rows of `leads` (any query of them: the list's, a segment's); the
    tags of each batch of leads in one query."""
    rows = []
    leads = list(leads)
    tags: dict[int, list[str]] = {}
    for start in range(0, len(leads), TAG_BATCH):
        tags.update(_tags_of([lead.id for lead in leads[start : start + TAG_BATCH]]))
    for lead in leads:
        row = webhooks.lead_payload(lead)
        for name in EXPORT_FIELDS:
            if name == "tags":
                row[name] = ", ".join(tags.get(lead.id, []))
                continue
            value = getattr(lead, name)
            # In the reader's zone with its offset: a spreadsheet shows local time, a program reads the instant.
            row[name] = iso_local(value) if isinstance(value, datetime) else value
        rows.append(row)
    return rows


def to_csv(rows: list[dict]) -> str:
    return csv_text(EXPORT_FIELDS, ([row.get(name) for name in EXPORT_FIELDS] for row in rows))


def to_json(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] | None = None
    without_consent: int = 0


def import_leads(text: str, *, source: str = "", sequence: str | None = None, now: datetime) -> ImportResult:
    """Upsert leads from CSV text (a header row naming IMPORT_FIELDS; email required).

    Every row is checked first; any error and nothing is written (errors carry the file's
    line numbers). Then all rows go in one transaction. Each row is a submission of form
    "import" and sends lead_captured with `sequence`, so nurture can enrol them.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    if "email" not in header and "phone" not in header:
        return ImportResult(errors=[(1, "the header row must name an email column or a phone column")])
    reader.fieldnames = header
    rows, errors = [], []
    for row in reader:
        line = reader.line_num
        raw = {k: (v or "").strip() for k, v in row.items() if k in IMPORT_FIELDS}
        try:
            clean = clean_fields(
                {k: v for k, v in raw.items() if k in PERSON_FIELDS},
                identity="email_or_phone",
                phone_rules={"region": current_app.config["PHONE_REGION"], "mobile_only": False},
            )
        except InvalidSubmission as exc:
            errors.extend((line, f"{name}: {message}") for name, message in exc.errors.items())
            continue
        stage = raw.get("stage", "").lower()
        if stage and stage not in STAGES:
            errors.append((line, f"stage: must be one of {', '.join(STAGES)}"))
            continue
        extra, problems = {}, []
        for name, check in _EXTRA_FIELDS.items():
            try:
                extra[name] = check(raw.get(name, ""))
            except leadfields.FieldError as exc:
                problems.append((line, f"{name}: {exc}"))
        if problems:
            errors.extend(problems)
            continue
        clean.update(locale=extra["locale"], timezone=extra["timezone"])
        clean["tags"] = extra["tags"]
        rows.append((clean, stage, raw.get("source", ""), raw.get("consent", "").lower() in TRUE, raw))
    if errors:
        return ImportResult(errors=errors)

    result = ImportResult(errors=[])
    try:
        for clean, stage, row_source, consent, raw in rows:
            lead, created = store_person(
                clean,
                stage=stage,
                source=row_source or source or "import",
                consent=consent,
                fields=raw,
                form="import",
                sequence=sequence,
                now=now,
            )
            result.created += created
            result.updated += not created
            result.without_consent += not lead.marketing_consent
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def store_person(
    clean: dict,
    *,
    stage: str = "",
    source: str,
    consent: bool,
    fields: dict,
    form: str,
    sequence: str | None = None,
    now: datetime,
    lead: Lead | None = None,
) -> tuple[Lead, bool]:
    """Inside the caller's transaction: upsert one person from a trusted sender (a staff
    import, an API key), whose values overwrite what is stored, as a submission of `form`
    that sends lead_captured. `clean` is clean_fields' output (email required unless
    `lead` is the person already found, e.g. by phone). Returns (lead, created)."""
    from gated.leads import claim_identity, upsert_lead
    from gated.stages import set_stage

    created = False
    if lead is None:
        lead, created = upsert_lead(clean["email"], phone=clean.get("phone", ""), now=now, source=source)
    for name, value in clean.items():
        if name in IDENTITY_FIELDS:
            # Trusted senders overwrite, but never onto an address or number another lead holds.
            claim_identity(lead, name, value, verified=True)
        elif name != "tags" and value:
            setattr(lead, name, value)
    if clean.get("tags"):
        leadfields.add_tags(lead, clean["tags"])  # added, never removed
    if stage and created:
        lead.stage = stage
    elif stage:
        set_stage(lead, stage, now=now)
    if consent and not lead.marketing_consent:
        lead.marketing_consent, lead.consent_version, lead.consent_at = True, form, now
    lead.updated_at = now
    submission = Submission(
        lead=lead, form=form, fields=fields, channel=lead.last_channel or "direct", created_at=now
    )
    db.session.add(submission)
    db.session.flush()
    signals.lead_captured.send(
        current_app._get_current_object(),
        lead_id=lead.id,
        submission_id=submission.id,
        asset_id=None,
        form=form,
        marketing_consent=lead.marketing_consent,
        sequence=sequence,
    )
    if created:
        webhooks.enqueue("lead.created", lead, now=now)
    return lead, created
