"""help assistant

Revision ID: f7a8b9c0d1e2
Revises: e4f1a2b3c5d6
Create Date: 2026-12-01 00:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f7a8b9c0d1e2'
down_revision = 'e4f1a2b3c5d6'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
