"""iCalendar text (RFC 5545) for the editorial calendar's feed, written with the standard
library: a feed needs a handful of properties, not a dependency.

The rules kept here: lines end in CRLF; a content line longer than 75 octets is folded
(CRLF and a space), never inside a UTF-8 character; TEXT values escape backslash,
semicolon, comma and newlines; every event has a UID that stays the same for the same
piece (so a calendar app updates it rather than adding a copy), a DTSTAMP in UTC, and an
all-day DTSTART;VALUE=DATE with the next day as its DTEND.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

LINE_OCTETS = 75


@dataclass(frozen=True)
class Event:
    uid: str
    day: date
    summary: str
    stamp: datetime  # naive UTC: when the piece last changed
    description: str = ""
    url: str = ""
    categories: str = ""


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash first, then ; , and newlines."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """A content line folded at 75 octets (RFC 5545 3.1), each continuation starting with
    a space that counts towards its 75; a character is never split."""
    parts, current, size = [], "", 0
    for character in line:
        width = len(character.encode("utf-8"))
        limit = LINE_OCTETS if not parts else LINE_OCTETS - 1
        if size + width > limit:
            parts.append(current)
            current, size = "", 0
        current += character
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _day(day: date) -> str:
    return day.strftime("%Y%m%d")


def calendar_text(
    name: str, events: list[Event], *, product: str = "-//Lodestar//Editorial calendar//EN"
) -> str:
    """A VCALENDAR of all-day events, ready to serve as text/calendar."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{product}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{_stamp(event.stamp)}",
            f"DTSTART;VALUE=DATE:{_day(event.day)}",
            f"DTEND;VALUE=DATE:{_day(event.day + timedelta(days=1))}",
            f"SUMMARY:{escape_text(event.summary)}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape_text(event.description)}")
        if event.categories:
            lines.append(f"CATEGORIES:{escape_text(event.categories)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        lines += ["TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
