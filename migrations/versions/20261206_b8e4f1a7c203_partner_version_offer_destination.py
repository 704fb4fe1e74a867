"""partner.version (edit conflicts) and partner.offer_destination_id (where its offers go)

Revision ID: b8e4f1a7c203
Revises: a1d7c3e9f402
Created: 2026-12-06 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b8e4f1a7c203"
down_revision = "a1d7c3e9f402"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("offer_destination_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.drop_column("offer_destination_id")
        batch_op.drop_column("version")
