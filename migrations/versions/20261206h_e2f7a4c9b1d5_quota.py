"""quota: agreed lead quotas and promised capacity per segment and period

Revision ID: e2f7a4c9b1d5
Revises: e4f7b2c8a913
Created: 2026-12-06 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e2f7a4c9b1d5"
down_revision = "e4f7b2c8a913"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "quota",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("region", sa.String(length=10), nullable=True),
        sa.Column("product", sa.String(length=120), nullable=True),
        sa.Column("tier", sa.String(length=40), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("agreed_by_id", sa.Integer(), nullable=True),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_agreed_by_id", sa.Integer(), nullable=True),
        sa.Column("partner_agreed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"]),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"]),
        sa.ForeignKeyConstraint(["agreed_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["partner_agreed_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_quota_vendor_last_day", "quota", ["vendor_id", "last_day"])
    op.create_index("ix_quota_partner_id", "quota", ["partner_id"])


def downgrade():
    op.drop_index("ix_quota_partner_id", table_name="quota")
    op.drop_index("ix_quota_vendor_last_day", table_name="quota")
    op.drop_table("quota")
