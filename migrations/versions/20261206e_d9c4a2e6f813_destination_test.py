"""destination_test: the result of "send a test", kept for the page redirected to

Revision ID: d9c4a2e6f813
Revises: b3e8f1a7c605
Created: 2026-12-06 14:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d9c4a2e6f813"
down_revision = "b3e8f1a7c605"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "destination_test",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("retryable", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("remote_id", sa.String(length=200), nullable=True),
        sa.Column("price_cents", sa.BigInteger(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("request_text", sa.Text(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"]),
        sa.ForeignKeyConstraint(["destination_id"], ["destination.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("destination_test", schema=None) as batch_op:
        batch_op.create_index("ix_destination_test_vendor_id", ["vendor_id"], unique=False)
        batch_op.create_index(
            "ix_destination_test_destination_id", ["destination_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("destination_test", schema=None) as batch_op:
        batch_op.drop_index("ix_destination_test_destination_id")
        batch_op.drop_index("ix_destination_test_vendor_id")
    op.drop_table("destination_test")
