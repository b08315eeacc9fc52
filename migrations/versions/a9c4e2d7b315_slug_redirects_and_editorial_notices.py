"""content: old slugs that redirect, and editorial notices (review, published, returned)

Revision ID: a9c4e2d7b315
Revises: b7c8d9e0f1a2
Create Date: 2026-12-05 13:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9c4e2d7b315'
down_revision = 'b7c8d9e0f1a2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'article_slug_redirects',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('old_slug', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('old_slug'),
    )
    op.create_index('ix_article_slug_redirects_article_id', 'article_slug_redirects', ['article_id'])
    op.create_table(
        'editorial_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_editorial_notices_user_id', 'editorial_notices', ['user_id'])
    op.create_index('ix_editorial_notices_article_id', 'editorial_notices', ['article_id'])


def downgrade():
    op.drop_index('ix_editorial_notices_article_id', table_name='editorial_notices')
    op.drop_index('ix_editorial_notices_user_id', table_name='editorial_notices')
    op.drop_table('editorial_notices')
    op.drop_index('ix_article_slug_redirects_article_id', table_name='article_slug_redirects')
    op.drop_table('article_slug_redirects')
