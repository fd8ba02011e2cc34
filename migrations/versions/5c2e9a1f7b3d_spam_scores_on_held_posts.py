"""spam scores on held posts, and which posts a spammer removal taught the classifier

Revision ID: 5c2e9a1f7b3d
Revises: 7411646d5fac
Create Date: 2026-12-06 21:55:00

Held posts kept before this have no score (NULL: the queue shows none); removals made before it
taught nothing, so their undo unlearns nothing.
"""

import sqlalchemy as sa
from alembic import op

revision = "5c2e9a1f7b3d"
down_revision = "7411646d5fac"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("held_posts") as batch:
        batch.add_column(sa.Column("spam_score", sa.Float(), nullable=True))
        batch.add_column(sa.Column("spam_reasons", sa.JSON(), nullable=True))
    with op.batch_alter_table("spammer_removal_posts") as batch:
        batch.add_column(
            sa.Column(
                "learnt_as_spam", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade():
    with op.batch_alter_table("spammer_removal_posts") as batch:
        batch.drop_column("learnt_as_spam")
    with op.batch_alter_table("held_posts") as batch:
        batch.drop_column("spam_reasons")
        batch.drop_column("spam_score")
