"""An article's related articles chosen by its editor

Revision ID: c5d1e8a3f290
Revises: 7d4c2a9e5b18
Create Date: 2026-12-05 15:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c5d1e8a3f290"
down_revision = "7d4c2a9e5b18"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("related", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("related")
