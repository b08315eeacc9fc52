"""The segment rule language, checked: what a marketer may write, and every mistake named
with the place it is at (`all[1].any[0].field`), before anything is saved or counted.

A rule is a group, a mapping with exactly one of `all`, `any` or `not`, each a list of
conditions or nested groups (`not` matches the leads that match none of its items). A
condition is either `{field, op, value}` over what we know of the lead, or
`{event, <detail>?, within?}` over what the lead did (docs/CAMPAIGNS.md lists them).
clean_rules gives the rule back in one normal form, which is what is stored and what
campaigns.audience turns into SQL; it never needs to check anything again.
"""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from campaigns.models import Campaign
from core.extensions import db
from core.i18n import word_list
from gated.labels import LABELS
from gated.models import Asset
from nurture import topics
from nurture.models import Sequence
from nurture.scheduling import ScheduleError, parse_delay

GROUPS = ("all", "any", "not")
# How deep groups may nest: the issue asks for one level; a few more cost nothing.
MAX_DEPTH = 4
MAX_ITEMS = 100
TEXT_LIMIT = 500

# Each field and the kind of value it holds; campaigns.audience maps them to columns.
FIELDS = {
    "email": "text",
    "name": "text",
    "company": "text",
    "job_title": "text",
    "phone": "text",
    "role": "text",
    "stage": "text",
    "source": "text",
    "owner": "text",
    "first_channel": "text",
    "last_channel": "text",
    "first_campaign": "text",
    "last_campaign": "text",
    "score": "number",
    "created": "time",
    "last_touch": "time",
    "consent": "flag",
    "locale": "text",
    "timezone": "text",
    "tags": "tags",
    "topic": "topic",
}
OPS = {
    "text": ("eq", "ne", "contains", "in", "exists"),
    "number": ("eq", "ne", "gte", "lte", "in"),
    "time": ("gte", "lte", "exists"),
    "flag": ("eq", "ne"),
    # contains: has this tag; in: has one of these; exists: has a tag at all.
    "tags": ("contains", "in", "exists"),
    # eq: receives the topic's mail now (nurture.topics); ne: does not.
    "topic": ("eq", "ne"),
}
# Fields whose values come from a closed list (the codes, each with its words for the
# message): another value can never match, so it is named as a mistake, not counted as 0.
CHOICES = {
    "role": "role",
    "stage": "stage",
    "first_channel": "channel",
    "last_channel": "channel",
}
LOCALE_CODES = ("zh-CN", "en")
# Each event and the one detail that narrows it (None: no detail).
EVENTS = {
    "download": "asset",
    "page_view": "path",
    "search": "query",
    "form_submit": "form",
    "mail_sent": "mail",
    "mail_open": "mail",
    "mail_click": "mail",
    "mql": None,
}


