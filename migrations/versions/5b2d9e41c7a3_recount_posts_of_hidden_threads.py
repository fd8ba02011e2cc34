"""recount visible posts: a hidden thread's replies leave member and board counts

Until this revision, removing an opening post (which hides its thread) took only that post out of
its author's and the board's counts; its visible replies stayed counted. The forum now counts only
posts that members can see, so the counts are recomputed from the posts once. Ranks follow at each
member's next post, kudos or solution (or a ladder edit at /moderation/ranks, which recomputes all).

Revision ID: 5b2d9e41c7a3
Revises: cf4bb7264954
Create Date: 2026-11-26 01:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b2d9e41c7a3'
down_revision = 'cf4bb7264954'
branch_labels = None
depends_on = None

members = sa.table('members', sa.column('id', sa.Integer), sa.column('post_count', sa.Integer))
boards = sa.table(
    'boards',
    sa.column('id', sa.Integer),
    sa.column('thread_count', sa.Integer),
    sa.column('post_count', sa.Integer),
)
threads = sa.table(
    'threads',
    sa.column('id', sa.Integer),
    sa.column('board_id', sa.Integer),
    sa.column('is_hidden', sa.Boolean),
)
posts = sa.table(
    'posts',
    sa.column('thread_id', sa.Integer),
    sa.column('author_id', sa.Integer),
    sa.column('is_removed', sa.Boolean),
)


def _visible_posts():
    return (
        sa.select(sa.func.count())
        .select_from(posts.join(threads, threads.c.id == posts.c.thread_id))
        .where(posts.c.is_removed == sa.false(), threads.c.is_hidden == sa.false())
    )


def upgrade():
    op.execute(
        members.update().values(
            post_count=_visible_posts()
            .where(posts.c.author_id == members.c.id)
            .scalar_subquery()
        )
    )
    op.execute(
        boards.update().values(
            post_count=_visible_posts()
            .where(threads.c.board_id == boards.c.id)
            .scalar_subquery(),
            thread_count=sa.select(sa.func.count())
            .select_from(threads)
            .where(threads.c.board_id == boards.c.id, threads.c.is_hidden == sa.false())
            .scalar_subquery(),
        )
    )


def downgrade():
    pass  # nothing to undo: these are the counts of the posts members can see
