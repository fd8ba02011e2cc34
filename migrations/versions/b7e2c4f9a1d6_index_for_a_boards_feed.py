"""index for a board's feed

A board's Atom feed lists its public threads newest activity first, pinned ones taking no
precedence: the board page's index leads with is_pinned, so without this one every feed
request (a 304 included) sorted all of a board's threads.

Revision ID: b7e2c4f9a1d6
Revises: a9d4e2f7c1b3
Create Date: 2026-12-06 21:10:00.000000

"""

from alembic import op

revision = "b7e2c4f9a1d6"
down_revision = "a9d4e2f7c1b3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("threads") as batch_op:
        batch_op.create_index(
            "ix_threads_board_latest", ["board_id", "is_hidden", "last_posted_at", "id"]
        )


def downgrade():
    with op.batch_alter_table("threads") as batch_op:
        batch_op.drop_index("ix_threads_board_latest")
