"""Time helpers. Timestamps are stored as naive UTC, the same on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """The current time as naive UTC, as every DateTime column stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_naive_utc(value: datetime) -> datetime:
    """An aware datetime converted to naive UTC; a naive one is taken as UTC already."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def parse_date(value: str | None) -> date | None:
    """A YYYY-MM-DD query parameter as a date; anything else (empty, malformed) is None.

    So is a date near the ends of the calendar (0001-01-01, 9999-12-31): a filter adds and
    takes days and weeks from it, which would overflow; no lead or visit is dated there."""
    try:
        parsed = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return parsed if parsed is None or 1000 <= parsed.year <= 9000 else None
