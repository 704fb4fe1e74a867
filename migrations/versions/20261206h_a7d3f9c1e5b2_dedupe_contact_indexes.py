"""dedupe indexes led by the contact: (email_key, received_at) and (phone, received_at)

Dedupe's lookup (distribution.intake.matching._earliest) compares the vendor as
``vendor_id + 0`` so that no index led by vendor_id can answer it: on a fresh or
un-analyzed ``lead`` table PostgreSQL costed (vendor_id, received_at) like
(vendor_id, phone, received_at) and filtered the whole 30-day window per lead.
These indexes, led by the contact, replace the vendor-led ones only dedupe used.

Revision ID: a7d3f9c1e5b2
Revises: e4b7d2a9c1f6
Created: 2026-12-06 17:30:00
"""

from alembic import op

revision = "a7d3f9c1e5b2"
down_revision = "e4b7d2a9c1f6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index("ix_lead_email_key_received", ["email_key", "received_at"])
        batch_op.create_index("ix_lead_phone_received", ["phone", "received_at"])
        batch_op.drop_index("ix_lead_vendor_email_key")
        batch_op.drop_index("ix_lead_vendor_phone")


def downgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lead_vendor_phone", ["vendor_id", "phone", "received_at"], unique=False
        )
        batch_op.create_index(
            "ix_lead_vendor_email_key", ["vendor_id", "email_key", "received_at"], unique=False
        )
        batch_op.drop_index("ix_lead_phone_received")
        batch_op.drop_index("ix_lead_email_key_received")
