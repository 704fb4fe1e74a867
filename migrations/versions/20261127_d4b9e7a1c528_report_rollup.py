"""report roll-up: per-partner figures of closed days, weeks and months, kept fresh by triggers

Revision ID: d4b9e7a1c528
Revises: c3a8f2d6e415
Created: 2026-11-27 09:00:00

``report_span`` is a rolled stretch of a vendor's local calendar, ``report_rollup``
its per-partner figures. Triggers on ``assignment`` mark every span holding a
hand-over that is inserted, deleted, or changed in a column the figures read as
dirty, so a report never trusts a roll-up the data has moved away from.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "d4b9e7a1c528"
down_revision = "c3a8f2d6e415"
branch_labels = None
depends_on = None

# The assignment columns some report figure reads.
WATCHED = (
    "vendor_id, partner_id, offered_at, mode, status, accepted_at, followup_due_at, "
    "first_followup_at, won_amount_cents, decline_reason, return_reason"
)


def _mark(row: str, true: str) -> str:
    """The statement marking the spans that hold ``row`` (OLD or NEW); no outside input."""
    where = f"vendor_id = {row}.vendor_id AND end_at > {row}.offered_at"
    where += f" AND start_at <= {row}.offered_at AND NOT dirty"
    return f"UPDATE report_span SET dirty = {true} WHERE {where};"  # noqa: S608


POSTGRES_FUNCTION = f"""
CREATE FUNCTION report_span_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_mark("OLD", "true")}
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND (NEW.vendor_id, NEW.offered_at)
            IS DISTINCT FROM (OLD.vendor_id, OLD.offered_at)) THEN
        {_mark("NEW", "true")}
    END IF;
    RETURN NULL;
END
$$
"""

SQLITE_TRIGGERS = {
    "report_span_touch_insert": f"AFTER INSERT ON assignment BEGIN {_mark('NEW', '1')} END",
    "report_span_touch_delete": f"AFTER DELETE ON assignment BEGIN {_mark('OLD', '1')} END",
    "report_span_touch_update": " ".join(
        (
            f"AFTER UPDATE OF {WATCHED} ON assignment BEGIN",
            _mark("OLD", "1"),
            _mark("NEW", "1"),
            "END",
        )
    ),
}


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "report_span",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rolled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stale_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_report_span_vendor_id_vendor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_span")),
        sa.UniqueConstraint(
            "vendor_id", "grain", "first_day", name=op.f("uq_report_span_vendor_id_grain_first_day")
        ),
    )
    with op.batch_alter_table("report_span", schema=None) as batch_op:
        batch_op.create_index("ix_report_span_vendor_end", ["vendor_id", "end_at"], unique=False)

    counts = [
        "offered", "accepted", "declined", "expired", "recalled", "timed_accept", "followup_due",
        "followed_up", "late_followup", "with_followup", "won", "lost", "returned", "open_now",
    ]  # fmt: skip
    op.create_table(
        "report_rollup",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("span_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in counts),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.Column("reasons", _json(), nullable=True),
        sa.Column("accept_seconds", sa.LargeBinary(), nullable=False),
        sa.Column("followup_seconds", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partner.id"], name=op.f("fk_report_rollup_partner_id_partner")
        ),
        sa.ForeignKeyConstraint(
            ["span_id"], ["report_span.id"], name=op.f("fk_report_rollup_span_id_report_span")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_rollup")),
        sa.UniqueConstraint(
            "span_id", "partner_id", name=op.f("uq_report_rollup_span_id_partner_id")
        ),
    )
    with op.batch_alter_table("report_rollup", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_rollup_partner_id"), ["partner_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(
            "CREATE TRIGGER report_span_touch AFTER INSERT OR DELETE OR UPDATE OF "
            f"{WATCHED} ON assignment FOR EACH ROW EXECUTE FUNCTION report_span_touch()"
        )
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS report_span_touch ON assignment")
        op.execute("DROP FUNCTION IF EXISTS report_span_touch()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("report_rollup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_rollup_partner_id"))
    op.drop_table("report_rollup")
    with op.batch_alter_table("report_span", schema=None) as batch_op:
        batch_op.drop_index("ix_report_span_vendor_end")
    op.drop_table("report_span")
