"""insights: the hand-off desk's reason code, note and escalation time

Revision ID: 7d4c2a9e5b18
Revises: a4c8e2f1b7d3
Create Date: 2026-12-05 13:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d4c2a9e5b18'
down_revision = 'a4c8e2f1b7d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lead_handoffs") as batch:
        batch.add_column(sa.Column("reason_code", sa.String(length=20), nullable=False, server_default=""))
        batch.add_column(sa.Column("note", sa.String(length=1000), nullable=False, server_default=""))
        batch.add_column(sa.Column("escalated_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("lead_handoffs") as batch:
        batch.drop_column("escalated_at")
        batch.drop_column("note")
        batch.drop_column("reason_code")
