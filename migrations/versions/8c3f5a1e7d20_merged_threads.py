"""merged threads: a duplicate's row remembers the thread its posts went to

Revision ID: 8c3f5a1e7d20
Revises: 5c2e9a1f7b3d
Create Date: 2026-12-06 22:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "8c3f5a1e7d20"
down_revision = "5c2e9a1f7b3d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("merged_post_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_threads_merged_into_id_threads"),
            "threads",
            ["merged_into_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_threads_merged_post_id_posts"),
            "posts",
            ["merged_post_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_threads_merged_post_id_posts"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_threads_merged_into_id_threads"), type_="foreignkey"
        )
        batch_op.drop_column("merged_post_id")
        batch_op.drop_column("merged_into_id")
