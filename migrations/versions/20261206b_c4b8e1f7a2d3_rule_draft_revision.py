"""rule_set.revision, edited_at, edited_by: a draft edited in place refuses a stale save

Revision ID: c4b8e1f7a2d3
Revises: b8e4f1a7c203
Created: 2026-12-06 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c4b8e1f7a2d3"
down_revision = "b8e4f1a7c203"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("rule_set", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("edited_by", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("rule_set", schema=None) as batch_op:
        batch_op.drop_column("edited_by")
        batch_op.drop_column("edited_at")
        batch_op.drop_column("revision")
