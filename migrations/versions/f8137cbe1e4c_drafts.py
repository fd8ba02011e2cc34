"""drafts: a member's unfinished reply (per thread) or new thread (per board)

The reply box and the new-thread form keep what a member typed on the server (saved as they
type, or with "Save draft"), so they find it again after navigating away; posting clears it.

Revision ID: f8137cbe1e4c
Revises: 771955562eb0
Create Date: 2026-12-03 13:41:00.606746

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f8137cbe1e4c'
down_revision = '771955562eb0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=True),
    sa.Column('board_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(thread_id IS NULL) <> (board_id IS NULL)', name=op.f('ck_drafts_thread_or_board')),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], name=op.f('fk_drafts_board_id_boards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_drafts_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_drafts_thread_id_threads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drafts')),
    sa.UniqueConstraint('member_id', 'board_id', name=op.f('uq_drafts_member_id_board_id')),
    sa.UniqueConstraint('member_id', 'thread_id', name=op.f('uq_drafts_member_id_thread_id'))
    )


def downgrade():
    op.drop_table('drafts')
