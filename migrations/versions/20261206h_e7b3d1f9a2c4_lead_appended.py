"""lead.timezone, lead.company_domain, lead.appended: data appended at intake, marked

Revision ID: e7b3d1f9a2c4
Revises: a7d3f9c1e5b2
Created: 2026-12-06 17:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "e7b3d1f9a2c4"
down_revision = "a7d3f9c1e5b2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("company_domain", sa.String(length=253), nullable=True))
        batch_op.add_column(
            sa.Column(
                "appended",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=True,
            )
        )


def downgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_column("appended")
        batch_op.drop_column("company_domain")
        batch_op.drop_column("timezone")
