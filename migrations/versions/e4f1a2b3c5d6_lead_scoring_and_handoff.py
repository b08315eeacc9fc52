"""lead scoring and hand-off

Revision ID: e4f1a2b3c5d6
Revises: cd1beaa0d59a
Create Date: 2026-12-01 00:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4f1a2b3c5d6'
down_revision = 'cd1beaa0d59a'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
