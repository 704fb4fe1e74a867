"""vendor.partners_version: bumped with every partner change, keys the routing index

Revision ID: 9a4f3c2e8b71
Revises: 7c1e2a9b4d10
Created: 2026-11-24 14:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "9a4f3c2e8b71"
down_revision = "7c1e2a9b4d10"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("partners_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("vendor", schema=None) as batch_op:
        batch_op.drop_column("partners_version")
