"""buyer sales and the ledger: sale (one lead bought by one buyer) and ledger_entry

Indexed on (buyer_id, sold_at) and (buyer_id, at) for caps, return rates and statements.
Another migration may share the parent 9a4f3c2e8b71; chain them when merging.

Revision ID: b7e1d5a3c940
Revises: 9a4f3c2e8b71
Created: 2026-11-25 12:18:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b7e1d5a3c940"
down_revision = "9a4f3c2e8b71"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sale",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column(
            "delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("via_ping", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("sold", "returned", name="salestatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("sold_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("return_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("return_reason", sa.String(length=40), nullable=True),
        sa.Column("return_note", sa.Text(), nullable=True),
        sa.Column(
            "return_status",
            sa.Enum(
                "pending", "approved", "refused", name="returnstatus", native_enum=False, length=20
            ),
            nullable=True,
        ),
        sa.Column("return_decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("return_decided_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["buyer_id"], ["buyer.id"], name=op.f("fk_sale_buyer_id_buyer")),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["delivery.id"], name=op.f("fk_sale_delivery_id_delivery")
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], name=op.f("fk_sale_lead_id_lead")),
        sa.ForeignKeyConstraint(["rule_id"], ["rule.id"], name=op.f("fk_sale_rule_id_rule")),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_sale_vendor_id_vendor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale")),
        sa.UniqueConstraint("lead_id", "buyer_id", name=op.f("uq_sale_lead_id_buyer_id")),
    )
    with op.batch_alter_table("sale", schema=None) as batch_op:
        batch_op.create_index("ix_sale_buyer_sold", ["buyer_id", "sold_at"], unique=False)
        batch_op.create_index(
            "ix_sale_vendor_return_status", ["vendor_id", "return_status"], unique=False
        )
        batch_op.create_index("ix_sale_vendor_sold", ["vendor_id", "sold_at"], unique=False)

    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("sale", "credit", name="ledgerkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["buyer.id"], name=op.f("fk_ledger_entry_buyer_id_buyer")
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sale.id"], name=op.f("fk_ledger_entry_sale_id_sale")
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_ledger_entry_vendor_id_vendor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint("sale_id", "kind", name=op.f("uq_ledger_entry_sale_id_kind")),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entry_buyer_at", ["buyer_id", "at"], unique=False)
        batch_op.create_index("ix_ledger_entry_vendor_at", ["vendor_id", "at"], unique=False)


def downgrade():
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entry_vendor_at")
        batch_op.drop_index("ix_ledger_entry_buyer_at")

    op.drop_table("ledger_entry")
    with op.batch_alter_table("sale", schema=None) as batch_op:
        batch_op.drop_index("ix_sale_vendor_sold")
        batch_op.drop_index("ix_sale_vendor_return_status")
        batch_op.drop_index("ix_sale_buyer_sold")

    op.drop_table("sale")
