"""lead warnings and email_key: unreadable optional fields kept beside a lead; dedupe ignores e-mail case

Revision ID: e5c2a9f7b316
Revises: f81d4b6a2c97
Created: 2026-11-28 09:00:00

``email_key`` is the e-mail folded to lower case and indexed like ``email`` was, so
the dedupe lookup stays an index lookup. Existing rows are filled with SQL's
``lower()``, which folds ASCII on SQLite; intake folds with Python from now on.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "e5c2a9f7b316"
down_revision = "f81d4b6a2c97"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_key", sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column(
                "warnings",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default=sa.text("'[]'"),
            )
        )
    op.execute("UPDATE lead SET email_key = lower(email) WHERE email IS NOT NULL")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lead_vendor_email_key", ["vendor_id", "email_key", "received_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_vendor_email_key")
        batch_op.drop_column("warnings")
        batch_op.drop_column("email_key")
