"""Checking a campaign as a file gives it (`flask campaigns import`): every field named
in its message, every problem at once, so that nothing saved can fail when it is sent.
The variants are rendered for a sample lead by nurture's own check of a step."""

from contextlib import suppress
from datetime import datetime, timedelta
from math import ceil

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from campaigns import audience
from campaigns.models import METRICS, Segment, Topic
from campaigns.rules import RuleError, clean_rules
from campaigns.segments import NAME_LIMIT, clean_slug
from core.extensions import db
from core.i18n import word_list
from core.timeutil import to_naive_utc
from nurture.scheduling import ScheduleError, parse_clock, parse_delay, zone
from nurture.validation import mail_locale, step_problems


class CampaignError(ValueError):
    """A campaign that cannot be saved; `errors` lists every problem as "field: what"."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def clean_campaign(data: dict, *, now: datetime) -> dict:
    """The campaign's columns from a file's mapping, or CampaignError."""
    errors: list[str] = []

    def say(field: str, message) -> None:
        errors.append(f"{field}: {message}")

    slug_errors: list[str] = []
    slug = clean_slug(data.get("slug"), slug_errors, made_from=data.get("name"))
    for message in slug_errors:
        say("slug", message)
    name = data.get("name") if isinstance(data.get("name"), str) else ""
    if len(name.strip()) > NAME_LIMIT:
        say("name", _l("at most %(n)d characters", n=NAME_LIMIT))
    topic = _topic(data.get("topic"), say)
    included = _audience(data.get("segment"), "segment", errors, required=True)
    excluded = _audience(data.get("exclude"), "exclude", errors, required=False)
    locale = mail_locale(data.get("locale") or current_app.config["DEFAULT_LOCALE"])
    if locale is None:
        say(
            "locale",
            _l("one of the site's languages: %(known)s", known=", ".join(current_app.config["LOCALES"])),
        )
    body = data.get("body") if isinstance(data.get("body"), str) else None
    if data.get("body") is not None and body is None:
        say("body", _l("Markdown text"))
    variants = _variants(data, body or "", locale or "zh-CN", say)
    # As many as were given (one without a subject is named as such, not as "a single variant").
    given = len(data["variants"]) if isinstance(data.get("variants"), list) else len(variants)
    sample, wait, metric = _test(data, given, say)
    send_at = _send_at(data, now, say)
    resend_after, resend_subject = _resend(data.get("resend"), locale or "zh-CN", say)
    if not errors and included and not _matches_anyone(included, excluded, topic.id, now):
        say("segment", _l("matches nobody now: nothing would be sent"))
    if errors:
        raise CampaignError(errors)
    return {
        "slug": slug,
        "name": name.strip() or slug,
        "topic_id": topic.id,
        "audience": included,
        "exclude": excluded,
        "body": body or "",
        "variants": variants,
        "sample_percent": sample,
        "wait_minutes": wait,
        "metric": metric,
        "send_at": send_at,
        "local_time": data.get("local_time") or "",
        "locale": locale,
        "resend_after_minutes": resend_after,
        "resend_subject": resend_subject,
    }


def _topic(value, say) -> Topic | None:
    topics = db.session.scalars(select(Topic).order_by(Topic.id)).all()
    found = next((topic for topic in topics if topic.slug == value), None)
    if found is None:
        known = word_list((topic.slug for topic in topics), "or")
        if value in (None, ""):
            say("topic", _l("every marketing mail belongs to a topic: one of %(known)s", known=known))
        else:
            say("topic", _l("unknown topic “%(topic)s”; one of: %(known)s", topic=value, known=known))
    return found


def _audience(value, field: str, errors: list[str], *, required: bool) -> list[dict]:
    """`segment` or `exclude`: a segment's slug, a list of slugs, or inline rules."""
    if value in (None, "", []):
        if required:
            errors.append(f"{field}: " + str(_l("a segment's slug or rules (all, any, not)")))
        return []
    items = value if isinstance(value, list) else [value]
    cleaned = []
    for index, item in enumerate(items):
        at = f"{field}[{index}]" if isinstance(value, list) else field
        if isinstance(item, str):
            if db.session.scalar(select(Segment.id).where(Segment.slug == item)) is None:
                errors.append(f"{at}: " + str(_l("no segment “%(slug)s”", slug=item)))
            cleaned.append({"segment": item})
        else:
            try:
                cleaned.append({"rules": clean_rules(item, where=at)})
            except RuleError as exc:
                errors.extend(exc.errors)
    return cleaned


