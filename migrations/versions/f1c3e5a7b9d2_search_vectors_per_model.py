"""Search vectors per model: two encoders embed each article, so a passage number is unique
per article and model

Revision ID: f1c3e5a7b9d2
Revises: e5a9c2d7f4b1
Create Date: 2026-12-05 19:40:00

"""

from alembic import op

revision = "f1c3e5a7b9d2"
down_revision = "e5a9c2d7f4b1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("search_vectors") as batch:
        batch.drop_constraint("uq_search_vectors_article_passage", type_="unique")
        batch.create_unique_constraint(
            "uq_search_vectors_article_model_passage", ["article_id", "model", "passage"]
        )


def downgrade():
    # The second model's rows would break the narrower constraint: the worker re-embeds.
    op.execute("DELETE FROM search_vectors")
    with op.batch_alter_table("search_vectors") as batch:
        batch.drop_constraint("uq_search_vectors_article_model_passage", type_="unique")
        batch.create_unique_constraint("uq_search_vectors_article_passage", ["article_id", "passage"])
