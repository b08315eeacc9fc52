"""Checking a sequence as marketers type it (the admin form) or write it (YAML for
`flask nurture import`): every field's type, length and meaning, so that nothing saved
can later fail in the worker. Both paths go through clean_sequence."""

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from core import yamltext
from core.ids import MAX_ID
from nurture import personalise, scheduling, topics
from nurture.models import DAYS, SEQUENCE_STATUSES

CONDITIONS = ("downloaded", "clicked_previous", "opened_previous")
SUBJECT_MAX = 300  # Step.subject


@dataclass
class Problem:
    """One thing wrong with a sequence: `where` it is as YAML names it ("send_window",
    "step 2 subject"), the admin form's `field` it concerns ("window_start",
    "steps-1-subject" for the second step, "" for none), and the message: `template`
    (English, the msgid the admin translates) filled from `params`."""

    where: str
    field: str
    template: str
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template

    def translated(self) -> str:
        """The message in the reader's language, for the admin form."""
        return gettext(self.template, **self.params)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def _step_field(number: int, name: str) -> str:
    return f"steps-{number - 1}-{name}"


class SequenceError(ValueError):
    """A sequence that cannot be saved; `errors` lists every problem, worded for a user
    of the YAML file and the command line; `problems` the same as Problem, each with the
    form field it concerns."""

    def __init__(self, errors: list):
        self.problems = [
            error if isinstance(error, Problem) else Problem("", "", str(error)) for error in errors
        ]
        self.errors = [str(problem) for problem in self.problems]
        super().__init__("; ".join(self.errors))


def parse_sequence_yaml(text: str) -> dict:
    try:
        data = yamltext.load(text)
    except yamltext.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise SequenceError([f"not valid YAML{where}: {getattr(exc, 'problem', exc)}"]) from exc
    if not isinstance(data, dict):
        raise SequenceError(["the file must be a mapping with slug, name, trigger and steps"])
    return data


def clean_sequence(data: dict) -> dict:
    """Check a sequence as YAML or the admin form gives it; the normalised fields.

    Every field is checked for its type too (YAML turns `2024` into a number, `yes` into
    a boolean, `{...}` into a mapping), so that nothing the database, the worker or the
    mail layout cannot take is saved. Every step is rendered for a sample lead here, so a
    typo in a variable is found now.
    """
    errors = []
    slug = _text(data, "slug", errors, limit=120).strip()
    if not slug or not all(ch.isalnum() or ch in "-_" for ch in slug):
        errors.append(Problem("slug", "slug", "use letters, digits, - and _ (at most 120)"))
    name = _text(data, "name", errors, limit=200).strip() or slug
    status = data.get("status")
    if status is not None and status not in SEQUENCE_STATUSES:
        errors.append(Problem("status", "", "one of %(choices)s", {"choices": ", ".join(SEQUENCE_STATUSES)}))
    trigger_kind, trigger_value = _clean_trigger(data.get("trigger", "manual"), errors)
    days, start, end, timezone = _clean_window(data.get("send_window"), errors)
    cap = data.get("hourly_cap")
    if cap in ("", None):
        cap = None
    elif not str(cap).isdecimal() or not 1 <= int(cap) <= MAX_ID:  # an INTEGER column
        errors.append(Problem("hourly_cap", "hourly_cap", "a whole number of mails per hour, or nothing"))
    else:
        cap = int(cap)
    steps = _clean_steps(data.get("steps"), errors)
    raw_locale = data.get("locale") or current_app.config["DEFAULT_LOCALE"]
    locale = mail_locale(raw_locale)
    if locale is None:
        errors.append(_unknown_locale(raw_locale))
    topic_id = _clean_topic(data.get("topic"), errors)
    if errors:
        raise SequenceError(errors)
    return {
        "slug": slug,
        "name": name,
        "status": status,
        "trigger_kind": trigger_kind,
        "trigger_value": trigger_value,
        "window_days": days,
        "window_start": start,
        "window_end": end,
        "timezone": timezone,
        "hourly_cap": cap,
        "locale": locale,
        "topic_id": topic_id,
        "steps": steps,
    }


def _clean_topic(value, errors: list) -> int | None:
    """The topic's id: the one named, or the default topic (follow-up) when none is."""
    if value in (None, ""):
        return topics.default_topic_id()
    known = topics.all_topics()
    found = next((topic.id for topic in known if topic.slug == value), None)
    if found is None:
        slugs = ", ".join(topic.slug for topic in known)
        errors.append(
            Problem(
                "topic",
                "topic",
                "unknown topic %(value)s; one of: %(slugs)s",
                {"value": repr(value), "slugs": slugs},
            )
        )
    return found


