"""lead.nurture_until and lead.nurture_min_score: when a lead sent to nurture goes back

Revision ID: b7e4f1a9c352
Revises: c4b8e1f7a2d3
Created: 2026-12-06 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b7e4f1a9c352"
down_revision = "c4b8e1f7a2d3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nurture_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("nurture_min_score", sa.Integer(), nullable=True))
        batch_op.create_index("ix_lead_status_nurture_until", ["status", "nurture_until"])


def downgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_status_nurture_until")
        batch_op.drop_column("nurture_min_score")
        batch_op.drop_column("nurture_until")
