"""gated: submissions held until a person confirms them, and proof-of-work solutions already used

Revision ID: 08f37ce44f54
Revises: b5c6d7e8f9a0
Create Date: 2026-12-05 07:16:02.993304

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '08f37ce44f54'
down_revision = 'b5c6d7e8f9a0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('used_challenges',
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('signature', name=op.f('pk_used_challenges'))
    )
    with op.batch_alter_table('used_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_challenges_expires_at'), ['expires_at'], unique=False)

    op.create_table('held_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form', sa.String(length=20), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('known_lead_id', sa.Integer(), nullable=True),
    sa.Column('consent_shown', sa.Boolean(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=500), nullable=True),
    sa.Column('referrer', sa.String(length=500), nullable=False),
    sa.Column('landing_page', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_held_submissions_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['released_by_id'], ['users.id'], name=op.f('fk_held_submissions_released_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_held_submissions_submission_id_submissions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_submissions'))
    )
    with op.batch_alter_table('held_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_submissions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_held_submissions_email'), ['email'], unique=False)



def downgrade():
    with op.batch_alter_table('held_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_submissions_email'))
        batch_op.drop_index(batch_op.f('ix_held_submissions_created_at'))

    op.drop_table('held_submissions')
    with op.batch_alter_table('used_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_challenges_expires_at'))

    op.drop_table('used_challenges')