def _kind_of(value) -> str:
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _text(
    data: dict, key: str, errors: list, *, limit: int | None, label: str = "", form_field: str | None = None
) -> str:
    """A text field (absent: ""), at most `limit` characters and without NUL (which
    PostgreSQL refuses); a problem goes to `errors` and "" is returned. `form_field`:
    the admin form's field (default: `key`)."""
    value = data.get(key)
    label = label or key
    where = key if form_field is None else form_field
    if value is None:
        return ""
    if not isinstance(value, str):
        quote = "" if isinstance(value, list | dict) else " (in YAML, put it in quotes)"
        errors.append(Problem(label, where, f"text, not {_kind_of(value)}{quote}"))
        return ""
    if "\x00" in value:
        errors.append(Problem(label, where, "contains a NUL character"))
        return ""
    if limit is not None and len(value) > limit:
        errors.append(Problem(label, where, "at most %(limit)d characters", {"limit": limit}))
        return ""
    return value


def mail_locale(value) -> str | None:
    """The language of mails as a sequence stores it ("zh-CN", "en") when `value` names
    one of the site's LOCALES (with - or _, in any case); else None. Mails are rendered
    in it (flask_babel.force_locale), which fails for a language the site does not have."""
    if not isinstance(value, str):
        return None
    known = {code.replace("_", "-").lower(): code.replace("_", "-") for code in current_app.config["LOCALES"]}
    return known.get(value.replace("_", "-").lower())


def _unknown_locale(value) -> Problem:
    known = ", ".join(code.replace("_", "-") for code in current_app.config["LOCALES"])
    return Problem(
        "locale",
        "locale",
        "“%(value)s” is not a language of the site; use one of %(known)s",
        {"value": value if isinstance(value, str) else repr(value), "known": known},
    )


def _clean_trigger(trigger, errors) -> tuple[str, str]:
    usage = Problem("trigger", "trigger_value", "{asset: SLUG}, {form: NAME} or manual")
    if trigger in (None, "", "manual"):
        return "manual", ""
    if isinstance(trigger, dict) and len(trigger) == 1:
        kind = next(iter(trigger))
        if kind in ("asset", "form"):
            problems = []
            value = _text(
                trigger, kind, problems, limit=120, label=f"trigger {kind}", form_field="trigger_value"
            )
            value = value.strip()
            if value:
                return kind, value
            errors.extend(problems or [usage])
            return "manual", ""
    errors.append(usage)
    return "manual", ""


def _clean_window(window, errors) -> tuple[list[str], str, str, str]:
    """(days, start, end, time zone) of a send window; the whole day, every day, in the
    site's time zone for what is not given."""
    problems = []
    if window is None:
        window = {}
    elif not isinstance(window, dict):
        problems.append(Problem("send_window", "", "a mapping of days, start, end and timezone"))
        window = {}
    days = window.get("days") or list(DAYS)
    if not isinstance(days, list) or not all(isinstance(day, str) for day in days):
        problems.append(
            Problem("send_window", "days", "days is a list of some of %(days)s", {"days": ", ".join(DAYS)})
        )
        days = list(DAYS)
    days = [day.lower()[:3] for day in days]
    start = _clock(window, "start", "00:00", problems)
    end = _clock(window, "end", "24:00", problems)
    timezone = _text(
        window, "timezone", problems, limit=64, label="send_window: timezone", form_field="timezone"
    )
    timezone = timezone or current_app.config["BABEL_DEFAULT_TIMEZONE"]
    for key, value in (("window_start", start), ("window_end", end)):
        try:
            scheduling.parse_clock(value)
        except scheduling.ScheduleError as exc:
            problems.append(Problem("send_window", key, exc.template, exc.params))
    if not problems:
        try:
            scheduling.check_window(days, start, end, timezone)
        except scheduling.ScheduleError as exc:
            problems.append(Problem("send_window", _window_field(exc.template), exc.template, exc.params))
    errors.extend(problems)
    return days, start, end, timezone


def _window_field(template: str) -> str:
    """The admin form's field a send-window problem concerns."""
    if template.startswith("time zone"):
        return "timezone"
    if "days" in template:
        return "days"
    return "window_end" if "before it ends" in template else "window_start"  # 24:00 as a start


def _clock(window: dict, key: str, default: str, errors: list) -> str:
    value = window.get(key)
    if value is None:
        return default
    # YAML 1.1 reads an unquoted 10:00 as sexagesimal 600 (09:00 stays text).
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1440:
        hours, minutes = divmod(value, 60)
        errors.append(
            Problem(
                "send_window",
                f"window_{key}",
                f"write the {key} time in quotes, '%(clock)s' (YAML reads it as a number)",
                {"clock": f"{hours:02d}:{minutes:02d}"},
            )
        )
        return default
    label = f"send_window: {key}"
    return _text(window, key, errors, limit=None, label=label, form_field=f"window_{key}") or default


