"""report segment roll-up for quota progress; indexes for the nurture and planning reports

Revision ID: f3c9a1d7e2b4
Revises: a5d2c8e1f4b7
Created: 2026-12-07 09:00:00

``report_segment_rollup`` holds, per ``report_span``, the qualified leads *received*
in the span by country, state and product, and by partner and tier handed to
(quota progress reads it instead of a quarter's leads and hand-overs). Its spans
are the source roll-up's, kept honest by the same triggers plus three: a lead's
country, state or product changing, a hand-over moving to another partner (both
mark the span of the lead's ``received_at``), and a partner's tier changing
(which marks every span of its vendor: the rows count by tier).

Indexes for what the reports read of what closed in a period and of nurture:

- ``ix_assignment_vendor_closed`` (vendor_id, closed_at): the nurture report's
  closes and lead planning's holding time; ``closed_at`` had no index. On
  PostgreSQL it carries the columns both read, so the index alone answers them.
- ``ix_lead_event_into_nurture`` (vendor_id, lead_id, at) over the events into
  nurture only: when each lead first went into nurture, read once and joined to
  the closes (it was looked up per close: 172,566 lookups at a million leads).
- ``ix_lead_in_nurture`` over the leads in nurture now, carrying on PostgreSQL what
  the nurture report reads of them (25,000 leads spread over a million-row table).
"""

import sqlalchemy as sa
from alembic import op

revision = "f3c9a1d7e2b4"
down_revision = "a5d2c8e1f4b7"
branch_labels = None
depends_on = None

INTO_NURTURE = "to_status = 'nurture'"
IN_NURTURE = "status = 'nurture'"


def _received(row: str) -> str:
    return f"(SELECT received_at FROM lead WHERE lead.id = {row}.lead_id)"  # noqa: S608


def _mark(vendor: str, at: str, true: str) -> str:
    """The statement marking the spans that hold ``at``; no outside input."""
    where = f"vendor_id = {vendor} AND end_at > {at} AND start_at <= {at} AND NOT dirty"
    return f"UPDATE report_span SET dirty = {true} WHERE {where};"  # noqa: S608


def _mark_vendor(vendor: str, true: str) -> str:
    return f"UPDATE report_span SET dirty = {true} WHERE vendor_id = {vendor} AND NOT dirty;"  # noqa: S608


# The functions of migration b9e2c7a4d1f3 mark the span of OLD's received_at on an
# update, which is all these changes need; a partner's tier has a function of its own.
POSTGRES_FUNCTION = f"""
CREATE FUNCTION report_span_touch_partner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_mark_vendor("OLD.vendor_id", "true")}
    IF NEW.vendor_id IS DISTINCT FROM OLD.vendor_id THEN
        {_mark_vendor("NEW.vendor_id", "true")}
    END IF;
    RETURN NULL;
END
$$
"""
POSTGRES_TRIGGERS = {
    "report_span_touch_segment": ("lead", "country, state, product", "report_span_touch_lead"),
    "report_span_touch_handed": ("assignment", "partner_id", "report_span_touch_received"),
    "report_span_touch_partner": ("partner", "tier, vendor_id", "report_span_touch_partner"),
}
# A partner saved with its tier unchanged leaves the roll-up alone.
POSTGRES_WHEN = {
    "report_span_touch_partner": " WHEN ((OLD.tier, OLD.vendor_id) IS DISTINCT FROM "
    "(NEW.tier, NEW.vendor_id))",
}
SQLITE_TRIGGERS = {
    "report_span_touch_segment": "AFTER UPDATE OF country, state, product ON lead BEGIN "
    + _mark("OLD.vendor_id", "OLD.received_at", "1")
    + " END",
    "report_span_touch_handed": "AFTER UPDATE OF partner_id ON assignment BEGIN "
    + _mark("OLD.vendor_id", _received("OLD"), "1")
    + " END",
    "report_span_touch_partner": "AFTER UPDATE OF tier, vendor_id ON partner "
    "WHEN OLD.tier IS NOT NEW.tier OR OLD.vendor_id IS NOT NEW.vendor_id BEGIN "
    + _mark_vendor("OLD.vendor_id", "1")
    + " "
    + _mark_vendor("NEW.vendor_id", "1")
    + " END",
}


def upgrade():
    bigid = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "report_segment_rollup",
        sa.Column("id", bigid, nullable=False),
        sa.Column("span_id", bigid, nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("product", sa.String(length=120), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("tier", sa.String(length=40), nullable=True),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.Column("followed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_report_segment_rollup_partner_id_partner"),
        ),
        sa.ForeignKeyConstraint(
            ["span_id"],
            ["report_span.id"],
            name=op.f("fk_report_segment_rollup_span_id_report_span"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_segment_rollup")),
    )
    with op.batch_alter_table("report_segment_rollup", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_segment_rollup_span_id"), ["span_id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        for name, (table, watched, function) in POSTGRES_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} AFTER UPDATE OF {watched} ON {table} FOR EACH ROW"
                f"{POSTGRES_WHEN.get(name, '')} EXECUTE FUNCTION {function}()"
            )
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    # Spans rolled before this table existed have no segment rows: roll them again.
    op.execute(sa.text("UPDATE report_span SET dirty = :yes").bindparams(yes=True))

    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assignment_vendor_closed",
            ["vendor_id", "closed_at"],
            unique=False,
            postgresql_include=["status", "accepted_at", "offered_at", "lead_id"],
        )
    with op.batch_alter_table("lead_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lead_event_into_nurture",
            ["vendor_id", "lead_id", "at"],
            unique=False,
            postgresql_where=sa.text(INTO_NURTURE),
            sqlite_where=sa.text(INTO_NURTURE),
        )
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lead_in_nurture",
            ["vendor_id"],
            unique=False,
            postgresql_include=["nurture_reason", "nurture_waits_event", "nurture_since", "received_at"],
            postgresql_where=sa.text(IN_NURTURE),
            sqlite_where=sa.text(IN_NURTURE),
        )


def downgrade():
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_in_nurture")
    with op.batch_alter_table("lead_event", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_event_into_nurture")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_assignment_vendor_closed")
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _watched, _function) in POSTGRES_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS report_span_touch_partner()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("report_segment_rollup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_segment_rollup_span_id"))
    op.drop_table("report_segment_rollup")
