"""api_key.admin (management keys) and audit_entry (who changed a vendor's set-up)

Revision ID: a1d7c3e9f402
Revises: e5c2a9f7b316
Created: 2026-12-06 11:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a1d7c3e9f402"
down_revision = "e5c2a9f7b316"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_entry_vendor_id", "audit_entry", ["vendor_id"])
    op.create_index(
        "ix_audit_entry_subject",
        "audit_entry",
        ["vendor_id", "subject_type", "subject_id", "id"],
    )


def downgrade():
    op.drop_index("ix_audit_entry_subject", table_name="audit_entry")
    op.drop_index("ix_audit_entry_vendor_id", table_name="audit_entry")
    op.drop_table("audit_entry")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_column("admin")
