"""registration defences: registrations counted per address, refusals logged for moderators

Revision ID: 92444f3602fa
Revises: b7e2c9d4f1a6
Create Date: 2026-12-06 20:44:28

"""

import sqlalchemy as sa
from alembic import op

revision = "92444f3602fa"
down_revision = "b7e2c9d4f1a6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "refused_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "honeypot",
                "too-fast",
                "stamp",
                "address-cap",
                name="refusal",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("handle", sa.String(length=60), nullable=False),
        sa.Column("email_domain", sa.String(length=254), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refused_registrations")),
    )
    with op.batch_alter_table("refused_registrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refused_registrations_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
    )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registrations_address_hash_created_at",
            ["address_hash", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_registrations_created_at"), ["created_at"], unique=False
        )


def downgrade():
    op.drop_table("registrations")
    op.drop_table("refused_registrations")
