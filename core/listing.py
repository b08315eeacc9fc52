"""Admin lists that stay fast however long they grow: one sortable column (tie-broken by
the id), keyset pages (the Next/Previous links carry the row where a page ends, so a late
page costs what the first one does; no OFFSET but for an old ?page=n link), and a count
that stops at a cap instead of reading every match.

A package names its sortable columns as `Sort`s and calls `keyset_page` (or
`request_page`, which reads the request's page and cursor); a list read outside the
database (files, grouped figures) names `TextSort`s and calls `keyset_slice` for the same
pages and cursors. The shared partials in templates/_lists.html draw the headers, the
pager and the count."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, literal, select, tuple_

MAX_CURSOR = 400  # characters: a cursor longer than any real one is no cursor


@dataclass(frozen=True)
class Sort:
    """A list order: `key` is its value in ?sort=, `column` the column it sorts by,
    `descending` its direction (ties always go by id in the same direction)."""

    key: str
    column: Any
    descending: bool = True


def search_text(args: Mapping[str, str]) -> str:
    """A list's ?q=, trimmed to what a search box needs."""
    return (args.get("q") or "").strip()[:200]


class ListFilters:
    """What a list's filters dataclass shares: the filters that are set, for its links."""

    def as_args(self) -> dict:
        return {name: value for name, value in asdict(self).items() if value}


@dataclass(frozen=True)
class TextSort:
    """An order of a list read outside the database (`keyset_slice`): `key` is its value
    in ?sort=, `value(row)` the text it sorts by, `descending` its direction."""

    key: str
    value: Callable[[Any], str]
    descending: bool = True


def chosen_sort(sorts: list, value: str | None):
    """The sort ?sort= names, or the first (the list's default)."""
    return next((sort for sort in sorts if sort.key == value), sorts[0])