CONDITION_USAGE = (
    "condition is {skip_if: downloaded, asset: SLUG}, {skip_if: clicked_previous} "
    "or {skip_if: opened_previous}"
)


def _clean_condition(condition, number: int, errors: list) -> dict | None:
    """A step's skip condition as the worker reads it (delivery.materialising._condition_holds): only
    the known kinds, an asset slug as text for "downloaded" (compared with a VARCHAR
    column, which PostgreSQL will not compare with a number), no other fields."""
    label = f"step {number}"
    if not condition:
        return None
    if not isinstance(condition, dict) or condition.get("skip_if") not in CONDITIONS:
        errors.append(Problem(label, _step_field(number, "condition"), CONDITION_USAGE))
        return None
    kind = condition["skip_if"]
    fields = ("skip_if", "asset") if kind == "downloaded" else ("skip_if",)
    others = [str(key) for key in condition if key not in fields]
    if others:
        message = f"condition {kind} takes no {', '.join(others)} ({CONDITION_USAGE})"
        errors.append(Problem(label, _step_field(number, "condition"), message))
        return None
    if kind != "downloaded":
        return {"skip_if": kind}
    asset_field = _step_field(number, "condition_asset")
    asset = _text(
        condition, "asset", errors, limit=120, label=f"{label}: condition asset", form_field=asset_field
    )
    if not asset.strip():
        errors.append(Problem(label, asset_field, "condition downloaded needs the asset's slug"))
        return None
    asset = asset.strip()
    return {"skip_if": kind, "asset": asset}


def _clean_steps(steps, errors) -> list[dict]:
    if not isinstance(steps, list) or not steps:
        errors.append(Problem("steps", "", "at least one step"))
        return []
    sample = personalise.sample_context(current_app.config)
    cleaned = []
    for number, step in enumerate(steps, start=1):
        where = f"step {number}"
        if not isinstance(step, dict):
            errors.append(Problem(where, "", "a mapping with delay, subject and body"))
            continue
        try:
            delay = scheduling.parse_delay(step.get("delay", "0h"))
        except scheduling.ScheduleError as exc:
            errors.append(Problem(where, _step_field(number, "delay"), exc.template, exc.params))
            delay = 0
        delay_from = step.get("from", "previous")
        if delay_from not in ("previous", "enrollment"):
            errors.append(Problem(where, _step_field(number, "delay_from"), "from is previous or enrollment"))
        text_problems = []
        subject = _text(
            step,
            "subject",
            text_problems,
            limit=SUBJECT_MAX,
            label=f"{where} subject",
            form_field=_step_field(number, "subject"),
        )
        body = _text(
            step,
            "body",
            text_problems,
            limit=None,
            label=f"{where} body",
            form_field=_step_field(number, "body"),
        )
        errors.extend(text_problems)
        for problem in [] if text_problems else personalise.validate_step(subject, body, sample):
            errors.append(
                Problem(
                    f"{where} {problem.field}",
                    _step_field(number, problem.field),
                    problem.template,
                    problem.params,
                )
            )
        cleaned.append(
            {
                "delay_minutes": delay,
                "delay_from": delay_from,
                "subject": subject,
                "body": body,
                "condition": _clean_condition(step.get("condition"), number, errors),
            }
        )
    return cleaned


# The names screens give a step's fields, where a problem with one is shown.
STEP_FIELD_LABELS = {
    "subject": _l("Subject"),
    "body": _l("Body (Markdown)"),
    "locale": _l("Language of the mails"),
}


def worded(problem: personalise.PersonalisationError) -> str:
    """A step's problem as a screen says it: the field's name and the message, both in the
    reader's language (正文（Markdown）：未知变量 lead.firstname…)."""
    label = STEP_FIELD_LABELS.get(problem.field, problem.field)
    return gettext("%(field)s: %(problem)s", field=label, problem=problem.translated())


def step_problems(subject: str, body: str, locale) -> list[personalise.PersonalisationError]:
    """What keeps a step as typed (maybe unsaved) from rendering as a mail: its
    templates for the sample lead, the subject's length, a language the site has not."""
    problems = personalise.validate_step(subject, body, personalise.sample_context(current_app.config))
    if len(subject) > SUBJECT_MAX:
        problems.append(
            personalise.PersonalisationError("subject", "at most %(n)d characters", n=SUBJECT_MAX)
        )
    if mail_locale(locale) is None:
        unknown = _unknown_locale(locale)
        problems.append(personalise.PersonalisationError("locale", unknown.template, **unknown.params))
    return problems
