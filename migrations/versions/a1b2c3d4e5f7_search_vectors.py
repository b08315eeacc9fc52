"""search: article vectors (search by meaning), their embedding queue, synonym pairs proposed from searches, and the visit of a search

Revision ID: a1b2c3d4e5f7
Revises: c8d9e0f1a2b3
Create Date: 2026-12-05 07:54:22.098535

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1b2c3d4e5f7'
down_revision = 'c8d9e0f1a2b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('search_synonym_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first', sa.String(length=200), nullable=False),
    sa.Column('second', sa.String(length=200), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('strength', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_search_synonym_proposals_decided_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_synonym_proposals')),
    sa.UniqueConstraint('first', 'second', name='uq_search_synonym_proposals_pair')
    )
    with op.batch_alter_table('search_synonym_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_synonym_proposals_status'), ['status'], unique=False)

    op.create_table('search_embedding_jobs',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('queued_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_search_embedding_jobs_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_search_embedding_jobs'))
    )
    op.create_table('search_vectors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('passage', sa.Integer(), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('model', sa.String(length=60), nullable=False),
    sa.Column('embedded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_search_vectors_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_vectors')),
    sa.UniqueConstraint('article_id', 'passage', name='uq_search_vectors_article_passage')
    )
    with op.batch_alter_table('search_vectors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_vectors_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_vectors_embedded_at'), ['embedded_at'], unique=False)

    with op.batch_alter_table('search_queries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit', sa.String(length=32), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('search_queries', schema=None) as batch_op:
        batch_op.drop_column('visit')

    with op.batch_alter_table('search_vectors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_vectors_embedded_at'))
        batch_op.drop_index(batch_op.f('ix_search_vectors_article_id'))

    op.drop_table('search_vectors')
    op.drop_table('search_embedding_jobs')
    with op.batch_alter_table('search_synonym_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_synonym_proposals_status'))

    op.drop_table('search_synonym_proposals')
