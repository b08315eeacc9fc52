"""Record ids from URLs, query strings and forms, kept to the range the database can hold.

Primary keys are 32-bit INTEGER on PostgreSQL (and SQLite cannot bind a number past 64
bits), so a larger number typed into a URL or a filter would reach the database as an
"integer out of range" error. A number no row can have is simply no such record.
"""

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:…>` bounded to what an INTEGER column holds: a larger number does not match
    the rule, so it is a 404 like an id that does not exist. `<int(max=…):…>` still works."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def record_id(value: str) -> int:
    """A positive id that fits the column, for `request.args.get(name, type=record_id)`:
    anything else raises ValueError, which makes that lookup give its default (None)."""
    number = int(value) if str(value).isdecimal() else 0  # not "+1", "1_0", " 1" or "²"
    if not 0 < number <= MAX_ID:
        raise ValueError(f"not a record id: {value!r}")
    return number


def page_number(value: str) -> int:
    """A ?page= number for `request.args.get("page", 1, type=page_number)`, at most MAX_ID:
    a page that far is past the last one anyway, and its offset still fits a query."""
    return min(int(value), MAX_ID)


def token_id(value: object) -> int | None:
    """An id a signed token carries, or None: an int (not a bool) that fits the column.
    Our tokens only carry such ids; anything else came from another version of the site or
    from someone holding the key, and must not reach the database as a query error."""
    return value if type(value) is int and 0 < value <= MAX_ID else None


def parse_id(value: object) -> int | None:
    """An id as typed (a filter, a form field, a pasted list), or None when no row can have it."""
    try:
        return record_id(str(value))
    except ValueError:
        return None
