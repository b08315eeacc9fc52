"""Times as people read them: storage stays naive UTC, and every time shown to staff (admin
pages, staff mails, the digest, CSV exports) goes through here, so it is in the reader's
time zone (their own choice, else the site's `TIMEZONE`) and in their locale's format
(zh: 2026年12月7日 09:00; en: Dec 7, 2026, 9:00 AM).

Flask-Babel picks the zone and the locale of the request (app.py gives it the signed-in
user's zone); mails and commands, which have no reader in the request, name the zone.
"""

from datetime import UTC, date, datetime, tzinfo
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, get_timezone_name
from flask import current_app
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _

EMPTY = "—"
ZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)
"""The zones offered in the admin's choices (a staff member's own, a sequence's window)."""


def is_time_zone(name: str | None) -> bool:
    """Whether `name` is an IANA zone this machine knows (Asia/Shanghai, America/New_York)."""
    return bool(name) and name in available_timezones()


def zone(name: str | None = None) -> tzinfo:
    """The zone called `name`, or the current reader's (the request's, else the site's).
    Always a ZoneInfo: Flask-Babel hands out pytz zones, and `replace(tzinfo=…)` with one
    of those takes the zone's first offset in history (Shanghai's +08:06 of 1900), so a
    campaign set for 10:00 went out at 09:54."""
    return ZoneInfo(name or str(get_timezone()))


def zone_label(name: str) -> str:
    """A zone as the reader's language names it (中国时间, Eastern Time), not its code."""
    if name == "UTC":  # CLDR has no name for it beyond "Unknown Region (UTC) Time"
        return _("Coordinated Universal Time")
    return get_timezone_name(ZoneInfo(name), locale=get_locale())


def zone_choices() -> list[tuple[str, str]]:
    """ZONES as (value, label) for a select field, in the request's language."""
    return [(name, zone_label(name)) for name in ZONES]


def site_zone() -> str:
    """The site's zone (the TIMEZONE setting): where reports count their days, so every
    reader, the CSV files and the weekly digest see the same figure for a day."""
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def day_of(value: datetime, tz: str | None = None) -> date:
    """The local day a stored time (naive UTC) falls on in `tz` (else the reader's zone)."""
    return _aware(value).astimezone(zone(tz)).date()


def local_today(tz: str | None = None) -> date:
    """Today's date where the reader is (their zone, else the site's)."""
    return datetime.now(UTC).astimezone(zone(tz)).date()


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _pattern(locale: Locale) -> str:
    """The locale's medium date with its short time, joined as the locale joins them: the
    CLDR has no such pattern of its own, and seconds mean nothing to a reader."""
    return (
        locale.datetime_formats["medium"]
        .replace("{1}", locale.date_formats["medium"].pattern)
        .replace("{0}", locale.time_formats["short"].pattern)
    )


def local_time(value: datetime | date | None, *, tz: str | None = None, locale=None) -> str:
    """A stored time (naive UTC) in the reader's zone and locale; a date alone as a date
    (a day is the same everywhere); None as a dash."""
    if value is None:
        return EMPTY
    locale = Locale.parse(locale) if locale else get_locale()
    if not isinstance(value, datetime):
        return format_date(value, "medium", locale=locale)
    return format_datetime(_aware(value), _pattern(locale), tzinfo=zone(tz), locale=locale)


def local_date(value: datetime | date | str | None, *, tz: str | None = None, locale=None) -> str:
    """The day a stored time falls on in the reader's zone, in the locale's format; a
    date (or an ISO date, as a queued mail's JSON context holds it) as it is; other text
    (a consent statement's version named by its author) as it is."""
    if value is None:
        return EMPTY
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value or EMPTY
    if isinstance(value, datetime):
        value = _aware(value).astimezone(zone(tz)).date()
    return format_date(value, "medium", locale=Locale.parse(locale) if locale else get_locale())


def local_clock(value: datetime, *, tz: str | None = None, locale=None) -> str:
    """The clock time (09:00, 9:00 AM) a stored time shows in the reader's zone."""
    return format_time(
        _aware(value), "short", tzinfo=zone(tz), locale=Locale.parse(locale) if locale else get_locale()
    )


def mail_date(value: str, *, tz: str | None = None, locale=None) -> str:
    """A mail's Date header (RFC 5322: "Sat, 05 Dec 2026 13:00:00 +0000") as local_time
    shows a stored time; a header that is no date is shown as it is."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return value or EMPTY
    if moment.tzinfo is None:  # "-0000": the time is UTC, its zone unknown (RFC 5322 3.3)
        moment = moment.replace(tzinfo=UTC)
    return local_time(moment, tz=tz, locale=locale)


def iso_local(value: datetime | None, *, tz: str | None = None) -> str:
    """ISO 8601 with the offset, in the reader's zone (CSV exports): one column a
    spreadsheet reads as local time and a program reads exactly."""
    if value is None:
        return ""
    return _aware(value).astimezone(zone(tz)).isoformat(timespec="seconds")


def init_app(app) -> None:
    """The template filters every page uses for times."""
    app.add_template_filter(local_time)
    app.add_template_filter(local_date)
    app.add_template_filter(local_clock)
    app.add_template_filter(mail_date)
    app.add_template_filter(zone_label)
