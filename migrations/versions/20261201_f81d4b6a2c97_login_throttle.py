"""login_throttle: wrong passwords per (address, client); drops the per-user lockout columns

Revision ID: f81d4b6a2c97
Revises: e5c2a7f9b310
Created: 2026-12-01 10:00:00

The lockout moves from the user row, where anyone who knew an address could
lock its owner out, to a count per address and client (see accounts.authenticate).
Current lockouts and counts are dropped with the columns.
"""

import sqlalchemy as sa
from alembic import op

revision = "f81d4b6a2c97"
down_revision = "e5c2a7f9b310"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttle")),
        sa.UniqueConstraint("email", "client", name=op.f("uq_login_throttle_email_client")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("locked_until")


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
        )
    op.drop_table("login_throttle")
