"""configuration a new site needs: the default lead-scoring rules and the five support tiers

Without rules no lead ever scores or reaches sales, and until now only `flask demo load`
added them. Each table gets its defaults only while it is empty, so a site whose staff
already set up rules or tiers keeps exactly what it has. The rows are written out here
rather than imported from the packages: a migration is a snapshot, and the packages'
code may change after it.

Revision ID: 6c2e9a4d1f70
Revises: e1f2a3b4c5d6
Create Date: 2026-12-05 07:40:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6c2e9a4d1f70'
down_revision = 'e1f2a3b4c5d6'
branch_labels = None
depends_on = None

# name, kind, event kind, field, pattern, points, daily cap (docs/INSIGHTS.md, "Rules")
DEFAULT_RULES = (
    ("下载资料", "action", "download", "", "", 10, 0),
    ("浏览价格页", "action", "page_view", "path", "/pricing", 15, 15),
    ("浏览页面", "action", "page_view", "", "", 1, 5),
    ("点击邮件", "action", "mail_click", "", "", 5, 0),
    ("预约演示", "action", "form_submit", "value", "demo", 30, 0),
    ("退订", "action", "unsubscribe", "", "", -20, 0),
    ("决策者", "fit", "", "role", "decision_maker", 15, 0),
    ("管理岗位", "fit", "", "job_title", "总监, 经理, director, manager, head, cto, ceo", 10, 0),
    ("免费邮箱", "fit", "", "email_domain", "qq.com, 163.com, 126.com, gmail.com, hotmail.com, outlook.com", -10, 0),
)
# level, name, route (docs/ASSISTANT.md): the two top tiers go to a person
DEFAULT_TIERS = (
    (1, "Strategic", "owner"),
    (2, "Enterprise", "owner"),
    (3, "Business", "ticket"),
    (4, "Team", "ticket"),
    (5, "Starter", "ticket"),
)

score_rules = sa.table(
    'score_rules',
    sa.column('name', sa.String), sa.column('kind', sa.String), sa.column('event_kind', sa.String),
    sa.column('field', sa.String), sa.column('pattern', sa.String), sa.column('points', sa.Integer),
    sa.column('daily_cap', sa.Integer), sa.column('active', sa.Boolean), sa.column('created_at', sa.DateTime),
)
assistant_tiers = sa.table(
    'assistant_tiers', sa.column('level', sa.Integer), sa.column('name', sa.String), sa.column('route', sa.String)
)


def _is_empty(table) -> bool:
    return not op.get_bind().execute(sa.select(sa.func.count()).select_from(table)).scalar()


def upgrade():
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    if _is_empty(score_rules):
        op.bulk_insert(score_rules, [
            dict(name=name, kind=kind, event_kind=event_kind, field=field, pattern=pattern, points=points,
                 daily_cap=cap, active=True, created_at=now)
            for name, kind, event_kind, field, pattern, points, cap in DEFAULT_RULES
        ])
    if _is_empty(assistant_tiers):
        op.bulk_insert(assistant_tiers, [
            dict(level=level, name=name, route=route) for level, name, route in DEFAULT_TIERS
        ])


def downgrade():
    # Nothing to undo: by now the rows are the site's own settings (staff may have edited
    # them, and leads' score changes point at the rules), and the tables stay as they were.
    pass
