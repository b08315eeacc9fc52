"""indexes for scale

Revision ID: a9b8c7d6e5f4
Revises: f7a8b9c0d1e2
Create Date: 2026-12-01 00:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9b8c7d6e5f4'
down_revision = 'f7a8b9c0d1e2'
branch_labels = None
depends_on = None


def upgrade():
    # The lead list orders by (created_at, id) and its Next/Previous links seek on that
    # pair, alone or after a stage or source filter: composite indexes serve each (and
    # replace the single-column ones, which are their prefixes).
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index('ix_leads_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_leads_stage_created_at_id', ['stage', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_leads_source_created_at_id', ['source', 'created_at', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_leads_created_at'))
        batch_op.drop_index(batch_op.f('ix_leads_stage'))
        batch_op.drop_index(batch_op.f('ix_leads_source'))


def downgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leads_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_stage'), ['stage'], unique=False)
        batch_op.create_index(batch_op.f('ix_leads_created_at'), ['created_at'], unique=False)
        batch_op.drop_index('ix_leads_source_created_at_id')
        batch_op.drop_index('ix_leads_stage_created_at_id')
        batch_op.drop_index('ix_leads_created_at_id')
