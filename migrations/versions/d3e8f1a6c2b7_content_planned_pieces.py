"""content: planned pieces of the editorial calendar

Revision ID: d3e8f1a6c2b7
Revises: c5d1e8a3f290
Create Date: 2026-12-05 16:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d3e8f1a6c2b7"
down_revision = "c5d1e8a3f290"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "planned_pieces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column("serves", sa.String(length=200), nullable=False),
        sa.Column("idea", sa.String(length=200), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name="fk_planned_pieces_team_id_teams", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_planned_pieces_owner_id_users", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_planned_pieces_article_id_articles", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_planned_pieces_created_by_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_planned_pieces"),
    )
    op.create_index("ix_planned_pieces_team_target", "planned_pieces", ["team_id", "target_date"])
    op.create_index("ix_planned_pieces_target_date", "planned_pieces", ["target_date"])
    op.create_index("ix_planned_pieces_idea", "planned_pieces", ["idea"])


def downgrade():
    op.drop_index("ix_planned_pieces_idea", table_name="planned_pieces")
    op.drop_index("ix_planned_pieces_target_date", table_name="planned_pieces")
    op.drop_index("ix_planned_pieces_team_target", table_name="planned_pieces")
    op.drop_table("planned_pieces")
