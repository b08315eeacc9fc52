"""Video form submissions: the article a submission's form was on when no asset says it
(a gated video's lead form, now its own form type "video")

Revision ID: e5a9c2d7f4b1
Revises: d8e2f4a6b1c3
Create Date: 2026-12-05 17:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e5a9c2d7f4b1"
down_revision = "d8e2f4a6b1c3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("article_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_submissions_article_id"), ["article_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_submissions_article_id_articles"),
            "articles",
            ["article_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint(batch.f("fk_submissions_article_id_articles"), type_="foreignkey")
        batch.drop_index(batch.f("ix_submissions_article_id"))
        batch.drop_column("article_id")
