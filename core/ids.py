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
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise ValueError(f"not a record id: {value!r}")
    return number
