"""lead fraud screening: fraud_score, fraud_signals, the sender's ip and user agent

Intake screens each received lead (distribution.intake.screening) and keeps the
score and its breakdown on the lead; velocity counts a sender's leads of the last
hour by ip, so (vendor_id, sender_ip, received_at) is indexed like email and phone.

Revision ID: e4f7b2c8a913
Revises: e2f7a4c9b610
Created: 2026-12-06 17:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "e4f7b2c8a913"
down_revision = "e2f7a4c9b610"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fraud_score", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("fraud_signals", JSON, nullable=True))
        batch_op.add_column(sa.Column("sender_ip", sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column("user_agent", sa.String(length=400), nullable=True))
        batch_op.create_index(
            "ix_lead_vendor_sender_ip", ["vendor_id", "sender_ip", "received_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_vendor_sender_ip")
        batch_op.drop_column("user_agent")
        batch_op.drop_column("sender_ip")
        batch_op.drop_column("fraud_signals")
        batch_op.drop_column("fraud_score")
