"""Saving, importing and exporting segments, and what the builder shows of one (its count
and a sample of its members). The rules are checked by campaigns.rules and counted by
campaigns.audience; this module owns the transaction."""

from dataclasses import dataclass
from datetime import datetime

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from campaigns import audience
from campaigns.models import Segment
from campaigns.rules import RuleError, clean_rules
from content.documents import slugify
from core import yamltext
from core.extensions import db
from gated.models import Lead

SLUG_LIMIT = 120
NAME_LIMIT = 200


class SegmentError(ValueError):
    """A segment that cannot be saved: `errors` maps a field (slug, name, rules) to its
    messages, each worded for a marketer."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {m}" for field, ms in errors.items() for m in ms))
        self.errors = errors

    def lines(self) -> list[str]:
        """Every problem as "field: message" (rule messages name their place already)."""
        return [m if field == "rules" else f"{field}: {m}" for field, ms in self.errors.items() for m in ms]


@dataclass
class Preview:
    """What the builder shows while the rules are edited."""

    count: int
    sample: list[Lead]


def clean_slug(value, errors: list[str], *, made_from="") -> str:
    """The slug as typed; when none was typed, one made from `made_from` (the name:
    Chinese as pinyin words, as an article's slug is made from its title)."""
    slug = value.strip() if isinstance(value, str) else ""
    if not slug and isinstance(made_from, str):
        slug = slugify(made_from)[:SLUG_LIMIT].rstrip("-")
    if not slug:
        errors.append(str(_l("Type a name or a slug.")))
    elif len(slug) > SLUG_LIMIT or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in slug):
        errors.append(str(_l("letters, digits, - and _ (at most %(n)d)", n=SLUG_LIMIT)))
    return slug


def clean_segment(data: dict) -> dict:
    """Check a segment as YAML or the builder gives it: {slug, name, rules}."""
    errors: dict[str, list[str]] = {}
    slug_errors: list[str] = []
    slug = clean_slug(data.get("slug"), slug_errors, made_from=data.get("name"))
    name = data.get("name")
    name = name.strip() if isinstance(name, str) else ""
    if len(name) > NAME_LIMIT:
        errors["name"] = [str(_l("at most %(n)d characters", n=NAME_LIMIT))]
    try:
        rules = clean_rules(data.get("rules"), where="rules")
    except RuleError as exc:
        errors["rules"] = exc.errors
        rules = {}
    if slug_errors:
        errors["slug"] = slug_errors
    if errors:
        raise SegmentError(errors)
    return {"slug": slug, "name": name or slug, "rules": rules}


def parse_yaml(text: str) -> dict:
    """A YAML file as a mapping, or SegmentError saying where it is broken."""
    try:
        data = yamltext.load(text)
    except yamltext.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" ({mark.line + 1})" if mark else ""
        raise SegmentError({"file": [str(_l("not valid YAML")) + where]}) from exc
    if not isinstance(data, dict):
        raise SegmentError({"file": [str(_l("a mapping with slug, name and rules"))]})
    return data


def save_segment(data: dict, *, now: datetime, segment_id: int | None = None) -> tuple[Segment, str]:
    """Create or update a segment (by id when given, else by slug); returns it and
    "created", "updated" or "unchanged". Nothing is stored when it raises SegmentError."""
    clean = clean_segment(data)
    same_slug = db.session.scalar(select(Segment).where(Segment.slug == clean["slug"]))
    if segment_id is not None:
        segment = db.get_or_404(Segment, segment_id)
        if same_slug is not None and same_slug.id != segment_id:
            raise SegmentError({"slug": [str(_l("another segment has this slug"))]})
    else:
        segment = same_slug
    if segment is None:
        segment = Segment(**clean, created_at=now, updated_at=now)
        db.session.add(segment)
        outcome = "created"
    elif all(getattr(segment, key) == value for key, value in clean.items()):
        outcome = "unchanged"
    else:
        for key, value in clean.items():
            setattr(segment, key, value)
        segment.updated_at = now
        outcome = "updated"
    db.session.commit()
    return segment, outcome


def import_segment(text: str, *, now: datetime) -> tuple[Segment, str]:
    """Upsert the segment of a YAML file by its slug."""
    return save_segment(parse_yaml(text), now=now)


def export_dict(segment: Segment) -> dict:
    return {"slug": segment.slug, "name": segment.name, "rules": segment.rules}


def export_segment(slug: str) -> str:
    """The segment as YAML; import takes it back unchanged."""
    segment = db.session.scalar(select(Segment).where(Segment.slug == slug))
    if segment is None:
        raise LookupError(slug)
    return yaml.safe_dump(export_dict(segment), allow_unicode=True, sort_keys=False, width=100)


def preview(rules, *, now: datetime, limit: int = 10) -> Preview:
    """The count and the first `limit` members of rules as typed; RuleError if they
    cannot be used."""
    clean = clean_rules(rules, where="rules")
    return Preview(audience.count(clean, now=now), audience.sample(clean, now=now, limit=limit))


def view_choices() -> list[tuple[int, str]]:
    """The segments as the lead list's saved views (core.hooks.set_lead_views)."""
    return [tuple(row) for row in db.session.execute(select(Segment.id, Segment.name).order_by(Segment.name))]


def view_id(slug: str) -> int | None:
    """The id of the segment with this slug (`flask leads export --segment SLUG`)."""
    return db.session.scalar(select(Segment.id).where(Segment.slug == slug))


def view_condition(segment_id: int, now: datetime):
    """A segment's condition on Lead now, or None when there is no such segment."""
    rules = db.session.scalar(select(Segment.rules).where(Segment.id == segment_id))
    return None if rules is None else audience.condition(rules, now=now)
