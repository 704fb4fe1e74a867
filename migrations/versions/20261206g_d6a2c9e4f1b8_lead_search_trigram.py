"""lead search: pg_trgm and a trigram GIN index over the searched text (PostgreSQL only)

The vendor's lead list searches ``distribution.lead_list.search_text()`` with
``LIKE '%word%'``. This index is over exactly that expression, so PostgreSQL
answers a search on a million leads from the index. SQLite keeps no index: its
search scans, and stays correct.

Revision ID: d6a2c9e4f1b8
Revises: b3e8f1a7c605
Created: 2026-12-06 14:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d6a2c9e4f1b8"
down_revision = "d5c2a9e7f318"
branch_labels = None
depends_on = None

INDEX = "ix_lead_search_trgm"
# Keep in step with distribution.lead_list.search_text() (the planner matches it literally).
EXPRESSION = (
    "lower((((((((coalesce(first_name, '') || ' ') || coalesce(last_name, '')) || ' ')"
    " || coalesce(email, '')) || ' ') || coalesce(phone, '')) || ' ') || coalesce(company, ''))"
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # In public, not in the first schema of the search path: an extension lives once per
    # database, and one in a schema that is later dropped would take every index with it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    schema = op.get_bind().scalar(
        sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'"
        )
    )
    op.execute(
        f'CREATE INDEX {INDEX} ON lead USING gin (({EXPRESSION}) "{schema}".gin_trgm_ops)'
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
