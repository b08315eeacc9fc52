"""assistant: a ticket's mobile number (a hand-over by phone, without an email)

Revision ID: a4c1e7d2b9f0
Revises: 3b7e91c4d2a6
Create Date: 2026-12-05 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4c1e7d2b9f0'
down_revision = '3b7e91c4d2a6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assistant_tickets') as batch:
        batch.add_column(sa.Column('phone', sa.String(length=40), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('assistant_tickets') as batch:
        batch.drop_column('phone')
