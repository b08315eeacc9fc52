"""Delays and send windows across time zones (pure functions, no database)."""

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from nurture import scheduling

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def window(timezone="Asia/Shanghai", days=WEEKDAYS, start="09:00", end="18:00"):
    return {"days": days, "start": start, "end": end, "timezone": timezone}


@pytest.mark.parametrize(
    ("text", "minutes"), [("0h", 0), ("90m", 90), ("3d", 4320), ("1w", 10080), ("2 h", 120), (45, 45)]
)
def test_delays(text, minutes):
    assert scheduling.parse_delay(text) == minutes
    assert scheduling.parse_delay(scheduling.format_delay(minutes)) == minutes


@pytest.mark.parametrize("text", ["", "3", "three days", "-1d", "1y"])
def test_bad_delays_are_refused(text):
    with pytest.raises(scheduling.ScheduleError):
        scheduling.parse_delay(text)


def test_inside_the_window_is_unchanged():
    # Monday 10:00 in Shanghai is 02:00 UTC.
    when = datetime(2026, 11, 23, 2, 0)
    assert scheduling.next_in_window(when, **window()) == when


def test_before_the_window_waits_for_it_to_open():
    # Monday 07:30 Shanghai -> Monday 09:00 Shanghai (01:00 UTC).
    assert scheduling.next_in_window(datetime(2026, 11, 22, 23, 30), **window()) == datetime(
        2026, 11, 23, 1, 0
    )


def test_after_friday_close_waits_for_monday():
    # Friday 19:00 Shanghai (11:00 UTC) -> Monday 09:00 Shanghai.
    friday_evening = datetime(2026, 11, 27, 11, 0)
    assert scheduling.next_in_window(friday_evening, **window()) == datetime(2026, 11, 30, 1, 0)


def test_the_same_instant_in_other_time_zones():
    # 02:00 UTC Monday is 10:00 in Shanghai (open), 02:00 in London and 21:00 Sunday in
    # New York (both closed).
    when = datetime(2026, 11, 23, 2, 0)
    assert scheduling.next_in_window(when, **window("Europe/London")) == datetime(2026, 11, 23, 9, 0)
    assert scheduling.next_in_window(when, **window("America/New_York")) == datetime(2026, 11, 23, 14, 0)


def test_summer_time_is_respected():
    # London in July is UTC+1: its 09:00 is 08:00 UTC.
    assert scheduling.next_in_window(datetime(2026, 7, 6, 5, 0), **window("Europe/London")) == datetime(
        2026, 7, 6, 8, 0
    )


def test_a_window_to_midnight_and_every_day():
    every_day = window(days=list(scheduling.DAYS), start="00:00", end="24:00")
    when = datetime(2026, 11, 28, 20, 0)  # Saturday night
    assert scheduling.next_in_window(when, **every_day) == when


@pytest.mark.parametrize(
    ("days", "start", "end", "timezone"),
    [
        ([], "09:00", "18:00", "Asia/Shanghai"),
        (["monday"], "09:00", "18:00", "Asia/Shanghai"),
        (WEEKDAYS, "18:00", "09:00", "Asia/Shanghai"),
        (WEEKDAYS, "9am", "18:00", "Asia/Shanghai"),
        (WEEKDAYS, "09:00", "18:00", "Mars/Olympus"),
    ],
)
def test_impossible_windows_are_refused(days, start, end, timezone):
    with pytest.raises(scheduling.ScheduleError):
        scheduling.check_window(days, start, end, timezone)


def test_due_counts_from_enrollment_or_previous_send():
    sequence = SimpleNamespace(
        window_days=list(scheduling.DAYS), window_start="00:00", window_end="24:00", timezone="UTC"
    )
    enrolled = datetime(2026, 11, 23, 2, 0)
    previous = enrolled + timedelta(days=5)
    after_previous = SimpleNamespace(delay_minutes=1440, delay_from="previous")
    after_enrollment = SimpleNamespace(delay_minutes=1440, delay_from="enrollment")
    assert scheduling.due_at(
        sequence, after_previous, enrolled_at=enrolled, previous_at=previous
    ) == previous + timedelta(days=1)
    assert scheduling.due_at(
        sequence, after_enrollment, enrolled_at=enrolled, previous_at=previous
    ) == enrolled + timedelta(days=1)
