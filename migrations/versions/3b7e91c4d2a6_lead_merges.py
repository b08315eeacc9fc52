"""gated: the log of lead merges, with what undo needs

Revision ID: 3b7e91c4d2a6
Revises: fd4ed16af06b
Create Date: 2026-12-05 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b7e91c4d2a6'
down_revision = 'fd4ed16af06b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'lead_merges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lead_id', sa.Integer(), nullable=False),
        sa.Column('merged_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('chosen', sa.JSON(), nullable=False),
        sa.Column('snapshot', sa.JSON(), nullable=False),
        sa.Column('undone_at', sa.DateTime(), nullable=True),
        sa.Column('undone_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['undone_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_lead_merges_lead_id', 'lead_merges', ['lead_id'])
    op.create_index('ix_lead_merges_merged_id', 'lead_merges', ['merged_id'])


def downgrade():
    op.drop_index('ix_lead_merges_merged_id', table_name='lead_merges')
    op.drop_index('ix_lead_merges_lead_id', table_name='lead_merges')
    op.drop_table('lead_merges')
