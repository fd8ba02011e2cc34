"""names in the audit log: what each entry concerns, by its name at the time, and boards

Entries kept ids only, so the log showed "board 3 -> 5" and blanked a member or thread once it
was deleted. Entries now keep the display names, subject, board and badge names as they were at
the action, and a board id. Existing entries get today's names (the best there is), and thread
moves get their board: "from <old board>" with the board moved to.

Revision ID: e5a1c3d7b902
Revises: d41f0a7c9b12
Create Date: 2026-12-03 14:10:00

"""

import re

import sqlalchemy as sa
from alembic import op

revision = "e5a1c3d7b902"
down_revision = "d41f0a7c9b12"
branch_labels = None
depends_on = None

NAME_COLUMNS = {
    "actor_name": 60,
    "member_name": 60,
    "thread_subject": 200,
    "board_name": 80,
    "badge_name": 60,
}
MOVE_DETAILS = re.compile(r"board (\d+) -> (\d+)")

audit_log = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("details", sa.Text),
    sa.column("actor_id", sa.Integer),
    sa.column("member_id", sa.Integer),
    sa.column("thread_id", sa.Integer),
    sa.column("badge_id", sa.Integer),
    sa.column("board_id", sa.Integer),
    *(sa.column(name, sa.String) for name in NAME_COLUMNS),
)
members = sa.table("members", sa.column("id", sa.Integer), sa.column("display_name", sa.String))
threads = sa.table("threads", sa.column("id", sa.Integer), sa.column("subject", sa.String))
boards = sa.table("boards", sa.column("id", sa.Integer), sa.column("name", sa.String))
badges = sa.table("badges", sa.column("id", sa.Integer), sa.column("name", sa.String))


def upgrade():
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("board_id", sa.Integer(), nullable=True))
        for name, length in NAME_COLUMNS.items():
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default="")
            )
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_log_board_id_boards"),
            "boards",
            ["board_id"],
            ["id"],
            ondelete="SET NULL",
        )

    connection = op.get_bind()
    board_names = dict(connection.execute(sa.select(boards.c.id, boards.c.name)).all())
    moves = connection.execute(
        sa.select(audit_log.c.id, audit_log.c.details).where(audit_log.c.action == "thread.move")
    ).all()
    for entry_id, details in moves:
        if match := MOVE_DETAILS.fullmatch(details or ""):
            old, new = int(match[1]), int(match[2])
            connection.execute(
                audit_log.update()
                .where(audit_log.c.id == entry_id)
                .values(
                    board_id=new if new in board_names else None,
                    details=f"from {board_names.get(old, f'board {old}')}",
                )
            )
    for column, name, id_column in (
        ("actor_name", members.c.display_name, audit_log.c.actor_id),
        ("member_name", members.c.display_name, audit_log.c.member_id),
        ("thread_subject", threads.c.subject, audit_log.c.thread_id),
        ("board_name", boards.c.name, audit_log.c.board_id),
        ("badge_name", badges.c.name, audit_log.c.badge_id),
    ):
        named = sa.select(name).where(name.table.c.id == id_column).scalar_subquery()
        connection.execute(
            audit_log.update()
            .where(id_column.is_not(None))
            .values({column: sa.func.coalesce(named, "")})
        )


def downgrade():
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_audit_log_board_id_boards"), type_="foreignkey")
        for name in reversed(NAME_COLUMNS):
            batch_op.drop_column(name)
        batch_op.drop_column("board_id")
