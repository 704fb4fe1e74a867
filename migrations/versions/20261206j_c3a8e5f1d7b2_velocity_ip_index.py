"""screening's velocity index led by the sender's ip: (sender_ip, received_at)

The velocity counts (distribution.intake.screening) now compare the vendor as
``vendor_id + 0``, as dedupe does, so that the plan is the contact's index
whatever the statistics say. (vendor_id, sender_ip, received_at) cannot serve
such a query; (sender_ip, received_at) does, like email_key and phone.

Revision ID: c3a8e5f1d7b2
Revises: b9e2c7a4d1f3
Created: 2026-12-06 21:00:00
"""

from alembic import op

revision = "c3a8e5f1d7b2"
down_revision = "b9e2c7a4d1f3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_vendor_sender_ip")
        batch_op.create_index(
            "ix_lead_sender_ip_received", ["sender_ip", "received_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_sender_ip_received")
        batch_op.create_index(
            "ix_lead_vendor_sender_ip", ["vendor_id", "sender_ip", "received_at"], unique=False
        )
