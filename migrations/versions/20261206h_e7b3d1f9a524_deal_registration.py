"""deal_registration: partners register accounts (domains); approved ones are protected

Revision ID: e7b3d1f9a524
Revises: e7b3d1f9a2c4
Created: 2026-12-06 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e7b3d1f9a524"
down_revision = "e7b3d1f9a2c4"
branch_labels = None
depends_on = None

_STATUS = ("pending", "approved", "declined", "refused")


def upgrade():
    op.create_table(
        "deal_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("company_key", sa.String(length=200), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("product", sa.String(length=100), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*_STATUS, name="dealstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(length=80), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("protected_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal", sa.Text(), nullable=True),
        sa.Column("conflict_with_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"]),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"]),
        sa.ForeignKeyConstraint(["conflict_with_id"], ["deal_registration.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deal_registration", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deal_registration_vendor_domain", ["vendor_id", "domain"], unique=False
        )
        batch_op.create_index(
            "ix_deal_registration_vendor_company", ["vendor_id", "company_key"], unique=False
        )
        batch_op.create_index(
            "ix_deal_registration_partner", ["partner_id", "status"], unique=False
        )


def downgrade():
    with op.batch_alter_table("deal_registration", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_registration_partner")
        batch_op.drop_index("ix_deal_registration_vendor_company")
        batch_op.drop_index("ix_deal_registration_vendor_domain")
    op.drop_table("deal_registration")
