"""held posts and site settings: a new member's first posts wait for a moderator

Revision ID: 7411646d5fac
Revises: c4e1a7b9d2f6
Create Date: 2026-12-06 20:44:01

No settings row is written here: until an admin saves /moderation/settings, the FORUM_* config
values apply (forum/threads/holds.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "7411646d5fac"
down_revision = "c4e1a7b9d2f6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "site_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("held_first_posts", sa.Integer(), nullable=False),
        sa.Column("new_member_posts", sa.Integer(), nullable=False),
        sa.Column("new_member_link_cap", sa.Integer(), nullable=False),
        sa.Column("new_member_post_interval", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["members.id"],
            name=op.f("fk_site_settings_updated_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_settings")),
    )
    op.create_table(
        "held_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=True),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body_source", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "approved", "rejected", name="heldstatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reject_reason", sa.String(length=500), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["members.id"],
            name=op.f("fk_held_posts_author_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["board_id"], ["boards.id"], name=op.f("fk_held_posts_board_id_boards"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["members.id"],
            name=op.f("fk_held_posts_decided_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_held_posts_post_id_posts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_held_posts_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_posts")),
    )
    with op.batch_alter_table("held_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_held_posts_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_held_posts_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_held_posts_thread_id"), ["thread_id"], unique=False)
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pending_posts", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("pending_posts")
    with op.batch_alter_table("held_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_held_posts_thread_id"))
        batch_op.drop_index(batch_op.f("ix_held_posts_status"))
        batch_op.drop_index(batch_op.f("ix_held_posts_author_id"))
    op.drop_table("held_posts")
    op.drop_table("site_settings")
