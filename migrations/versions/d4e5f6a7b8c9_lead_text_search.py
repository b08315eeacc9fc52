"""lead text search: trigram indexes (PostgreSQL), an FTS5 trigram table (SQLite)

Revision ID: d4e5f6a7b8c9
Revises: c3d4e5f6a7b8
Create Date: 2026-12-01 04:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd4e5f6a7b8c9'
down_revision = 'c3d4e5f6a7b8'
branch_labels = None
depends_on = None

COLUMNS = ('email', 'name', 'company')
# A copy of gated/textsearch.py's DDL as of this revision (a migration must not change
# when that module does).
FTS = 'leads_search'
SQLITE_CREATE = (
    f"DROP TABLE IF EXISTS {FTS}",
    f"CREATE VIRTUAL TABLE {FTS} USING fts5("
    "email, name, company, content='leads', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER {FTS}_ai AFTER INSERT ON leads BEGIN "
    f"INSERT INTO {FTS}(rowid, email, name, company) VALUES (new.id, new.email, new.name, new.company); END",
    f"CREATE TRIGGER {FTS}_ad AFTER DELETE ON leads BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, email, name, company) "
    "VALUES ('delete', old.id, old.email, old.name, old.company); END",
    f"CREATE TRIGGER {FTS}_au AFTER UPDATE OF email, name, company ON leads BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, email, name, company) "
    "VALUES ('delete', old.id, old.email, old.name, old.company); "
    f"INSERT INTO {FTS}(rowid, email, name, company) VALUES (new.id, new.email, new.name, new.company); END",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
)


def upgrade():
    # The lead list's `q=` search read every lead (LIKE '%…%' can use no B-tree); see
    # gated/textsearch.py. pg_trgm is a trusted extension (PostgreSQL 13+): the
    # database's owner may create it without being a superuser.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for column in COLUMNS:
            op.create_index(
                f'ix_leads_{column}_trgm', 'leads', [column],
                postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'},
            )
    elif op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_CREATE:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for column in COLUMNS:
            op.drop_index(f'ix_leads_{column}_trgm', table_name='leads')
    elif op.get_bind().dialect.name == 'sqlite':
        # The triggers first: left behind, they would make every INSERT into leads fail.
        for suffix in ('ai', 'ad', 'au'):
            op.execute(f"DROP TRIGGER IF EXISTS {FTS}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
