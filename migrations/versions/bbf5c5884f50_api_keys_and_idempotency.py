"""api: API keys, the answers kept for idempotent writes, and the CRM sync's links, runs, log and webhook receipts

Revision ID: bbf5c5884f50
Revises: 6b680f4a9533
Create Date: 2026-12-05 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bbf5c5884f50'
down_revision = '6b680f4a9533'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('prefix', sa.String(length=20), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_keys_created_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
        sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix')),
    )
    op.create_table(
        'api_idempotency',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('api_key_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('body', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_api_idempotency_api_key_id_api_keys'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_idempotency')),
        sa.UniqueConstraint('api_key_id', 'key', name=op.f('uq_api_idempotency_api_key_id_key')),
    )
    op.create_index(op.f('ix_api_idempotency_created_at'), 'api_idempotency', ['created_at'], unique=False)
    op.create_table(
        'crm_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('crm', sa.String(length=40), nullable=False),
        sa.Column('lead_id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.String(length=64), nullable=True),
        sa.Column('pushed_hash', sa.String(length=64), nullable=False),
        sa.Column('pushed_at', sa.DateTime(), nullable=True),
        sa.Column('push_due_at', sa.DateTime(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_crm_links_lead_id_leads'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_links')),
        sa.UniqueConstraint('crm', 'lead_id', name=op.f('uq_crm_links_crm_lead_id')),
        sa.UniqueConstraint('crm', 'record_id', name=op.f('uq_crm_links_crm_record_id')),
    )
    op.create_index(op.f('ix_crm_links_lead_id'), 'crm_links', ['lead_id'], unique=False)
    op.create_index(op.f('ix_crm_links_push_due_at'), 'crm_links', ['push_due_at'], unique=False)
    op.create_table(
        'crm_sync_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('crm', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('watermark', sa.DateTime(), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_sync_runs')),
    )
    op.create_index(op.f('ix_crm_sync_runs_started_at'), 'crm_sync_runs', ['started_at'], unique=False)
    op.create_table(
        'crm_sync_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('crm', sa.String(length=40), nullable=False),
        sa.Column('lead_id', sa.Integer(), nullable=True),
        sa.Column('record_id', sa.String(length=64), nullable=False),
        sa.Column('direction', sa.String(length=10), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('detail', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_crm_sync_entries_lead_id_leads'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['run_id'], ['crm_sync_runs.id'], name=op.f('fk_crm_sync_entries_run_id_crm_sync_runs'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_sync_entries')),
    )
    op.create_index(op.f('ix_crm_sync_entries_created_at'), 'crm_sync_entries', ['created_at'], unique=False)
    op.create_index(op.f('ix_crm_sync_entries_lead_id'), 'crm_sync_entries', ['lead_id'], unique=False)
    op.create_index(op.f('ix_crm_sync_entries_run_id'), 'crm_sync_entries', ['run_id'], unique=False)
    op.create_table(
        'crm_webhook_receipts',
        sa.Column('signature', sa.String(length=64), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('signature', name=op.f('pk_crm_webhook_receipts')),
    )
    op.create_index(op.f('ix_crm_webhook_receipts_received_at'), 'crm_webhook_receipts', ['received_at'], unique=False)


def downgrade():
    op.drop_table('crm_webhook_receipts')
    op.drop_table('crm_sync_entries')
    op.drop_table('crm_sync_runs')
    op.drop_table('crm_links')
    op.drop_index(op.f('ix_api_idempotency_created_at'), table_name='api_idempotency')
    op.drop_table('api_idempotency')
    op.drop_table('api_keys')
