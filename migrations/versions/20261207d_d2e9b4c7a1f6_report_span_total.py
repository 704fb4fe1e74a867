"""report_span_total: every partner's hand-over figures of a span added up, durations sorted

The weekly trends and the totals (the reasons and weekly downloads) add every
partner up. They read each span's partner rows of ``report_rollup``, a thousand a
span at a thousand partners, and sorted some 300,000 durations a quarter for their
medians (150 ms of the trends page at a million leads). The roll-up job now writes
beside those rows one row a span with their sums and the durations packed in
ascending order, so these reports read a row a span and a sorted array.

A span rolled before this revision has no total and is read from its partner
rows, as before, until it is next rolled. Weeks and months, which the trends and
totals mostly read, are marked dirty so that the next roll-up sums them again
from their days' rows (no hand-over is counted again for that); meanwhile their
days serve.

Revision ID: d2e9b4c7a1f6
Revises: c8d4e2a7f1b9
Created: 2026-12-07 12:20:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "d2e9b4c7a1f6"
down_revision = "c8d4e2a7f1b9"
branch_labels = None
depends_on = None

COUNTS = [
    "offered", "accepted", "declined", "expired", "recalled", "timed_accept", "followup_due",
    "followed_up", "late_followup", "with_followup", "won", "lost", "returned", "open_now",
]  # fmt: skip


def upgrade():
    op.create_table(
        "report_span_total",
        sa.Column("span_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=False),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("accept_seconds", sa.LargeBinary(), nullable=False),
        sa.Column("followup_seconds", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["span_id"], ["report_span.id"], name=op.f("fk_report_span_total_span_id_report_span")
        ),
        sa.PrimaryKeyConstraint("span_id", name=op.f("pk_report_span_total")),
    )
    op.execute("UPDATE report_span SET dirty = true WHERE grain IN ('week', 'month')")


def downgrade():
    op.drop_table("report_span_total")
