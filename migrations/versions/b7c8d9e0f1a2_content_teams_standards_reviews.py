"""content: teams, standards per kind, review dates and verifications

Revision ID: b7c8d9e0f1a2
Revises: a4c1e7d2b9f0
Create Date: 2026-12-05 13:30:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c8d9e0f1a2'
down_revision = 'a4c1e7d2b9f0'
branch_labels = None
depends_on = None

# The default teams and each kind's standard (content.standards.DEFAULTS as of this
# migration): a new site has them without the demo.
TEAMS = ['产品', '客服', '客户成功', '售前', '市场']
STANDARDS = [
    ('help', 2, '## 操作步骤\n\n1. \n2. \n\n## 截图\n\n', ['summary', 'category'],
     ['已按当前版本把步骤实际操作一遍', '截图与当前界面一致'], 6),
    ('whitepaper', 5, '', ['summary'], ['数据与引用已注明来源', '下载文件为最新版本'], 12),
    ('case-study', 3, '## 客户背景\n\n## 挑战\n\n## 方案\n\n## 成效\n\n', ['summary'],
     ['客户已同意公开', '数据已与客户确认'], 12),
    ('solution', 4, '## 行业挑战\n\n## 解决方案\n\n## 客户价值\n\n', ['summary'], ['与当前产品能力一致'], 12),
    ('blog', 5, '', ['summary'], ['标题与摘要准确，不夸大'], 12),
]


def upgrade():
    teams = op.create_table(
        'teams',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name', name='uq_teams_name'),
    )
    op.create_table(
        'team_members',
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('reviewer', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('team_id', 'user_id'),
    )
    op.create_table(
        'category_teams',
        sa.Column('category', sa.String(length=120), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('category'),
    )
    op.create_index('ix_category_teams_team_id', 'category_teams', ['team_id'])
    standards = op.create_table(
        'kind_standards',
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('template_md', sa.Text(), nullable=False),
        sa.Column('required_fields', sa.JSON(), nullable=False),
        sa.Column('checklist', sa.JSON(), nullable=False),
        sa.Column('review_months', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('kind'),
    )
    op.create_table(
        'article_verifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('verified_at', sa.DateTime(), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_article_verifications_article_id', 'article_verifications', ['article_id'])
    op.create_table(
        'review_mails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('week', 'email', name='uq_review_mails_week_email'),
    )
    with op.batch_alter_table('articles') as batch:
        batch.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('verified_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('checklist', sa.JSON(), nullable=True))
        batch.create_foreign_key('fk_articles_team_id_teams', 'teams', ['team_id'], ['id'], ondelete='SET NULL')
        batch.create_index('ix_articles_team_id', ['team_id'])

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(teams, [{'id': number, 'name': name, 'created_at': now} for number, name in enumerate(TEAMS, 1)])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SELECT setval('teams_id_seq', 5)")
    op.bulk_insert(standards, [
        {'kind': kind, 'team_id': team, 'template_md': template, 'required_fields': required,
         'checklist': checklist, 'review_months': months, 'updated_at': now}
        for kind, team, template, required, checklist, months in STANDARDS
    ])
    # Existing articles: owned by their kind's team, as new ones will be.
    for kind, team, *_rest in STANDARDS:
        op.execute(sa.text('UPDATE articles SET team_id = :team WHERE kind = :kind').bindparams(team=team, kind=kind))


def downgrade():
    with op.batch_alter_table('articles') as batch:
        batch.drop_index('ix_articles_team_id')
        batch.drop_constraint('fk_articles_team_id_teams', type_='foreignkey')
        batch.drop_column('checklist')
        batch.drop_column('verified_at')
        batch.drop_column('team_id')
    op.drop_table('review_mails')
    op.drop_index('ix_article_verifications_article_id', table_name='article_verifications')
    op.drop_table('article_verifications')
    op.drop_table('kind_standards')
    op.drop_index('ix_category_teams_team_id', table_name='category_teams')
    op.drop_table('category_teams')
    op.drop_table('team_members')
    op.drop_table('teams')
