"""The report roll-up: hand-over figures per partner, counted once per closed stretch of days.

A ``ReportSpan`` is one local day, week (Monday to Sunday) or month of a vendor's
calendar, held as the half-open UTC range ``[start_at, end_at)`` of its local
midnights in ``tz``. Its ``ReportRollup`` rows hold, per partner, the counts of
the assignments *offered* in that range as they stood at ``rolled_at``, and their
durations (to accept, to first follow-up) packed as float64 arrays, so medians
and percentiles of any set of spans stay exact (see ``distribution.reports.tally``).

A span is usable while it is ready (``rolled_at`` set), clean, in the zone of the
period asked for, and ``rolled_at <= now < stale_at``: ``stale_at`` is the first
follow-up deadline, after ``rolled_at``, of a lead accepted and not yet followed
up, when "follow-up due" would change without any row changing. Database
triggers on ``assignment`` (created by the migration) set ``dirty`` on every span
whose range holds an assignment that was inserted, deleted, or changed in a
column the figures read; the roll-up job (``distribution.reports.rollup``) counts
those spans again. ``ReportSourceRollup`` holds the source-quality figures of the
leads *received* in a span; triggers on ``lead`` (and on ``assignment``, through
its lead's ``received_at``) mark those spans dirty in the same way.
``ReportCloseRollup`` holds what *closed* in a span (by ``closed_at``), and a
trigger on ``assignment`` marks the span of a close, before and after a change.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from distribution.db import Model
from distribution.models.types import JSONType, UTCDateTime

_BIGID = BigInteger().with_variant(Integer, "sqlite")


class ReportSpan(Model):
    """One rolled day, week or month of a vendor's local calendar."""

    __tablename__ = "report_span"
    __table_args__ = (
        UniqueConstraint("vendor_id", "grain", "first_day"),
        # The triggers look spans up by the moment an assignment was offered.
        Index("ix_report_span_vendor_end", "vendor_id", "end_at"),
    )

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    grain: Mapped[str] = mapped_column(String(8))  # day | week | month
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    tz: Mapped[str] = mapped_column(String(64))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: being rolled
    stale_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: never by itself
    dirty: Mapped[bool] = mapped_column(Boolean, default=False)


class _HandOverFigures:
    """The figure columns of a ``ReportRollup`` row and of a ``ReportSpanTotal`` row."""

    # Counts named as in distribution.reports.figures.CONDITIONS ("open" is open_now).
    offered: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    declined: Mapped[int] = mapped_column(Integer, default=0)
    expired: Mapped[int] = mapped_column(Integer, default=0)
    recalled: Mapped[int] = mapped_column(Integer, default=0)
    timed_accept: Mapped[int] = mapped_column(Integer, default=0)
    followup_due: Mapped[int] = mapped_column(Integer, default=0)
    followed_up: Mapped[int] = mapped_column(Integer, default=0)
    late_followup: Mapped[int] = mapped_column(Integer, default=0)
    with_followup: Mapped[int] = mapped_column(Integer, default=0)
    won: Mapped[int] = mapped_column(Integer, default=0)
    lost: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    open_now: Mapped[int] = mapped_column(Integer, default=0)
    revenue_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # {"declines": {reason: n}, "returns": {reason: n}}, or None when there are neither
    reasons: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    accept_seconds: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # float64 LE
    followup_seconds: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class ReportRollup(_HandOverFigures, Model):
    """The figures of one partner over one span (partners with no offers have no row)."""

    __tablename__ = "report_rollup"
    __table_args__ = (UniqueConstraint("span_id", "partner_id"),)

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    span_id: Mapped[int] = mapped_column(ForeignKey("report_span.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)


class ReportSpanTotal(_HandOverFigures, Model):
    """The figures of every partner's hand-overs together over one span.

    Its ``ReportRollup`` rows added up, written with them by the roll-up job, one
    row for every rolled span (zeros when nothing was offered), its durations
    packed in ascending order: the weekly trends and the totals read a row a span
    and take medians of one sorted array, where the partners' rows were some
    thousand arrays to join and sort. A span rolled before this table existed has
    no row, and is read from its partners' rows.
    """

    __tablename__ = "report_span_total"

    span_id: Mapped[int] = mapped_column(
        _BIGID, ForeignKey("report_span.id"), primary_key=True, autoincrement=False
    )


class ReportCloseRollup(Model):
    """The hand-overs of a vendor *closed* in one span, every partner together.

    Counted by the day of ``closed_at`` (``distribution.reports.closes``), for the
    nurture report's closes and lead planning's holding time: won and lost, those
    of them whose lead had gone into nurture before the hand-over was offered, and
    of the closes with an ``accepted_at`` how many and their time held in all.
    Triggers on ``assignment`` mark the span holding a close (``closed_at``, before
    and after a change) dirty. One row for every rolled span, zeros when nothing
    closed; a span rolled before this table existed has none and is counted live.
    """

    __tablename__ = "report_close_rollup"

    span_id: Mapped[int] = mapped_column(
        _BIGID, ForeignKey("report_span.id"), primary_key=True, autoincrement=False
    )
    won: Mapped[int] = mapped_column(Integer, default=0)
    lost: Mapped[int] = mapped_column(Integer, default=0)
    won_after_nurture: Mapped[int] = mapped_column(Integer, default=0)
    lost_after_nurture: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)  # closes with an accepted_at
    held_microseconds: Mapped[int] = mapped_column(BigInteger, default=0)  # summed over them


class ReportSourceRollup(Model):
    """The source-quality figures of one source and campaign over one span.

    The leads *received* in the span (``distribution.reports.sources`` counts
    them), as they and their hand-overs stood at the span's ``rolled_at``; the
    spans are the same as the partner roll-up's, rolled by the same job and made
    dirty by triggers on ``lead`` and on ``assignment`` (through its lead).
    """

    __tablename__ = "report_source_rollup"

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    span_id: Mapped[int] = mapped_column(ForeignKey("report_span.id"), index=True)
    source: Mapped[str] = mapped_column(String(120))  # "" for none, as the page groups it
    campaign: Mapped[str] = mapped_column(String(120))
    # Counts named as in distribution.reports.sources.LEAD_FIGURES.
    volume: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    suppressed: Mapped[int] = mapped_column(Integer, default=0)
    handed: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    followed_up: Mapped[int] = mapped_column(Integer, default=0)
    won: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    revenue_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    returns: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # reason -> n, or None


class ReportSegmentRollup(Model):
    """Qualified leads of one segment over one span, and who they were handed to.

    The leads *received* in the span that passed intake into routing (as quota
    progress counts them: ``distribution.reports.segments``), by country, state and
    lower-cased product ("" for none). A row with neither ``partner_id`` nor
    ``tier`` holds all of them; one with a ``partner_id`` those handed to that
    partner (``tier`` is then the partner's, lower-cased); one with only a ``tier``
    those handed to a partner of that tier. ``followed`` counts the ones with a
    first follow-up logged (by that partner or tier). Same spans and triggers as
    the source roll-up, and a partner's tier changing marks its vendor's spans.
    """

    __tablename__ = "report_segment_rollup"

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    span_id: Mapped[int] = mapped_column(ForeignKey("report_span.id"), index=True)
    country: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(10))
    product: Mapped[str] = mapped_column(String(120))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"))
    tier: Mapped[str | None] = mapped_column(String(40))
    leads: Mapped[int] = mapped_column(Integer, default=0)
    followed: Mapped[int] = mapped_column(Integer, default=0)
