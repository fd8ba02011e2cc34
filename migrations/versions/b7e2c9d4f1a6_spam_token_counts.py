"""spam token counts: what moderators' spam decisions taught the classifier

Revision ID: b7e2c9d4f1a6
Revises: 02933f2315e8
Create Date: 2026-12-06 21:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b7e2c9d4f1a6"
down_revision = "02933f2315e8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "spam_tokens",
        sa.Column("token", sa.String(length=100), nullable=False),
        sa.Column("spam_count", sa.Integer(), nullable=False),
        sa.Column("ham_count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "spam_count >= 0 AND ham_count >= 0",
            name=op.f("ck_spam_tokens_counts_not_negative"),
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_spam_tokens")),
    )


def downgrade():
    op.drop_table("spam_tokens")
