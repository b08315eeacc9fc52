"""The lead list's free-text search ("q"): a substring of the email, name or company,
answered from an index on both databases, so it stays flat as the lead table grows.

- PostgreSQL: `ILIKE` on the three columns, each with a trigram GIN index (`pg_trgm`,
  declared on the Lead model; the extension is created before the table).
- SQLite: an FTS5 table with the trigram tokenizer, `leads_search`, kept in step with
  `leads` by triggers (an external-content table: it stores only the index, not a copy).

Both need three characters to use the index (a trigram); shorter text falls back to a
case-insensitive LIKE over the table, which is what a one- or two-letter search needs
anyway. `%` and `_` typed in the search box are matched as themselves.
"""

from __future__ import annotations

from sqlalchemy import DDL, ColumnElement, column, event, or_, select, table, text

from core.extensions import db
from core.schema import unmanaged_tables

FTS_TABLE = "leads_search"
# The SQLite objects this module creates next to `leads`: the migrations' drift check
# skips them (they are not models).
SQLITE_OBJECTS = (
    FTS_TABLE,
    f"{FTS_TABLE}_data",
    f"{FTS_TABLE}_idx",
    f"{FTS_TABLE}_docsize",
    f"{FTS_TABLE}_config",
)
MIN_INDEXED_LENGTH = 3
_ESCAPE = "\\"

SQLITE_CREATE = (
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    "email, name, company, content='leads', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER {FTS_TABLE}_ai AFTER INSERT ON leads BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, email, name, company) VALUES (new.id, new.email, new.name, new.company); END",
    f"CREATE TRIGGER {FTS_TABLE}_ad AFTER DELETE ON leads BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, email, name, company) "
    "VALUES ('delete', old.id, old.email, old.name, old.company); END",
    f"CREATE TRIGGER {FTS_TABLE}_au AFTER UPDATE OF email, name, company ON leads BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, email, name, company) "
    "VALUES ('delete', old.id, old.email, old.name, old.company); "
    f"INSERT INTO {FTS_TABLE}(rowid, email, name, company) VALUES (new.id, new.email, new.name, new.company); END",
    # Index the rows already there (a migration on a filled database; nothing on a new one).
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
)
TRIGGERS = (f"{FTS_TABLE}_ai", f"{FTS_TABLE}_ad", f"{FTS_TABLE}_au")
# The triggers go first: left behind, they would make every INSERT into leads fail.
SQLITE_DROP = (*(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS), f"DROP TABLE IF EXISTS {FTS_TABLE}")
POSTGRES_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"

_fts = table(FTS_TABLE, column("rowid"))


def install(lead_table) -> None:
    """Create the search objects with the leads table (create_all: tests, `flask demo`)."""
    unmanaged_tables(lead_table.metadata).update(SQLITE_OBJECTS)
    event.listen(lead_table, "before_create", DDL(POSTGRES_EXTENSION).execute_if(dialect="postgresql"))
    for statement in SQLITE_CREATE:
        event.listen(lead_table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in SQLITE_DROP:
        event.listen(lead_table, "before_drop", DDL(statement).execute_if(dialect="sqlite"))


def _like_pattern(q: str) -> str:
    escaped = q.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    return f"%{escaped}%"


def matches(q: str) -> ColumnElement[bool]:
    """Leads whose email, name or company contains q, ignoring case."""
    from gated.models import Lead  # models import this module to install the DDL

    pattern = _like_pattern(q)
    by_like = or_(*(field.ilike(pattern, escape=_ESCAPE) for field in (Lead.email, Lead.name, Lead.company)))
    if db.engine.dialect.name != "sqlite" or len(q) < MIN_INDEXED_LENGTH:
        return by_like
    # A quoted FTS5 string is a phrase: with the trigram tokenizer, a substring.
    phrase = '"' + q.replace('"', '""') + '"'
    return Lead.id.in_(
        select(_fts.c.rowid).where(text(f"{FTS_TABLE} MATCH :lead_text").bindparams(lead_text=phrase))
    )
