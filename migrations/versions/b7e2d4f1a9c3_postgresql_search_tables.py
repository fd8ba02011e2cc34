"""postgresql search tables: the opt-in PostgreSQL full-text backend's documents and vocabulary

FORUM_SEARCH_BACKEND=postgresql keeps its index in the database itself (forum/search/postgres.py):
one row per searchable post with a weighted tsvector (A subject, B body, C author name) under a GIN
index, and the unstemmed words spelling corrections are made against. SQLite has no tsvector and
never runs that backend, so there this revision does nothing.

Revision ID: b7e2d4f1a9c3
Revises: 8c3f5a1e7d20
Create Date: 2026-12-06 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'b7e2d4f1a9c3'
down_revision = '8c3f5a1e7d20'
branch_labels = None
depends_on = None

TSV = (
    "setweight(to_tsvector('english'::regconfig, subject), 'A') || "
    "setweight(to_tsvector('english'::regconfig, body), 'B') || "
    "setweight(to_tsvector('english'::regconfig, author_name), 'C')"
)


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.create_table('search_documents',
    sa.Column('post_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('board', sa.String(length=80), nullable=False),
    sa.Column('board_name', sa.String(length=200), nullable=False),
    sa.Column('author', sa.String(length=80), nullable=False),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('solved', sa.Boolean(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=32), nullable=False),
    sa.Column('words', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('tsv', postgresql.TSVECTOR(), sa.Computed(TSV, persisted=True), nullable=False),
    sa.PrimaryKeyConstraint('post_id', name=op.f('pk_search_documents')),
    )
    op.create_index('ix_search_documents_tsv', 'search_documents', ['tsv'], postgresql_using='gin')
    op.create_index('ix_search_documents_thread_id', 'search_documents', ['thread_id'])
    op.create_table('search_words',
    sa.Column('word', sa.Text(), nullable=False),
    sa.Column('posts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('word', name=op.f('pk_search_words')),
    )


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_table('search_words')
    op.drop_index('ix_search_documents_thread_id', table_name='search_documents')
    op.drop_index('ix_search_documents_tsv', table_name='search_documents')
    op.drop_table('search_documents')
