"""nurture: topics move to every marketing mail (sequences and messages name one), each
lead's topic choices, opt-in-only topics; gated: a lead's locale, time zone and tags

Revision ID: df4adff78be0
Revises: 58df4b784961
Create Date: 2026-12-05 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'df4adff78be0'
down_revision = '58df4b784961'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('topics') as batch:
        batch.add_column(sa.Column('description', sa.String(length=500), server_default='', nullable=False))
        batch.add_column(sa.Column('opt_in_only', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('topic_choices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_topic_choices_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_topic_choices_topic_id_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topic_choices')),
    sa.UniqueConstraint('lead_id', 'topic_id', name=op.f('uq_topic_choices_lead_id_topic_id'))
    )
    op.create_index(op.f('ix_topic_choices_lead_id'), 'topic_choices', ['lead_id'], unique=False)
    op.create_index(op.f('ix_topic_choices_topic_id'), 'topic_choices', ['topic_id'], unique=False)
    with op.batch_alter_table('sequences') as batch:
        batch.add_column(sa.Column('topic_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_sequences_topic_id'), ['topic_id'], unique=False)
        batch.create_foreign_key(batch.f('fk_sequences_topic_id_topics'), 'topics', ['topic_id'], ['id'])
    # The topic of the mails that follow what a person downloaded or asked for: leaving
    # the newsletter must not stop them. Every sequence so far is such a follow-up.
    op.execute(
        "INSERT INTO topics (slug, name, description, opt_in_only) "
        "SELECT 'follow-up', '资料跟进', '您下载资料或提出咨询后，我们发送的后续邮件', false "
        "WHERE NOT EXISTS (SELECT 1 FROM topics WHERE slug = 'follow-up')"
    )
    op.execute("UPDATE sequences SET topic_id = (SELECT min(id) FROM topics WHERE slug = 'follow-up')")
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('topic_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f('fk_messages_topic_id_topics'), 'topics', ['topic_id'], ['id'], ondelete='SET NULL'
        )
    with op.batch_alter_table('leads') as batch:
        batch.add_column(sa.Column('locale', sa.String(length=10), server_default='', nullable=False))
        batch.add_column(sa.Column('timezone', sa.String(length=64), server_default='', nullable=False))
    op.create_table('lead_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_tags_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_tags')),
    sa.UniqueConstraint('lead_id', 'tag', name=op.f('uq_lead_tags_lead_id_tag'))
    )
    op.create_index('ix_lead_tags_tag', 'lead_tags', ['tag'], unique=False)


def downgrade():
    op.drop_index('ix_lead_tags_tag', table_name='lead_tags')
    op.drop_table('lead_tags')
    with op.batch_alter_table('leads') as batch:
        batch.drop_column('timezone')
        batch.drop_column('locale')
    with op.batch_alter_table('messages') as batch:
        batch.drop_constraint(batch.f('fk_messages_topic_id_topics'), type_='foreignkey')
        batch.drop_column('topic_id')
    with op.batch_alter_table('sequences') as batch:
        batch.drop_constraint(batch.f('fk_sequences_topic_id_topics'), type_='foreignkey')
        batch.drop_index(batch.f('ix_sequences_topic_id'))
        batch.drop_column('topic_id')
    op.drop_index(op.f('ix_topic_choices_topic_id'), table_name='topic_choices')
    op.drop_index(op.f('ix_topic_choices_lead_id'), table_name='topic_choices')
    op.drop_table('topic_choices')
    with op.batch_alter_table('topics') as batch:
        batch.drop_column('opt_in_only')
        batch.drop_column('description')
