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


# -- daylight saving: 2026-03-29 and 2026-10-25 in London, 2026-03-08 and 2026-11-01 in New York


def every_day(timezone, start="09:00", end="18:00"):
    return window(timezone, days=list(scheduling.DAYS), start=start, end=end)


@pytest.mark.parametrize(
    ("timezone", "when", "expected"),
    [
        # London springs forward (UTC+1 from 01:00 UTC): 09:00-18:00 is 08:00-17:00 UTC.
        ("Europe/London", datetime(2026, 3, 29, 7, 30), datetime(2026, 3, 29, 8, 0)),
        ("Europe/London", datetime(2026, 3, 29, 16, 59), datetime(2026, 3, 29, 16, 59)),
        ("Europe/London", datetime(2026, 3, 29, 17, 0), datetime(2026, 3, 30, 8, 0)),
        # London falls back (UTC+0 from 01:00 UTC): 09:00-18:00 is 09:00-18:00 UTC.
        ("Europe/London", datetime(2026, 10, 25, 8, 30), datetime(2026, 10, 25, 9, 0)),
        ("Europe/London", datetime(2026, 10, 25, 17, 59), datetime(2026, 10, 25, 17, 59)),
        ("Europe/London", datetime(2026, 10, 25, 18, 0), datetime(2026, 10, 26, 9, 0)),
        # New York springs forward (UTC-4 from 07:00 UTC): 09:00-18:00 is 13:00-22:00 UTC.
        ("America/New_York", datetime(2026, 3, 8, 12, 30), datetime(2026, 3, 8, 13, 0)),
        ("America/New_York", datetime(2026, 3, 8, 21, 59), datetime(2026, 3, 8, 21, 59)),
        ("America/New_York", datetime(2026, 3, 8, 22, 0), datetime(2026, 3, 9, 13, 0)),
        # New York falls back (UTC-5 from 06:00 UTC): 09:00-18:00 is 14:00-23:00 UTC.
        ("America/New_York", datetime(2026, 11, 1, 13, 30), datetime(2026, 11, 1, 14, 0)),
        ("America/New_York", datetime(2026, 11, 1, 22, 30), datetime(2026, 11, 1, 22, 30)),
        ("America/New_York", datetime(2026, 11, 1, 23, 0), datetime(2026, 11, 2, 14, 0)),
    ],
)
def test_window_edges_on_the_days_the_clocks_change(timezone, when, expected):
    assert scheduling.next_in_window(when, **every_day(timezone)) == expected


@pytest.mark.parametrize(
    ("timezone", "start", "earlier", "inside_the_gap", "opens"),
    [
        # 01:30 does not exist in London on 2026-03-29 (01:00 GMT -> 02:00 BST): it opens
        # at 02:30 BST (01:30 UTC), the same for a mail due before or during the jump.
        ("Europe/London", "01:30", datetime(2026, 3, 29, 0, 59), datetime(2026, 3, 29, 1, 10), datetime(2026, 3, 29, 1, 30)),
        # 02:30 does not exist in New York on 2026-03-08 (02:00 EST -> 03:00 EDT): 03:30 EDT.
        ("America/New_York", "02:30", datetime(2026, 3, 8, 6, 59), datetime(2026, 3, 8, 7, 10), datetime(2026, 3, 8, 7, 30)),
    ],
)  # fmt: skip
def test_a_window_opening_at_a_time_the_clocks_skip(timezone, start, earlier, inside_the_gap, opens):
    days = every_day(timezone, start=start, end="24:00")
    assert scheduling.next_in_window(earlier, **days) == opens
    assert scheduling.next_in_window(inside_the_gap, **days) == opens
    assert scheduling.next_in_window(opens, **days) == opens


def test_a_window_closing_at_a_time_the_clocks_repeat():
    # London 2026-10-25: 01:00-02:00 happens twice (BST, then GMT). A window until 01:30
    # closes at the first 01:30 (00:30 UTC); the second 01:15 (01:15 UTC) is after it.
    days = every_day("Europe/London", start="00:00", end="01:30")
    assert scheduling.next_in_window(datetime(2026, 10, 25, 0, 15), **days) == datetime(2026, 10, 25, 0, 15)
    assert scheduling.next_in_window(datetime(2026, 10, 25, 1, 15), **days) == datetime(2026, 10, 26, 0, 0)


@pytest.mark.parametrize(
    ("timezone", "previous", "delay", "expected"),
    [
        # 17:30 GMT Saturday + 1d = 17:30 BST Sunday (16:30 UTC), inside a window closing at
        # 18:00; 24 hours would be 18:30 BST and wait for Monday.
        ("Europe/London", datetime(2026, 3, 28, 17, 30), "1d", datetime(2026, 3, 29, 16, 30)),
        ("Europe/London", datetime(2026, 3, 27, 10, 0), "3d", datetime(2026, 3, 30, 9, 0)),
        # 09:30 BST + 1d = 09:30 GMT (09:30 UTC), not 08:30 GMT waiting for 09:00.
        ("Europe/London", datetime(2026, 10, 24, 8, 30), "1d", datetime(2026, 10, 25, 9, 30)),
        ("America/New_York", datetime(2026, 3, 7, 22, 30), "1d", datetime(2026, 3, 8, 21, 30)),
        ("America/New_York", datetime(2026, 10, 31, 13, 30), "1d", datetime(2026, 11, 1, 14, 30)),
        ("America/New_York", datetime(2026, 10, 31, 13, 30), "1w", datetime(2026, 11, 7, 14, 30)),
        # Hours are elapsed time: 20:00 GMT + 12h = 08:00 UTC, which is 09:00 BST.
        ("Europe/London", datetime(2026, 3, 28, 20, 0), "12h", datetime(2026, 3, 29, 8, 0)),
        # 36h: a calendar day, then 12 hours.
        ("Europe/London", datetime(2026, 3, 27, 20, 0), "36h", datetime(2026, 3, 29, 8, 0)),
    ],
)
def test_a_delay_spanning_a_clock_change(timezone, previous, delay, expected):
    sequence = SimpleNamespace(
        window_days=list(scheduling.DAYS), window_start="09:00", window_end="18:00", timezone=timezone
    )
    step = SimpleNamespace(delay_minutes=scheduling.parse_delay(delay), delay_from="previous")
    assert scheduling.due_at(sequence, step, enrolled_at=previous, previous_at=previous) == expected
