"""spammer removals: what each "remove spammer" hid and the suspension it set, for its undo

Revision ID: 02933f2315e8
Revises: b7e2c4f9a1d6
Create Date: 2026-12-06 20:43:52

"""

import sqlalchemy as sa
from alembic import op

revision = "02933f2315e8"
down_revision = "b7e2c4f9a1d6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "spammer_removals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audit_entry_id", sa.Integer(), nullable=True),
        sa.Column("post_count", sa.Integer(), nullable=False),
        sa.Column("thread_count", sa.Integer(), nullable=False),
        sa.Column("suspended_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_suspended_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("previous_suspension_reason", sa.String(length=255), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["audit_entry_id"],
            ["audit_log.id"],
            name=op.f("fk_spammer_removals_audit_entry_id_audit_log"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_spammer_removals_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["members.id"],
            name=op.f("fk_spammer_removals_moderator_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"],
            ["members.id"],
            name=op.f("fk_spammer_removals_undone_by_id_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spammer_removals")),
    )
    with op.batch_alter_table("spammer_removals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spammer_removals_audit_entry_id"), ["audit_entry_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_spammer_removals_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_spammer_removals_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "spammer_removal_posts",
        sa.Column("removal_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_spammer_removal_posts_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["removal_id"],
            ["spammer_removals.id"],
            name=op.f("fk_spammer_removal_posts_removal_id_spammer_removals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("removal_id", "post_id", name=op.f("pk_spammer_removal_posts")),
    )
    with op.batch_alter_table("spammer_removal_posts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spammer_removal_posts_post_id"), ["post_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("spammer_removal_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spammer_removal_posts_post_id"))

    op.drop_table("spammer_removal_posts")
    with op.batch_alter_table("spammer_removals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spammer_removals_member_id"))
        batch_op.drop_index(batch_op.f("ix_spammer_removals_created_at"))
        batch_op.drop_index(batch_op.f("ix_spammer_removals_audit_entry_id"))

    op.drop_table("spammer_removals")
