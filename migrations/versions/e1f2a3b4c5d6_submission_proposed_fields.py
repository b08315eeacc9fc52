"""gated: the profile values a submission proposed that the lead did not take

Revision ID: e1f2a3b4c5d6
Revises: 08f37ce44f54
Create Date: 2026-12-05 07:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e1f2a3b4c5d6'
down_revision = '08f37ce44f54'
branch_labels = None
depends_on = None


def upgrade():
    # Earlier submissions were all applied (the last one won): none held anything back.
    op.add_column(
        'submissions',
        sa.Column('proposed_fields', sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade():
    op.drop_column('submissions', 'proposed_fields')
