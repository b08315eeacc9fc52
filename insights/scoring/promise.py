"""The response promise: sales answer an MQL within SCORING_RESPONSE_HOURS working hours,
counted in the site's time zone (TIMEZONE) on SCORING_WORK_DAYS between the two times of
SCORING_WORK_HOURS. A lead handed off on Friday at 16:00 in Shanghai with a promise of 4
hours is due on Monday at 11:00; on Saturday it still has 2 working hours left.

Times in and out are naive UTC, as stored; the zone only decides where a working day
begins and ends (a day of a DST change is counted as the clock on the wall says)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.config import SettingsError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LONGEST = 800  # days searched for the end of a promise: past it a setting is absurd


class PromiseSettingError(SettingsError):
    """SCORING_WORK_DAYS or SCORING_WORK_HOURS cannot be read; the message says why."""


@dataclass(frozen=True)
class WorkingTime:
    """Working days (0 = Monday) and hours in a time zone."""

    zone: ZoneInfo
    days: frozenset[int]
    start: time
    end: time | None  # None: midnight at the end of the day

    @classmethod
    def from_config(cls, config) -> WorkingTime:
        days = [
            word.strip().lower()[:3] for word in str(config["SCORING_WORK_DAYS"]).split(",") if word.strip()
        ]
        if not days or any(day not in WEEKDAYS for day in days):
            raise PromiseSettingError(
                f"SCORING_WORK_DAYS={config['SCORING_WORK_DAYS']!r}: name days as mon,tue,wed,thu,fri"
            )
        try:
            start_text, end_text = (part.strip() for part in str(config["SCORING_WORK_HOURS"]).split("-"))
            start = time.fromisoformat(start_text)
            # 24:00: to the end of the day (00:00-24:00 and every day counts the clock round).
            end = None if end_text == "24:00" else time.fromisoformat(end_text)
        except ValueError:
            start, end = None, time.min
        if start is None or (end is not None and start >= end):
            raise PromiseSettingError(
                f"SCORING_WORK_HOURS={config['SCORING_WORK_HOURS']!r}: write it as 09:00-18:00"
            )
        return cls(ZoneInfo(config["TIMEZONE"]), frozenset(WEEKDAYS.index(d) for d in days), start, end)

    def _open(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's working hours as aware UTC instants, or None on a day off."""
        if day.weekday() not in self.days:
            return None
        opens = datetime.combine(day, self.start, tzinfo=self.zone).astimezone(UTC)
        if self.end is None:
            closes = datetime.combine(day + timedelta(days=1), time(), tzinfo=self.zone).astimezone(UTC)
        else:
            closes = datetime.combine(day, self.end, tzinfo=self.zone).astimezone(UTC)
        return opens, closes

    def _local_day(self, at: datetime) -> date:
        return at.replace(tzinfo=UTC).astimezone(self.zone).date()

    def add(self, at: datetime, hours: float) -> datetime:
        """The instant `hours` working hours after `at` (naive UTC)."""
        moment, remaining = at.replace(tzinfo=UTC), timedelta(hours=hours)
        day = self._local_day(at)
        for _ in range(LONGEST):
            hours_open = self._open(day)
            if hours_open is not None:
                begin = max(hours_open[0], moment)
                if begin < hours_open[1]:
                    if remaining <= hours_open[1] - begin:
                        return (begin + remaining).replace(tzinfo=None)
                    remaining -= hours_open[1] - begin
            day += timedelta(days=1)
        raise PromiseSettingError("the promise does not end within the working days")

    def windows(self, at: datetime, days: int) -> list[tuple[datetime, datetime]]:
        """The working hours of `days` local days from `at`'s (naive UTC pairs, in order):
        when the clock runs, for the desk's script to count on its own."""
        first = self._local_day(at)
        opened = (self._open(first + timedelta(days=n)) for n in range(days))
        return [
            (opens.replace(tzinfo=None), closes.replace(tzinfo=None))
            for opens, closes in filter(None, opened)
        ]

    def between(self, earlier: datetime, later: datetime) -> timedelta:
        """Working time from `earlier` to `later` (naive UTC); negative if they are swapped."""
        if later < earlier:
            return -self.between(later, earlier)
        first, last = earlier.replace(tzinfo=UTC), later.replace(tzinfo=UTC)
        total, day = timedelta(0), self._local_day(earlier)
        while day <= self._local_day(later):
            hours_open = self._open(day)
            if hours_open is not None:
                overlap = min(hours_open[1], last) - max(hours_open[0], first)
                total += max(overlap, timedelta(0))
            day += timedelta(days=1)
        return total


def due_at(handed_at: datetime, config) -> datetime:
    """When the response promise of a hand-off made at `handed_at` ends."""
    return WorkingTime.from_config(config).add(handed_at, float(config["SCORING_RESPONSE_HOURS"]))
