"""members choose a time zone: members.time_zone

An IANA name ("Asia/Tokyo") chosen in the member's settings; NULL for everyone until then, whose
pages follow their browser and whose e-mail reads in UTC. Times stay stored in UTC.

Revision ID: e7c31b5a9d40
Revises: f3b8d2a6c415
Create Date: 2026-12-03 13:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e7c31b5a9d40"
down_revision = "f3b8d2a6c415"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
