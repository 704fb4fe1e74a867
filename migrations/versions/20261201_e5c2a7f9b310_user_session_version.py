"""user_account.session_version: part of every session id, bumped to end them all

Revision ID: e5c2a7f9b310
Revises: d4b9e7a1c528
Created: 2026-12-01 09:00:00

Sessions and remember cookies made before this revision carry a bare user id,
which no longer loads: everyone logs in once more after the upgrade.
"""

import sqlalchemy as sa
from alembic import op

revision = "e5c2a7f9b310"
down_revision = "d4b9e7a1c528"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("session_version")