@dataclass
class KeysetPage:
    items: list
    page: int
    has_prev: bool
    has_next: bool
    total: int
    total_is_floor: bool  # more than the cap matched: total is the cap
    per_page: int
    first_cursor: str = ""
    last_cursor: str = ""

    @property
    def pages(self) -> int | None:
        """The number of pages, or None when the count stopped at its cap."""
        if self.total_is_floor:
            return None
        return max(1, -(-self.total // self.per_page))

    def prev_args(self, args: dict) -> dict:
        """The query string of the Previous link: the filters and the first row's cursor."""
        return {**_without_cursor(args), "page": self.page - 1, "before": self.first_cursor}

    def next_args(self, args: dict) -> dict:
        return {**_without_cursor(args), "page": self.page + 1, "after": self.last_cursor}


def _without_cursor(args: dict) -> dict:
    return {name: value for name, value in args.items() if name not in ("page", "after", "before")}


def _cursor(value, row_id: int) -> str:
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return f"{text}_{row_id}"


def _parse_cursor(value: str | None, column) -> tuple[Any, int] | None:
    if not value or len(value) > MAX_CURSOR:
        return None
    text, _, row_id = value.rpartition("_")
    try:
        kind = column.type.python_type
        if kind is datetime:
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is not None:
                return None
        else:
            parsed = kind(text)
        number = int(row_id)
    except (ValueError, NotImplementedError):
        return None
    return (parsed, number) if 0 <= number < 2**31 else None  # ids are 32-bit on PostgreSQL


def keyset_page(
    query: Select,
    *,
    sort: Sort,
    id_column,
    per_page: int,
    page: int = 1,
    after: str | None = None,
    before: str | None = None,
    count_cap: int = 10_000,
    session,
) -> KeysetPage:
    """One page of `query` (its filters, no order) in `sort`'s order."""
    column = sort.column
    key = tuple_(column, id_column)
    forward = (column.desc(), id_column.desc()) if sort.descending else (column.asc(), id_column.asc())
    backward = (column.asc(), id_column.asc()) if sort.descending else (column.desc(), id_column.desc())
    ordered = query.order_by(None).order_by(*forward)
    page = max(page, 1)

    def past(mark, onward: bool):
        bound = tuple_(literal(mark[0], column.type), literal(mark[1]))
        return key < bound if onward == sort.descending else key > bound

    if (mark := _parse_cursor(after, column)) is not None:
        rows = session.scalars(ordered.where(past(mark, True)).limit(per_page + 1)).all()
        has_prev, has_next, items = True, len(rows) > per_page, rows[:per_page]
    elif (mark := _parse_cursor(before, column)) is not None:
        earlier = query.order_by(None).order_by(*backward).where(past(mark, False))
        rows = session.scalars(earlier.limit(per_page + 1)).all()
        has_prev, has_next, items = len(rows) > per_page, True, rows[:per_page][::-1]
        page = page if has_prev else 1
    else:
        rows = session.scalars(ordered.offset((page - 1) * per_page).limit(per_page + 1)).all()
        has_prev, has_next, items = page > 1, len(rows) > per_page, rows[:per_page]
    capped = query.with_only_columns(id_column).order_by(None).limit(count_cap + 1).subquery()
    total = session.scalar(select(func.count()).select_from(capped))
    items = list(items)
    cursor_of = [column.key, id_column.key]
    return KeysetPage(
        items=items,
        page=max(page, 1),
        has_prev=has_prev,
        has_next=has_next,
        total=min(total, count_cap),
        total_is_floor=total > count_cap,
        per_page=per_page,
        first_cursor=_cursor(*(getattr(items[0], name) for name in cursor_of)) if items else "",
        last_cursor=_cursor(*(getattr(items[-1], name) for name in cursor_of)) if items else "",
    )


def _request_position() -> dict:
    """Where the request asks a list to be: ?page=, ?after= and ?before=."""
    from flask import request

    from core.ids import page_number

    return {
        "page": request.args.get("page", 1, type=page_number) or 1,
        "after": request.args.get("after"),
        "before": request.args.get("before"),
    }


def request_page(query: Select, *, sort: Sort, id_column, per_page: int, session) -> KeysetPage:
    """`keyset_page` at the request's ?page=, ?after= and ?before=."""
    return keyset_page(
        query, sort=sort, id_column=id_column, per_page=per_page, session=session, **_request_position()
    )


def request_slice(rows: list, *, sort: TextSort, ident, per_page: int) -> KeysetPage:
    """`keyset_slice` at the request's ?page=, ?after= and ?before=."""
    return keyset_slice(rows, sort=sort, ident=ident, per_page=per_page, **_request_position())


def list_args(filters: dict, sort: Sort | TextSort, sorts: list) -> dict:
    """A list's query string for its links: its filters, and a sort other than the first."""
    return {**filters, **({"sort": sort.key} if sort != sorts[0] else {})}


def keyset_slice(
    rows: list,
    *,
    sort: TextSort,
    ident,
    per_page: int,
    page: int = 1,
    after: str | None = None,
    before: str | None = None,
) -> KeysetPage:
    """One page of `rows` read outside the database (files, grouped figures), in the same
    pages and cursors as `keyset_page`: in `sort`'s order, ties by `ident(row)` (unique text
    without "_"), so a page holds its place when rows come or go before it."""
    value, descending = sort.value, sort.descending
    ordered = sorted(rows, key=lambda row: (value(row), ident(row)), reverse=descending)
    keys = [(value(row), ident(row)) for row in ordered]
    page = max(page, 1)

    def mark_of(cursor: str | None) -> tuple[str, str] | None:
        if not cursor or "_" not in cursor:  # compared, never sent to the database
            return None
        text, _, row_id = cursor.rpartition("_")
        return text, row_id

    def beyond(key, mark) -> bool:
        return key < mark if descending else key > mark

    if (mark := mark_of(after)) is not None:
        start = next((n for n, key in enumerate(keys) if beyond(key, mark)), len(keys))
        items = ordered[start : start + per_page]
        has_prev, has_next = True, start + per_page < len(ordered)
    elif (mark := mark_of(before)) is not None:
        end = next((n for n, key in enumerate(keys) if not beyond(mark, key)), len(keys))
        start = max(end - per_page, 0)
        items, has_prev, has_next = ordered[start:end], start > 0, True
        page = page if has_prev else 1
    else:
        start = (page - 1) * per_page
        items = ordered[start : start + per_page]
        has_prev, has_next = page > 1, start + per_page < len(ordered)
    return KeysetPage(
        items=items,
        page=page,
        has_prev=has_prev,
        has_next=has_next,
        total=len(ordered),
        total_is_floor=False,
        per_page=per_page,
        first_cursor="_".join((value(items[0]), ident(items[0]))) if items else "",
        last_cursor="_".join((value(items[-1]), ident(items[-1]))) if items else "",
    )


@dataclass
class BulkRequest:
    """A list's bulk action as posted: the ticked ids (valid ones, at most `limit`) and
    where to go back to (the list as it was filtered; never another site)."""

    ids: list[int]
    back: str


def bulk_request(form, name: str, *, limit: int, fallback: str) -> BulkRequest:
    """Read a bulk action's form (`name`: the checkboxes' name); refuses (400) a post
    without its CSRF token."""
    from flask import abort
    from flask_wtf import FlaskForm

    from core.ids import parse_id
    from core.views import safe_next

    if not FlaskForm().validate_on_submit():
        abort(400)
    ids = [found for value in form.getlist(name)[:limit] if (found := parse_id(value))]
    return BulkRequest(ids, safe_next(form.get("next"), fallback))
