"""report source roll-up: source-quality figures per span, source and campaign; lead triggers

Revision ID: b9e2c7a4d1f3
Revises: e2f7a4c9b1d5
Created: 2026-12-06 18:00:00

``report_source_rollup`` holds, per ``report_span``, the source-quality figures of
the leads *received* in the span. New triggers keep those spans honest: one on
``lead`` marks the span holding a lead's ``received_at`` dirty when the lead is
inserted, deleted, or changed in a column the figures read, and one on
``assignment`` marks the span holding its lead's ``received_at`` (the partner
triggers already mark the span of its ``offered_at``).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "b9e2c7a4d1f3"
down_revision = "e2f7a4c9b1d5"
branch_labels = None
depends_on = None

# The columns some source figure reads.
LEAD_WATCHED = "vendor_id, received_at, status, source, campaign"
ASSIGNMENT_WATCHED = (
    "lead_id, vendor_id, status, accepted_at, followup_due_at, first_followup_at, "
    "won_amount_cents, return_reason"
)


def _mark(vendor: str, at: str, true: str) -> str:
    """The statement marking the spans that hold ``at``; no outside input."""
    where = f"vendor_id = {vendor} AND end_at > {at} AND start_at <= {at} AND NOT dirty"
    return f"UPDATE report_span SET dirty = {true} WHERE {where};"  # noqa: S608


def _received(row: str) -> str:
    return f"(SELECT received_at FROM lead WHERE lead.id = {row}.lead_id)"  # noqa: S608


POSTGRES_FUNCTIONS = {
    "report_span_touch_lead": f"""
CREATE FUNCTION report_span_touch_lead() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_mark("OLD.vendor_id", "OLD.received_at", "true")}
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND (NEW.vendor_id, NEW.received_at)
            IS DISTINCT FROM (OLD.vendor_id, OLD.received_at)) THEN
        {_mark("NEW.vendor_id", "NEW.received_at", "true")}
    END IF;
    RETURN NULL;
END
$$
""",
    "report_span_touch_received": f"""
CREATE FUNCTION report_span_touch_received() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_mark("OLD.vendor_id", _received("OLD"), "true")}
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND (NEW.vendor_id, NEW.lead_id)
            IS DISTINCT FROM (OLD.vendor_id, OLD.lead_id)) THEN
        {_mark("NEW.vendor_id", _received("NEW"), "true")}
    END IF;
    RETURN NULL;
END
$$
""",
}
POSTGRES_TRIGGERS = {
    "report_span_touch_lead": ("lead", LEAD_WATCHED),
    "report_span_touch_received": ("assignment", ASSIGNMENT_WATCHED),
}


def _sqlite(table: str, watched: str, old: str, new: str) -> dict[str, str]:
    prefix = f"report_span_touch_{'lead' if table == 'lead' else 'received'}"
    return {
        f"{prefix}_insert": f"AFTER INSERT ON {table} BEGIN {new} END",
        f"{prefix}_delete": f"AFTER DELETE ON {table} BEGIN {old} END",
        f"{prefix}_update": f"AFTER UPDATE OF {watched} ON {table} BEGIN {old} {new} END",
    }


SQLITE_TRIGGERS = {
    **_sqlite(
        "lead",
        LEAD_WATCHED,
        _mark("OLD.vendor_id", "OLD.received_at", "1"),
        _mark("NEW.vendor_id", "NEW.received_at", "1"),
    ),
    **_sqlite(
        "assignment",
        ASSIGNMENT_WATCHED,
        _mark("OLD.vendor_id", _received("OLD"), "1"),
        _mark("NEW.vendor_id", _received("NEW"), "1"),
    ),
}

COUNTS = [
    "volume", "rejected", "duplicate", "suppressed", "handed", "accepted", "followed_up",
    "won", "returned",
]  # fmt: skip


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    bigid = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "report_source_rollup",
        sa.Column("id", bigid, nullable=False),
        sa.Column("span_id", bigid, nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("campaign", sa.String(length=120), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.Column("returns", _json(), nullable=True),
        sa.ForeignKeyConstraint(
            ["span_id"],
            ["report_span.id"],
            name=op.f("fk_report_source_rollup_span_id_report_span"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_source_rollup")),
    )
    with op.batch_alter_table("report_source_rollup", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_source_rollup_span_id"), ["span_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        for name, body in POSTGRES_FUNCTIONS.items():
            op.execute(body)
            table, watched = POSTGRES_TRIGGERS[name]
            op.execute(
                f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE OF "
                f"{watched} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    # Spans rolled before this table existed have no source rows: roll them again.
    op.execute(sa.text("UPDATE report_span SET dirty = :yes").bindparams(yes=True))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _watched) in POSTGRES_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("report_source_rollup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_source_rollup_span_id"))
    op.drop_table("report_source_rollup")
