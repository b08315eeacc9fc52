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
    op.create_table('assistant_tiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('route', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistant_tiers')),
    sa.UniqueConstraint('level', name=op.f('uq_assistant_tiers_level'))
    )
    op.create_table('assistant_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('domains', sa.String(length=500), nullable=False),
    sa.Column('contacts', sa.Text(), nullable=False),
    sa.Column('tier_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_assistant_accounts_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tier_id'], ['assistant_tiers.id'], name=op.f('fk_assistant_accounts_tier_id_assistant_tiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistant_accounts'))
    )
    with op.batch_alter_table('assistant_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assistant_accounts_tier_id'), ['tier_id'], unique=False)

    op.create_table('assistant_conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('tier_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['assistant_accounts.id'], name=op.f('fk_assistant_conversations_account_id_assistant_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tier_id'], ['assistant_tiers.id'], name=op.f('fk_assistant_conversations_tier_id_assistant_tiers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistant_conversations'))
    )
    with op.batch_alter_table('assistant_conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assistant_conversations_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assistant_conversations_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_assistant_conversations_status'), ['status'], unique=False)

    op.create_table('assistant_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('offered', sa.JSON(), nullable=False),
    sa.Column('answer', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['assistant_conversations.id'], name=op.f('fk_assistant_rounds_conversation_id_assistant_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistant_rounds'))
    )
    with op.batch_alter_table('assistant_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assistant_rounds_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('assistant_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('route', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['assistant_accounts.id'], name=op.f('fk_assistant_tickets_account_id_assistant_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['assistant_conversations.id'], name=op.f('fk_assistant_tickets_conversation_id_assistant_conversations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_assistant_tickets_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_assistant_tickets_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistant_tickets')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_assistant_tickets_conversation_id'))
    )
    with op.batch_alter_table('assistant_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assistant_tickets_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_assistant_tickets_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('assistant_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assistant_tickets_status'))
        batch_op.drop_index(batch_op.f('ix_assistant_tickets_created_at'))

    op.drop_table('assistant_tickets')
    with op.batch_alter_table('assistant_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assistant_rounds_conversation_id'))

    op.drop_table('assistant_rounds')
    with op.batch_alter_table('assistant_conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assistant_conversations_status'))
        batch_op.drop_index(batch_op.f('ix_assistant_conversations_created_at'))
        batch_op.drop_index(batch_op.f('ix_assistant_conversations_account_id'))

    op.drop_table('assistant_conversations')
    with op.batch_alter_table('assistant_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assistant_accounts_tier_id'))

    op.drop_table('assistant_accounts')
    op.drop_table('assistant_tiers')
