"""campaigns: resend to non-openers (after, subject, when queued) and campaign mail events
(clicks per link for the report's click map, complaints)

Revision ID: 88d6698228e7
Revises: df4adff78be0
Create Date: 2026-12-05 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '88d6698228e7'
down_revision = 'df4adff78be0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resend_after_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('resend_subject', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('resend_queued_at', sa.DateTime(), nullable=True))
    op.create_table('campaign_mail_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_campaign_mail_events_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_mail_events'))
    )
    with op.batch_alter_table('campaign_mail_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_mail_events_message_id'), ['message_id'], unique=False)


def downgrade():
    with op.batch_alter_table('campaign_mail_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_mail_events_message_id'))
    op.drop_table('campaign_mail_events')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('resend_queued_at')
        batch_op.drop_column('resend_subject')
        batch_op.drop_column('resend_after_minutes')
