"""user_account.timezone: the zone a person reads times in (null: the vendor's)

Revision ID: d5c2a9e7f318
Revises: b3e8f1a7c605
Created: 2026-12-06 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d5c2a9e7f318"
down_revision = "d9c4a2e6f813"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("timezone")
