"""gated: a lead known by email or mobile number (each unique where given), SMS codes;
nurture: the SMS queue

Revision ID: fd4ed16af06b
Revises: 88d6698228e7
Create Date: 2026-12-05 10:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fd4ed16af06b'
down_revision = '88d6698228e7'
branch_labels = None
depends_on = None

# A copy of gated/textsearch.py's SQLite DDL as of this revision: rebuilding `leads` on
# SQLite drops the triggers that keep the search table in step.
FTS = 'leads_search'
SQLITE_FTS = (
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
IDENTITY = ('email', 'phone')


def _sqlite_rebuild(change):
    """Run a batch change that rebuilds `leads` on SQLite with foreign keys off: the
    rebuild drops the old table, and with them on, that would cascade to every
    submission. PRAGMA foreign_keys is ignored inside a transaction, so the one open
    (earlier revisions of this upgrade) is committed first."""
    bind = op.get_bind()
    raw = bind.connection.dbapi_connection
    if raw.in_transaction:
        raw.commit()
    bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
    try:
        for name in ('ai', 'ad', 'au'):
            op.execute(f'DROP TRIGGER IF EXISTS {FTS}_{name}')
        change()
        for statement in SQLITE_FTS:
            op.execute(statement)
        problems = bind.exec_driver_sql('PRAGMA foreign_key_check').fetchall()
        if problems:
            raise RuntimeError(f'foreign keys broken by the rebuild of leads: {problems[:5]}')
        if raw.in_transaction:
            raw.commit()
    finally:
        bind.exec_driver_sql('PRAGMA foreign_keys=ON')


def upgrade():
    bind = op.get_bind()
    # A number held by several leads stays on the oldest; the others keep it in their
    # submissions (as typed), for staff to merge them.
    op.execute(
        "UPDATE leads SET phone = '' WHERE phone <> '' AND id NOT IN "
        "(SELECT MIN(id) FROM leads WHERE phone <> '' GROUP BY phone)"
    )

    def change():
        with op.batch_alter_table('leads', recreate='always' if bind.dialect.name == 'sqlite' else 'auto') as batch:
            batch.drop_constraint('uq_leads_email', type_='unique')
            for name in IDENTITY:
                batch.create_index(
                    f'uq_leads_{name}_given', [name], unique=True,
                    sqlite_where=sa.text(f"{name} <> ''"), postgresql_where=sa.text(f"{name} <> ''"),
                )

    if bind.dialect.name == 'sqlite':
        _sqlite_rebuild(change)
    else:
        change()

    op.create_table('phone_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_codes'))
    )
    with op.batch_alter_table('phone_codes', schema=None) as batch_op:
        batch_op.create_index('ix_phone_codes_phone_created_at', ['phone', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_phone_codes_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_phone_codes_ip'), ['ip'], unique=False)

    op.create_table('sms_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('to_number', sa.String(length=20), nullable=False),
    sa.Column('template', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('secret_params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_sms_messages_lead_id_leads'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_messages'))
    )
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.create_index('ix_sms_messages_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_messages_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_messages_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_messages_to_number'), ['to_number'], unique=False)


def downgrade():
    op.drop_table('sms_messages')
    op.drop_table('phone_codes')
    bind = op.get_bind()

    def change():
        with op.batch_alter_table('leads', recreate='always' if bind.dialect.name == 'sqlite' else 'auto') as batch:
            for name in IDENTITY:
                batch.drop_index(f'uq_leads_{name}_given')
            batch.create_unique_constraint('uq_leads_email', ['email'])

    # Leads known by a number alone have no address to be keyed by on the old schema.
    op.execute("DELETE FROM leads WHERE email = ''")
    if bind.dialect.name == 'sqlite':
        _sqlite_rebuild(change)
    else:
        change()
