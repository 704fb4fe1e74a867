"""file_drop and drop_file: a source's drop folder (local or SFTP) and the files seen in it

Revision ID: e4b7d2a9c1f6
Revises: d6a2c9e4f1b8
Created: 2026-12-06 17:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "e4b7d2a9c1f6"
down_revision = "d6a2c9e4f1b8"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "file_drop",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=120), nullable=True),
        sa.Column("secrets", _JSON, nullable=False),
        sa.Column("host_key", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_key.id"]),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("api_key_id"),
    )
    with op.batch_alter_table("file_drop", schema=None) as batch_op:
        batch_op.create_index("ix_file_drop_vendor_id", ["vendor_id"], unique=False)
    op.create_table(
        "drop_file",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("drop_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("local_path", sa.String(length=1000), nullable=True),
        sa.Column("moved_to", sa.String(length=600), nullable=True),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["drop_id"], ["file_drop.id"]),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"]),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("drop_id", "name", "size", "mtime"),
    )
    with op.batch_alter_table("drop_file", schema=None) as batch_op:
        batch_op.create_index("ix_drop_file_vendor_id", ["vendor_id"], unique=False)
        batch_op.create_index("ix_drop_file_drop_seen", ["drop_id", "seen_at"], unique=False)


def downgrade():
    with op.batch_alter_table("drop_file", schema=None) as batch_op:
        batch_op.drop_index("ix_drop_file_drop_seen")
        batch_op.drop_index("ix_drop_file_vendor_id")
    op.drop_table("drop_file")
    with op.batch_alter_table("file_drop", schema=None) as batch_op:
        batch_op.drop_index("ix_file_drop_vendor_id")
    op.drop_table("file_drop")
