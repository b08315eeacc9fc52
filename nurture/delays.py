"""A step's delay as people type it and as the journey says it.

Marketers type `2天`, `2 天`, `3小时`, `1周`, `2d`, `36h` (full-width digits too, as a
Chinese input method gives them); YAML files keep the short codes (`2d`). One parser
serves the admin, YAML imports and campaigns, so they never disagree.
"""

import re
import unicodedata

from flask_babel import gettext as _
from flask_babel import ngettext

# Ten years: far beyond any nurture plan, and far from where date arithmetic overflows
# (year 9999) or an INTEGER column of minutes ends.
MAX_DELAY_DAYS = 3650
MAX_DELAY_MINUTES = MAX_DELAY_DAYS * 1440
MINUTE, HOUR, DAY, WEEK = 1, 60, 1440, 10080
UNITS = {
    "m": MINUTE,
    "min": MINUTE,
    "分": MINUTE,
    "分钟": MINUTE,
    "h": HOUR,
    "小时": HOUR,
    "个小时": HOUR,
    "钟头": HOUR,
    "个钟头": HOUR,
    "d": DAY,
    "天": DAY,
    "日": DAY,
    "w": WEEK,
    "周": WEEK,
    "星期": WEEK,
    "个星期": WEEK,
    "礼拜": WEEK,
    "个礼拜": WEEK,
}
DELAY_RE = re.compile(
    r"^\s*(\d+)\s*(" + "|".join(sorted(map(re.escape, UNITS), key=len, reverse=True)) + r")\s*$"
)
# A unit as the editor shows it back, in the Chinese UI and for a file.
TYPED = {"zh": {WEEK: "周", DAY: "天", HOUR: "小时"}, "": {WEEK: "w", DAY: "d", HOUR: "h"}}


class ScheduleError(ValueError):
    """A delay, a window or a time zone that cannot be understood. `template` (English,
    with %(name)s places filled from `params`) is also the msgid the admin translates."""

    def __init__(self, template: str, **params):
        super().__init__(template % params if params else template)
        self.template, self.params = template, params


def parse_delay(value) -> int:
    """'0h', '3d', '90m', '2w', '2天', '3 小时', '1周' (or a number of minutes) ->
    minutes, at most ten years."""
    # YAML reads `delay: yes` as True, an int to Python: not a number of minutes.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        minutes = value
    elif match := DELAY_RE.match(unicodedata.normalize("NFKC", str(value or "")).lower()):
        minutes = int(match.group(1)) * UNITS[match.group(2)]
    else:
        raise ScheduleError(
            "delay “%(value)s”: write a number and a unit, e.g. 2d, 36h or 1w",
            value=str(value or ""),
        )
    if minutes > MAX_DELAY_MINUTES:
        raise ScheduleError(
            "delay %(value)s is too long: at most %(days)dd (ten years)",
            value=repr(value),
            days=MAX_DELAY_DAYS,
        )
    return minutes


def format_delay(minutes: int, *, language: str = "") -> str:
    """Minutes as a delay to type again: '2d' (files), '2天' (the Chinese editor)."""
    units = TYPED["zh" if language.startswith("zh") else ""]
    for size in (WEEK, DAY, HOUR):
        if minutes and minutes % size == 0:
            return f"{minutes // size}{units[size]}"
    if not minutes:
        return f"0{units[HOUR]}"
    return f"{minutes}分钟" if units is TYPED["zh"] else f"{minutes}m"


def amount_words(minutes: int) -> str:
    """'2 天', '36 小时', '1 周' in the reader's language."""
    if minutes and minutes % WEEK == 0:
        return ngettext("%(num)d week", "%(num)d weeks", minutes // WEEK)
    if minutes and minutes % DAY == 0:
        return ngettext("%(num)d day", "%(num)d days", minutes // DAY)
    if minutes and minutes % HOUR == 0:
        return ngettext("%(num)d hour", "%(num)d hours", minutes // HOUR)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def wait_words(minutes: int) -> str:
    """A wait as a page says it: '2 天', '36 小时'; none at all: '立即'."""
    return amount_words(minutes) if minutes else _("At once")


def _after(anchor: str, minutes: int) -> str:
    amount = amount_words(minutes)
    if anchor == "asset":
        return _("%(amount)s after the download", amount=amount) if minutes else _("Right after the download")
    if anchor == "form":
        return (
            _("%(amount)s after the form is sent", amount=amount)
            if minutes
            else _("Right after the form is sent")
        )
    if anchor == "previous":
        return (
            _("%(amount)s after the previous mail", amount=amount)
            if minutes
            else _("Right after the previous mail")
        )
    return _("%(amount)s after enrollment", amount=amount) if minutes else _("Right after enrollment")


def _clock(value: str) -> str:
    """'09:00' -> '9:00', as people write a time."""
    return value[1:] if value.startswith("0") and len(value) == 5 else value


def window_words(days, start: str, end: str) -> str:
    """'工作日 9:00–18:00', '每天全天'."""
    from nurture.labels import day_label
    from nurture.models import DAYS

    chosen = [day for day in DAYS if day in (days or DAYS)]
    if chosen == list(DAYS):
        when = _("every day")
    elif chosen == list(DAYS[:5]):
        when = _("on working days")
    else:
        when = "、".join(str(day_label(day)) for day in chosen)
    if start == "00:00" and end == "24:00":
        return _("%(days)s, at any hour", days=when)
    return _("%(days)s %(start)s–%(end)s", days=when, start=_clock(start), end=_clock(end))


def delay_words(step, sequence, *, first: bool) -> str:
    """When a step goes, in words: "下载后 2 天，工作日 9:00–18:00 发送". The first step,
    and any counted from the enrollment, count from what enrolls the lead (its trigger)."""
    anchor = "previous" if step.delay_from == "previous" and not first else sequence.trigger_kind
    window = window_words(sequence.window_days, sequence.window_start, sequence.window_end)
    return _("%(after)s, sent %(window)s", after=_after(anchor, step.delay_minutes), window=window)