class RuleError(ValueError):
    """Rules that cannot be used. `problems` lists each as (where, message), where is a
    path such as all[1].field ("" for the whole rule); `errors` as "where: message", for
    files, where the path is how a developer finds it (the segment screen shows lines)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = [(where, str(message)) for where, message in problems]
        self.errors = [f"{where}: {message}" if where else message for where, message in self.problems]
        super().__init__("; ".join(self.errors))


def clean_rules(rules, *, where: str = "", existing: bool = False) -> dict:
    """The rules in normal form, or RuleError naming every problem. `existing`: an asset or
    mail an event names must exist here (the segment screen; a file may come before them)."""
    errors: list[tuple[str, str]] = []
    cleaned = _group(rules, where, errors, depth=1, existing=existing)
    if errors:
        raise RuleError(errors)
    return cleaned


def within_minutes(value: str) -> int:
    """A cleaned `within` ("30d") in minutes."""
    return parse_delay(value)


def relative_time(value: str) -> int | None:
    """A cleaned time value: minutes before now for a duration ("30d"), None for a date."""
    try:
        return parse_delay(value)
    except ScheduleError:
        return None


def _one_of(names, style: str = "or") -> str:
    """The names a marketer may type, joined as the page's language joins alternatives."""
    return word_list(names, style)


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _group(rules, where: str, errors: list[tuple[str, str]], *, depth: int, existing: bool) -> dict:
    if not isinstance(rules, dict) or len(set(rules) & set(GROUPS)) != 1 or len(rules) != 1:
        errors.append((where, _l("a group with exactly one of all, any or not, each a list of conditions")))
        return {}
    [(kind, items)] = rules.items()
    here = _at(where, kind)
    if not isinstance(items, list) or not items:
        errors.append((here, _l("a list of at least one condition")))
        return {}
    if len(items) > MAX_ITEMS:
        errors.append((here, _l("at most %(n)d conditions in a group", n=MAX_ITEMS)))
        return {}
    cleaned = []
    for index, item in enumerate(items):
        at = f"{here}[{index}]"
        if isinstance(item, dict) and set(item) & set(GROUPS) and not set(item) & {"field", "event"}:
            if depth >= MAX_DEPTH:
                errors.append((at, _l("groups nest at most %(n)d deep", n=MAX_DEPTH)))
                continue
            cleaned.append(_group(item, at, errors, depth=depth + 1, existing=existing))
        elif isinstance(item, dict) and "event" in item:
            cleaned.append(_event(item, at, errors, existing=existing))
        elif isinstance(item, dict) and "field" in item:
            cleaned.append(_condition(item, at, errors))
        else:
            errors.append(
                (
                    at,
                    _l("a condition {field, op, value}, an event {event, within} or a group (all, any, not)"),
                )
            )
    return {kind: cleaned}


def _condition(item: dict, at: str, errors: list[tuple[str, str]]) -> dict:
    unknown = sorted(set(item) - {"field", "op", "value"}, key=str)
    if unknown:
        errors.append((at, _l("unknown key %(key)s (use field, op, value)", key=unknown[0])))
        return {}
    field, op = item.get("field"), item.get("op")
    if field not in FIELDS:
        errors.append(
            (
                f"{at}.field",
                _l("unknown field “%(field)s”; one of: %(known)s", field=field, known=_one_of(FIELDS)),
            )
        )
        return {}
    kind = FIELDS[field]
    if op not in OPS[kind]:
        errors.append(
            (f"{at}.op", _l("%(field)s takes one of: %(ops)s", field=field, ops=_one_of(OPS[kind])))
        )
        return {}
    value = item.get("value", True if op == "exists" else None)
    if op == "exists":
        if not isinstance(value, bool):
            errors.append((f"{at}.value", _l("true or false")))
            return {}
        return {"field": field, "op": op, "value": value}
    if op == "in":
        if not isinstance(value, list) or not value:
            errors.append((f"{at}.value", _l("a list of at least one value")))
            return {}
        values = [_value(kind, one, f"{at}.value[{index}]", errors) for index, one in enumerate(value)]
        return {
            "field": field,
            "op": op,
            "value": [_chosen(field, one, errors, f"{at}.value[{i}]") for i, one in enumerate(values)],
        }
    value = _value(kind, value, f"{at}.value", errors)
    if op in ("eq", "ne"):
        value = _chosen(field, value, errors, f"{at}.value")
    return {"field": field, "op": op, "value": value}


def _codes(field: str) -> dict[str, str]:
    """{code: words} of a field with a closed list of values; {} for any other field."""
    if field in CHOICES:
        return {code: str(words) for code, words in LABELS[CHOICES[field]].items()}
    if field == "locale":
        return {code: code for code in LOCALE_CODES}
    return {}


def _chosen(field: str, value, errors: list[tuple[str, str]], at: str):
    """A value of a closed list as its code (typed as the code, in any case, or as its
    words), or a mistake naming the choices."""
    codes = _codes(field)
    if not codes or not isinstance(value, str) or not value:
        return value
    typed = value.casefold()
    for code, words in codes.items():
        if typed in (code.casefold(), words.casefold()):
            return code
    known = _one_of(_with_words(code, words) for code, words in codes.items())
    errors.append(
        (at, _l("unknown %(field)s “%(value)s”; one of: %(known)s", field=field, value=value, known=known))
    )
    return value