def _variants(data: dict, body: str, locale: str, say) -> list[dict]:
    raw = data.get("variants")
    if raw is None:
        raw, field = [{"subject": data.get("subject")}], None
        if data.get("subject") in (None, ""):
            say("subject", _l("a subject, or variants to test"))
            return []
    elif not isinstance(raw, list) or len(raw) < 2:
        say("variants", _l("a list of two or more {subject, body?}"))
        return []
    else:
        field = "variants"
    variants = []
    for index, variant in enumerate(raw):
        at = f"{field}[{index}]." if field else ""
        if not isinstance(variant, dict) or set(variant) - {"subject", "body"}:
            say(f"{field}[{index}]", _l("a mapping with subject and, if it differs, body"))
            continue
        subject, own_body = variant.get("subject"), variant.get("body")
        if not isinstance(subject, str) or not subject.strip():
            say(f"{at}subject", _l("every variant needs a subject"))
            continue
        if own_body is not None and not isinstance(own_body, str):
            say(f"{at}body", _l("Markdown text"))
            continue
        if not (own_body or body).strip():
            say(f"{at}body" if field else "body", _l("the mail needs a body"))
            continue
        for problem in step_problems(subject.strip(), own_body or body, locale):
            place = "subject" if problem.field == "subject" else "body"
            say(f"{at}{place}" if field and (place == "subject" or own_body) else place, problem.translated())
        variants.append({"subject": subject.strip(), **({"body": own_body} if own_body else {})})
    return variants


def _resend(value, locale: str, say) -> tuple[int | None, str]:
    """`resend: {after: 3d, subject: …}`: after how long, and with which subject, the
    recipients who opened none of the campaign's mail get it once more."""
    if value in (None, "", {}):
        return None, ""
    if not isinstance(value, dict) or set(value) - {"after", "subject"}:
        say("resend", _l("a mapping with after (e.g. 3d) and subject"))
        return None, ""
    after = None
    with suppress(ScheduleError):
        after = parse_delay(value.get("after") if isinstance(value.get("after"), str) else "")
    if not after:
        say("resend.after", _l("how long after the send the non-openers get it again, e.g. 3d"))
    subject = value.get("subject") if isinstance(value.get("subject"), str) else ""
    if not subject.strip():
        say("resend.subject", _l("the resend needs a subject of its own"))
    else:
        for problem in step_problems(subject.strip(), "-", locale):
            if problem.field == "subject":
                say("resend.subject", problem.translated())
    return after, subject.strip()


def _test(data: dict, count: int, say) -> tuple[int, int, str]:
    sample = data.get("sample_percent", 100)
    if isinstance(sample, bool) or not isinstance(sample, int) or not 1 <= sample <= 100:
        say("sample_percent", _l("a whole number from 1 to 100"))
        sample = 100
    metric = data.get("metric", "opens")
    if metric not in METRICS:
        say("metric", _l("opens or clicks"))
    wait = 0
    if count > 1 and sample < 100:
        try:
            wait = parse_delay(data.get("wait") if isinstance(data.get("wait"), str) else "")
        except ScheduleError:
            say("wait", _l("how long the test runs before the winner goes out, e.g. 4h or 1d"))
    elif count <= 1 and sample != 100:
        say("sample_percent", _l("only for a test of two or more variants"))
    return sample, wait, metric


def _send_at(data: dict, now: datetime, say) -> datetime | None:
    """When the send starts: `send_at`, the next `local_time` in the site's time zone
    (leads have no time zone of their own yet), or None (sent by command)."""
    send_at, local = data.get("send_at"), data.get("local_time")
    if send_at is not None and local is not None:
        say("send_at", _l("give send_at or local_time, not both"))
        return None
    if local is not None:
        try:
            clock = parse_clock(local if isinstance(local, str) else "")
        except ScheduleError:
            clock = None
        if clock is None:
            say("local_time", _l("a time of day such as 09:00"))
            return None
        tz = zone(current_app.config["BABEL_DEFAULT_TIMEZONE"])
        here = now.replace(tzinfo=zone("UTC")).astimezone(tz)
        moment = datetime.combine(here.date(), clock, tzinfo=tz)
        if moment <= here:
            moment = datetime.combine(here.date() + timedelta(days=1), clock, tzinfo=tz)
        return to_naive_utc(moment)
    if send_at is None:
        return None
    try:
        moment = send_at if isinstance(send_at, datetime) else datetime.fromisoformat(str(send_at))
    except ValueError:
        say("send_at", _l("an ISO 8601 time such as 2026-12-01T09:00:00+08:00"))
        return None
    moment = to_naive_utc(moment)
    if moment <= now:
        say("send_at", _l("that time has passed"))
        return None
    return moment


def _matches_anyone(included: list[dict], excluded: list[dict], topic_id: int, now: datetime) -> bool:
    """Whether anyone of the audience receives the topic now (who the send would fix)."""
    rules = audience_rules(included, excluded)
    rules["all"].append({"field": "topic", "op": "eq", "value": db.session.get(Topic, topic_id).slug})
    return audience.count(rules, now=now) > 0


def audience_rules(included: list[dict], excluded: list[dict]) -> dict:
    """The whole audience as one rule: any included segment, none of the excluded, and
    only leads who agreed to marketing mail (the send keeps, of these, those who receive
    the campaign's topic: nurture.topics)."""

    def rules_of(item: dict) -> dict:
        if "rules" in item:
            return item["rules"]
        return db.session.scalar(select(Segment.rules).where(Segment.slug == item["segment"]))

    whole = [{"any": [rules_of(item) for item in included]}, {"field": "consent", "op": "eq", "value": True}]
    if excluded:
        whole.append({"not": [rules_of(item) for item in excluded]})
    return {"all": whole}


def sample_size(total: int, percent: int) -> int:
    """How many recipients the test's variants go to (all of them at 100%)."""
    return total if percent >= 100 else max(1, ceil(total * percent / 100))
