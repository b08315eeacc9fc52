"""accounts: a session version per staff user; nurture: transactional mail by address

Revision ID: e5f6a7b8c9d0
Revises: a1c2e3f4b5d6
Create Date: 2026-12-05 07:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5f6a7b8c9d0'
down_revision = 'a1c2e3f4b5d6'
branch_labels = None
depends_on = None


def upgrade():
    # Sessions from before carry a bare user id, which the loader refuses: every staff
    # user signs in once more after the upgrade.
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
    # The per-recipient mail caps count an address's recent transactional mail.
    op.create_index('ix_messages_recipient', 'messages', ['to_address', 'created_at'])


def downgrade():
    op.drop_index('ix_messages_recipient', table_name='messages')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_version')
