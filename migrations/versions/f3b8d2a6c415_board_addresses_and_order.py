"""board addresses and order: old slugs redirect, and every board has a place of its own

Admins can now change a board's slug; the slugs it had before are kept in board_old_slugs so old
links redirect. Boards were all created at position 0 (ordered by name among equals): they are
numbered 0..n-1 in the order the front page showed them, so "Move up/down" has an order to change.

Revision ID: f3b8d2a6c415
Revises: e5a1c3d7b902
Create Date: 2026-12-03 14:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "f3b8d2a6c415"
down_revision = "e5a1c3d7b902"
branch_labels = None
depends_on = None

boards = sa.table(
    "boards",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("position", sa.Integer),
)


def upgrade():
    op.create_table(
        "board_old_slugs",
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["boards.id"],
            name=op.f("fk_board_old_slugs_board_id_boards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_board_old_slugs")),
    )
    with op.batch_alter_table("board_old_slugs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_board_old_slugs_board_id"), ["board_id"], unique=False)

    connection = op.get_bind()
    in_order = connection.execute(
        sa.select(boards.c.id).order_by(boards.c.position, boards.c.name, boards.c.id)
    ).scalars()
    for position, board_id in enumerate(list(in_order)):
        connection.execute(
            boards.update().where(boards.c.id == board_id).values(position=position)
        )


def downgrade():
    with op.batch_alter_table("board_old_slugs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_board_old_slugs_board_id"))
    op.drop_table("board_old_slugs")
