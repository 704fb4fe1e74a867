"""index assignments by rule and partner, for round robin and weighted shares

Revision ID: 7c1e2a9b4d10
Revises: 1f5d3da6d1b7
Created: 2026-11-24 14:35:00
"""

from alembic import op

revision = "7c1e2a9b4d10"
down_revision = "1f5d3da6d1b7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index("ix_assignment_rule_partner", ["rule_id", "partner_id"], unique=False)


def downgrade():
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_assignment_rule_partner")
