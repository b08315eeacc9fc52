"""Video articles: an uploaded file or a platform's player link, chapters, a transcript,
the minutes free before the lead form; and the video kind's standard

Revision ID: d8e2f4a6b1c3
Revises: d3e8f1a6c2b7
Create Date: 2026-12-05 16:30:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "d8e2f4a6b1c3"
down_revision = "d3e8f1a6c2b7"
branch_labels = None
depends_on = None

# content.standards.DEFAULTS["video"] as of this migration, owned by 市场 where it exists.
TEMPLATE = "## 视频简介\n\n## 您将学到\n\n"
CHECKLIST = ["字幕与章节已按成片核对", "视频中的界面与当前版本一致"]


def upgrade():
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("video_file", sa.String(length=200), nullable=False, server_default=""))
        batch.add_column(sa.Column("video_url", sa.String(length=500), nullable=False, server_default=""))
        batch.add_column(sa.Column("chapters", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("transcript_md", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("transcript_html", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("transcript_text", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("free_minutes", sa.Integer(), nullable=True))
    bind = op.get_bind()
    team = bind.execute(sa.text("SELECT id FROM teams WHERE name = '市场'")).scalar()
    exists = bind.execute(sa.text("SELECT 1 FROM kind_standards WHERE kind = 'video'")).scalar()
    if not exists:
        standards = sa.table(
            "kind_standards",
            sa.column("kind", sa.String),
            sa.column("team_id", sa.Integer),
            sa.column("template_md", sa.Text),
            sa.column("required_fields", sa.JSON),
            sa.column("checklist", sa.JSON),
            sa.column("review_months", sa.Integer),
            sa.column("updated_at", sa.DateTime),
        )
        op.bulk_insert(
            standards,
            [
                {
                    "kind": "video",
                    "team_id": team,
                    "template_md": TEMPLATE,
                    "required_fields": ["summary"],
                    "checklist": CHECKLIST,
                    "review_months": 12,
                    "updated_at": datetime.now(UTC).replace(tzinfo=None),
                }
            ],
        )


def downgrade():
    op.execute(sa.text("DELETE FROM kind_standards WHERE kind = 'video'"))
    op.execute(sa.text("DELETE FROM articles WHERE kind = 'video'"))
    with op.batch_alter_table("articles") as batch:
        for name in (
            "free_minutes",
            "transcript_text",
            "transcript_html",
            "transcript_md",
            "chapters",
            "video_url",
            "video_file",
        ):
            batch.drop_column(name)