def _value(kind: str, value, at: str, errors: list[tuple[str, str]]):
    if kind == "flag":
        if not isinstance(value, bool):
            errors.append((at, _l("true or false")))
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**31 - 1:
            errors.append((at, _l("a whole number")))
        return value
    if kind == "topic":
        if not isinstance(value, str) or topics.by_slug(value.strip()) is None:
            known = _one_of(topic.slug for topic in topics.all_topics())
            errors.append((at, _l("unknown topic “%(topic)s”; one of: %(known)s", topic=value, known=known)))
            return ""
        return value.strip()
    if kind == "time":
        if isinstance(value, datetime | date):
            return value.isoformat()
        text = value if isinstance(value, str) else ""
        if relative_time(text) is None and not _iso(text):
            errors.append((at, _l("a date (2026-11-01) or a time ago (30d, 12h, 2w)")))
        return text
    # YAML reads a company called 2024 as a number: as text it means the same.
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > TEXT_LIMIT:
        errors.append((at, _l("some text (at most %(n)d characters)", n=TEXT_LIMIT)))
        return ""
    return value.strip()


def _iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _event(item: dict, at: str, errors: list[tuple[str, str]], *, existing: bool) -> dict:
    event = item.get("event")
    if event not in EVENTS:
        errors.append(
            (
                f"{at}.event",
                _l("unknown event “%(event)s”; one of: %(known)s", event=event, known=_one_of(EVENTS)),
            )
        )
        return {}
    detail = EVENTS[event]
    allowed = {"event", "within"} | ({detail} if detail else set())
    unknown = sorted(set(item) - allowed, key=str)
    if unknown:
        errors.append(
            (at, _l("%(event)s takes only: %(keys)s", event=event, keys=_one_of(sorted(allowed), "standard")))
        )
        return {}
    cleaned = {"event": event}
    if detail and item.get(detail) is not None:
        cleaned[detail] = _value("text", item[detail], f"{at}.{detail}", errors)
        _known_detail(detail, cleaned[detail], f"{at}.{detail}", errors, existing=existing)
    if item.get("within") is not None:
        # Text only: parse_delay reads a bare number as minutes, which nobody means here.
        text = item["within"] if isinstance(item["within"], str) else ""
        try:
            minutes = parse_delay(text)
        except ScheduleError:
            minutes = 0
        if not minutes:
            errors.append((f"{at}.within", _l("a length of time such as 30d, 12h or 2w")))
        cleaned["within"] = str(item["within"]).strip()
    return cleaned


def _known_detail(detail: str, value: str, at: str, errors: list[tuple[str, str]], *, existing: bool) -> None:
    """A form that does not exist can never have been sent, nor an asset or a sequence
    that does not exist downloaded or mailed (checked when `existing`): name the mistake
    instead of counting 0."""
    if not value or (detail != "form" and not existing):
        return
    if detail == "form":
        if value not in LABELS["form"]:
            known = _one_of(_with_words(code, words) for code, words in LABELS["form"].items())
            errors.append((at, _l("unknown form “%(value)s”; one of: %(known)s", value=value, known=known)))
    elif detail == "asset":
        if db.session.scalar(db.select(Asset.id).where(Asset.slug == value)) is None:
            errors.append((at, _l("no asset has the slug “%(value)s”", value=value)))
    elif detail == "mail":
        sequence = db.session.scalar(db.select(Sequence.id).where(Sequence.slug == value))
        if (
            sequence is None
            and db.session.scalar(db.select(Campaign.id).where(Campaign.slug == value)) is None
        ):
            errors.append((at, _l("no sequence or campaign has the slug “%(value)s”", value=value)))


def _with_words(code: str, words) -> str:
    """A code a marketer types, with what it means: customer（客户）; the words alone when
    they show the code already (市场认可线索（MQL）: MQL is taken in any case)."""
    words = str(words)
    if code.casefold() in words.casefold():
        return words
    return str(_l("%(code)s (%(words)s)", code=code, words=words))
