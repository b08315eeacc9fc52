"""insights: assisted conversions rolled up, digest runs

Revision ID: c3d4e5f6a7b8
Revises: a9b8c7d6e5f4
Create Date: 2026-12-01 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d4e5f6a7b8'
down_revision = 'a9b8c7d6e5f4'
branch_labels = None
depends_on = None


# Assisted conversions are rolled up into insight_daily as rows of kind "assisted" (no
# schema change); days rolled up before this revision have none. The digest's record of
# what was sent, once per address and week:


def upgrade():
    op.create_table('insight_sent_digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insight_sent_digests')),
    sa.UniqueConstraint('email', 'week', name='uq_insight_sent_digests_email_week')
    )


def downgrade():
    op.drop_table('insight_sent_digests')
