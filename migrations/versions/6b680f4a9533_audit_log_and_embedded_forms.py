"""accounts: the audit log of staff actions; gated: where each form may be embedded and
the sites it is seen on

Revision ID: 6b680f4a9533
Revises: e5f6a7b8c9d0
Create Date: 2026-12-05 10:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6b680f4a9533'
down_revision = 'e5f6a7b8c9d0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_entries',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL'), nullable=True),
        sa.Column('user_email', sa.String(254), nullable=False),
        sa.Column('action', sa.String(60), nullable=False),
        sa.Column('target', sa.String(120), nullable=False),
        sa.Column('ip', sa.String(45), nullable=False),
        sa.Column('user_agent', sa.String(300), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
    )
    op.create_index('ix_audit_entries_at', 'audit_entries', ['at'])
    op.create_index('ix_audit_entries_user_id', 'audit_entries', ['user_id'])
    op.create_index('ix_audit_entries_action', 'audit_entries', ['action'])
    op.create_table(
        'embed_settings',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('form', sa.String(200), nullable=False, unique=True),
        sa.Column('origins', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'embed_sightings',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('form', sa.String(200), nullable=False),
        sa.Column('origin', sa.String(200), nullable=False),
        sa.Column('first_seen_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('submissions', sa.Integer(), nullable=False, server_default='0'),
        sa.UniqueConstraint('form', 'origin', name='uq_embed_sightings_form_origin'),
    )


def downgrade():
    op.drop_table('embed_sightings')
    op.drop_table('embed_settings')
    op.drop_index('ix_audit_entries_action', table_name='audit_entries')
    op.drop_index('ix_audit_entries_user_id', table_name='audit_entries')
    op.drop_index('ix_audit_entries_at', table_name='audit_entries')
    op.drop_table('audit_entries')
