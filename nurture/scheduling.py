"""When a step is due: delays, the sequence's send window in its own time zone.

Pure functions over naive-UTC datetimes (as stored), so they are tested without a
database and used the same by the worker and the admin's previews.
"""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Delays are read and written by nurture.delays; their names stay here for the callers.
from nurture.delays import MAX_DELAY_MINUTES, ScheduleError
from nurture.delays import format_delay as format_delay
from nurture.delays import parse_delay as parse_delay
from nurture.models import DAYS

CLOCK_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            "time zone %(name)s is unknown (use a name like Asia/Shanghai)", name=repr(name)
        ) from exc


def parse_clock(value: str) -> time | None:
    """'09:00' -> time(9); '24:00' -> None (the end of the day)."""
    if not CLOCK_RE.match(str(value or "")):
        raise ScheduleError("time %(value)s: write it as HH:MM, e.g. 09:00", value=repr(value))
    if value == "24:00":
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def check_window(days, start: str, end: str, timezone: str) -> None:
    """Raise ScheduleError for a window that could never open."""
    zone(timezone)
    if not days or any(day not in DAYS for day in days):
        raise ScheduleError("send window days must be some of %(days)s", days=", ".join(DAYS))
    opens, closes = parse_clock(start), parse_clock(end)
    if opens is None:
        raise ScheduleError("the send window cannot start at 24:00 (24:00 only ends a day; use 00:00)")
    if closes is not None and opens >= closes:
        raise ScheduleError("the send window must start before it ends")


def _instant(day, clock: time, tz: ZoneInfo) -> datetime:
    """The moment `clock` strikes on `day` in `tz`, as an aware UTC datetime. A clock time
    the spring change skips is moved later by the gap (01:30 on a night that jumps from
    01:00 to 02:00 is 02:30, as java.time does); one the autumn change repeats is its first
    occurrence (fold=0 both ways)."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def next_in_window(when: datetime, *, days, start: str, end: str, timezone: str) -> datetime:
    """The first moment at or after `when` (naive UTC) inside the window, as naive UTC.

    The window's edges are turned into instants and compared as instants: comparing
    wall-clock times (what two datetimes sharing a tzinfo do) would open a window at a
    skipped time earlier than it says it opens."""
    tz = zone(timezone)
    moment = when.replace(tzinfo=UTC)
    today = moment.astimezone(tz).date()
    opens, closes = parse_clock(start), parse_clock(end)
    if opens is None:
        # A window opening at 24:00 (saved before check_window refused one) never opens:
        # the mail is due when it is, as when no allowed day comes within a week.
        return when
    allowed = {DAYS.index(day) for day in days}
    for offset in range(8):
        day = today + timedelta(days=offset)
        if day.weekday() not in allowed:
            continue
        window_open = _instant(day, opens, tz)
        window_close = (
            _instant(day + timedelta(days=1), time(0), tz) if closes is None else _instant(day, closes, tz)
        )
        if moment < window_open:
            return window_open.replace(tzinfo=None)
        if moment < window_close:
            return when
    return when


def add_delay(when: datetime, minutes: int, timezone: str) -> datetime:
    """`when` (naive UTC) plus a delay: whole days are calendar days in the sequence's
    time zone, so "1d" after a mail at 17:30 is 17:30 the next day across a daylight
    saving change too (24 hours would be 18:30, past a window closing at 18:00); what is
    left over (the hours of a 36h delay) is elapsed time. A delay saved longer than ten
    years (before parse_delay refused one) counts as ten years, not as an overflow."""
    whole_days, rest = divmod(min(minutes, MAX_DELAY_MINUTES), 1440)
    if whole_days:
        tz = zone(timezone)
        local = when.replace(tzinfo=UTC).astimezone(tz)
        when = _instant(local.date() + timedelta(days=whole_days), local.time(), tz).replace(tzinfo=None)
    return when + timedelta(minutes=rest)


def sequence_window(sequence) -> dict:
    return {
        "days": sequence.window_days or list(DAYS),
        "start": sequence.window_start,
        "end": sequence.window_end,
        "timezone": sequence.timezone,
    }


def due_at(sequence, step, *, enrolled_at: datetime, previous_at: datetime) -> datetime:
    """When `step` is due: its delay from the enrollment or from the previous send,
    moved into the sequence's window."""
    base = enrolled_at if step.delay_from == "enrollment" else previous_at
    window = sequence_window(sequence)
    return next_in_window(add_delay(base, step.delay_minutes, window["timezone"]), **window)
