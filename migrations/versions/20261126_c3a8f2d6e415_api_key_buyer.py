"""api keys for buyers: api_key.buyer_id (nullable), so a buyer's system can ask for returns

Revision ID: c3a8f2d6e415
Revises: b7e1d5a3c940
Created: 2026-11-26 09:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c3a8f2d6e415"
down_revision = "b7e1d5a3c940"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("buyer_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_api_key_buyer_id_buyer"), "buyer", ["buyer_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_api_key_buyer_id"), ["buyer_id"], unique=False)


def downgrade():
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_buyer_id"))
        batch_op.drop_constraint(batch_op.f("fk_api_key_buyer_id_buyer"), type_="foreignkey")
        batch_op.drop_column("buyer_id")
