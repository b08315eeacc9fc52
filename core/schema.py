"""Schema helpers shared by the packages: the INSERT of the database in use (for its
ON CONFLICT clauses), and what the migrations' comparison with the models should leave out.

Two kinds of schema object are not plain models: indexes declared for one database only
(`Index(...).ddl_if(dialect=...)`, which Alembic's comparison does not know about), and
tables a package creates beside its models with raw DDL (SQLite FTS5 tables and their
shadow tables), which the package lists in `db.metadata.info["unmanaged_tables"]`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import MetaData


def upsert_insert(bind, table):
    """`insert(table)` of the bind's database (PostgreSQL's or SQLite's), which offer the
    same `on_conflict_do_nothing` / `on_conflict_do_update`; the other databases we run on
    have none."""
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def unmanaged_tables(metadata: MetaData) -> set[str]:
    """The names of tables kept by raw DDL beside the models (mutable: packages add to it)."""
    return metadata.info.setdefault("unmanaged_tables", set())


def include_object(metadata: MetaData, dialect_name: str) -> Callable[..., bool]:
    """An Alembic `include_object` for a database of this dialect."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table" and reflected and name in unmanaged_tables(metadata):
            return False
        if type_ == "index":
            model_index = compare_to if reflected else obj
            condition = getattr(model_index, "_ddl_if", None)
            if condition is not None and condition.dialect and condition.dialect != dialect_name:
                return False
        return True

    return include
