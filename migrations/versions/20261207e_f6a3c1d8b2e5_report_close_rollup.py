"""report_close_rollup: the hand-overs closed in each span, and triggers on their close day

The nurture report's closes and lead planning's holding time count the hand-overs
*closed* in a period (some 170,000 and 220,000 a quarter at a million leads),
live on every view. The roll-up job now writes, for every span, one row of what
closed in it (``distribution.reports.closes``). The spans are those of the other
roll-ups; a new trigger on ``assignment`` marks the span holding its ``closed_at``
dirty (the old value's and the new one's) when a hand-over is inserted, deleted,
or changed in a column these figures read. The partner triggers only mark the
span of ``offered_at``, which a close days or weeks later is not in.

Every span is marked dirty so that the next roll-up counts its closes; until
then the reports count live, as before.

Revision ID: f6a3c1d8b2e5
Revises: d2e9b4c7a1f6
Created: 2026-12-07 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "f6a3c1d8b2e5"
down_revision = "d2e9b4c7a1f6"
branch_labels = None
depends_on = None

# The assignment columns a close figure reads (the lead: whether it was in nurture).
WATCHED = "vendor_id, lead_id, status, offered_at, accepted_at, closed_at"


def _mark(row: str, true: str) -> str:
    """The statement marking the span that holds ``row``'s close; no outside input."""
    where = f"vendor_id = {row}.vendor_id AND end_at > {row}.closed_at"
    where += f" AND start_at <= {row}.closed_at AND NOT dirty"
    return f"UPDATE report_span SET dirty = {true} WHERE {where};"  # noqa: S608


POSTGRES_FUNCTION = f"""
CREATE FUNCTION report_span_touch_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.closed_at IS NOT NULL THEN
        {_mark("OLD", "true")}
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.closed_at IS NOT NULL THEN
            {_mark("NEW", "true")}
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.closed_at IS NOT NULL AND (NEW.vendor_id, NEW.closed_at)
                IS DISTINCT FROM (OLD.vendor_id, OLD.closed_at) THEN
            {_mark("NEW", "true")}
        END IF;
    END IF;
    RETURN NULL;
END
$$
"""

SQLITE_TRIGGERS = {
    "report_span_touch_closed_insert": (
        f"AFTER INSERT ON assignment WHEN NEW.closed_at IS NOT NULL BEGIN {_mark('NEW', '1')} END"
    ),
    "report_span_touch_closed_delete": (
        f"AFTER DELETE ON assignment WHEN OLD.closed_at IS NOT NULL BEGIN {_mark('OLD', '1')} END"
    ),
    "report_span_touch_closed_update": (
        f"AFTER UPDATE OF {WATCHED} ON assignment BEGIN {_mark('OLD', '1')} {_mark('NEW', '1')} END"
    ),
}


def upgrade():
    bigid = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "report_close_rollup",
        sa.Column("span_id", bigid, nullable=False),
        sa.Column("won", sa.Integer(), nullable=False),
        sa.Column("lost", sa.Integer(), nullable=False),
        sa.Column("won_after_nurture", sa.Integer(), nullable=False),
        sa.Column("lost_after_nurture", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("held_microseconds", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["span_id"], ["report_span.id"], name=op.f("fk_report_close_rollup_span_id_report_span")
        ),
        sa.PrimaryKeyConstraint("span_id", name=op.f("pk_report_close_rollup")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(
            "CREATE TRIGGER report_span_touch_closed AFTER INSERT OR DELETE OR UPDATE OF "
            f"{WATCHED} ON assignment FOR EACH ROW EXECUTE FUNCTION report_span_touch_closed()"
        )
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute(sa.text("UPDATE report_span SET dirty = :yes").bindparams(yes=True))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS report_span_touch_closed ON assignment")
        op.execute("DROP FUNCTION IF EXISTS report_span_touch_closed()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("report_close_rollup")
