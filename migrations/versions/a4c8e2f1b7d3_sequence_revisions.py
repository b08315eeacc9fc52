"""nurture: a sequence's revision history, and when an enrolled lead became an MQL

Revision ID: a4c8e2f1b7d3
Revises: a9c4e2d7b315
Create Date: 2026-12-05 13:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4c8e2f1b7d3'
down_revision = 'a9c4e2d7b315'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sequence_revisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sequence_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('snapshot', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['sequence_id'], ['sequences.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('sequence_id', 'number'),
    )
    with op.batch_alter_table('enrollments') as batch:
        batch.add_column(sa.Column('qualified_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('enrollments') as batch:
        batch.drop_column('qualified_at')
    op.drop_table('sequence_revisions')
