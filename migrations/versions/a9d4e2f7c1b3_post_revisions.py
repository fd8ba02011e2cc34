"""post revisions: every edit keeps the version it replaced

Revision ID: a9d4e2f7c1b3
Revises: f8137cbe1e4c
Create Date: 2026-12-03 14:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a9d4e2f7c1b3"
down_revision = "f8137cbe1e4c"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "post_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=210), nullable=False),
        sa.Column("body_source", sa.Text(), nullable=False),
        sa.Column("written_by_id", sa.Integer(), nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_revisions_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["written_by_id"],
            ["members.id"],
            name=op.f("fk_post_revisions_written_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_revisions")),
        sa.UniqueConstraint("post_id", "number", name=op.f("uq_post_revisions_post_id_number")),
    )


def downgrade():
    op.drop_table("post_revisions")
