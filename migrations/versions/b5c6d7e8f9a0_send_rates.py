"""nurture: the send-rate limit shared by every worker, per SMTP provider

Revision ID: b5c6d7e8f9a0
Revises: d4e5f6a7b8c9
Create Date: 2026-12-01 06:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5c6d7e8f9a0'
down_revision = 'd4e5f6a7b8c9'
branch_labels = None
depends_on = None


def upgrade():
    # Empty at first: the hour's reservations start from none, so in the first hour after
    # the upgrade a provider may get what was sent before it on top of MAIL_RATE_PER_HOUR.
    op.create_table('send_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=255), nullable=False),
    sa.Column('next_slot', sa.Double(), nullable=False),
    sa.Column('hour', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_send_rates')),
    sa.UniqueConstraint('provider', name=op.f('uq_send_rates_provider'))
    )


def downgrade():
    op.drop_table('send_rates')
