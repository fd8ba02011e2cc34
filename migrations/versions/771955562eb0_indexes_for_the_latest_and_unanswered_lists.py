"""indexes for the latest and unanswered lists

/latest and /unanswered list threads of every board newest activity first, a keyset page at a
time; each list walks one of these indexes (its filters lead, then the order), so a page costs
the same however many threads the forum holds.

Revision ID: 771955562eb0
Revises: e7c31b5a9d40
Create Date: 2026-12-03 13:25:50.639916

"""

from alembic import op

revision = "771955562eb0"
down_revision = "e7c31b5a9d40"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_threads_latest": ["is_hidden", "last_posted_at", "id"],
    "ix_threads_no_replies": ["is_hidden", "post_count", "last_posted_at", "id"],
    "ix_threads_no_solution": ["is_hidden", "solution_post_id", "last_posted_at", "id"],
}


def upgrade():
    with op.batch_alter_table("threads") as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns)


def downgrade():
    with op.batch_alter_table("threads") as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
