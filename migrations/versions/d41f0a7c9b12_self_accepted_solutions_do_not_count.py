"""self-accepted solutions do not count: recount members' accepted solutions

Until this revision an asker who accepted their own reply had it counted toward their accepted
solutions (and so their rank and badges). The forum now counts only solutions in other members'
threads, so the counts are recomputed from the threads once. Ranks follow at each member's next
post, kudos or solution (or a ladder edit at /moderation/ranks, which recomputes all).

Revision ID: d41f0a7c9b12
Revises: ca565cba6e33
Create Date: 2026-12-02 19:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d41f0a7c9b12"
down_revision = "ca565cba6e33"
branch_labels = None
depends_on = None

members = sa.table("members", sa.column("id", sa.Integer), sa.column("solution_count", sa.Integer))
threads = sa.table(
    "threads",
    sa.column("author_id", sa.Integer),
    sa.column("solution_post_id", sa.Integer),
)
posts = sa.table("posts", sa.column("id", sa.Integer), sa.column("author_id", sa.Integer))


def upgrade():
    op.execute(
        members.update().values(
            solution_count=sa.select(sa.func.count())
            .select_from(threads.join(posts, posts.c.id == threads.c.solution_post_id))
            .where(posts.c.author_id == members.c.id, threads.c.author_id != members.c.id)
            .scalar_subquery()
        )
    )


def downgrade():
    pass  # nothing to undo: these are the solutions members gave in others' threads
