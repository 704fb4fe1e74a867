"""lead.nurture_reason, nurture_waits_event, nurture_since, nurture_released_at: why a lead is
in nurture, whether it waits for an outside event, since when, and when it last came back

Revision ID: e2f7a4c9b610
Revises: e7b3d1f9a524
Created: 2026-12-06 17:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e2f7a4c9b610"
down_revision = "e7b3d1f9a524"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nurture_reason", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column(
                "nurture_waits_event", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("nurture_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("nurture_released_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_column("nurture_released_at")
        batch_op.drop_column("nurture_since")
        batch_op.drop_column("nurture_waits_event")
        batch_op.drop_column("nurture_reason")
