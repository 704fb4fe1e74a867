"""Tallies: counts, revenue, reasons and durations of a group of hand-overs, that add up.

A report adds the tallies of rolled-up spans (``distribution.models.reports``) to
the tally of what it counts live. Medians and percentiles cannot be added, so a
tally keeps the durations themselves (times to accept and to first follow-up,
in seconds): the live ones as floats, the rolled ones as packed little-endian
float64 arrays, which join without decoding value by value. The percentiles of
the sum are then those of the exact durations, interpolated as PostgreSQL's
``percentile_cont`` does, so a report reads the same whether its days were
rolled up or counted live. The cost is eight bytes per duration read.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


def pack(values: Iterable[float]) -> bytes:
    """Durations as a little-endian float64 array."""
    packed = array("d", values)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def unpack(chunks: Iterable[bytes], extra: Iterable[float] = ()) -> array[float]:
    """The durations of packed ``chunks`` and ``extra``, in one array."""
    values = array("d")
    for chunk in chunks:
        if chunk:
            values.frombytes(chunk)
    if sys.byteorder != "little":
        values.byteswap()
    values.extend(extra)
    return values


def percentile(values: Iterable[float], p: float) -> float | None:
    """The ``p`` quantile with linear interpolation, as PostgreSQL's ``percentile_cont``."""
    return percentile_of_sorted(sorted(values), p)


def percentile_of_sorted(ordered: Sequence[float], p: float) -> float | None:
    """``percentile`` of values already in ascending order (a report asks for several
    quantiles of one set: sorting it once is most of their cost)."""
    if not ordered:
        return None
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def add(into: dict[str, int], other: Mapping[str, int]) -> None:
    for key, n in other.items():
        into[key] = into.get(key, 0) + n


@dataclass
class Tally:
    """What one group of hand-overs adds to a report."""

    counts: dict[str, int] = field(default_factory=dict)
    revenue_cents: int = 0
    declines: dict[str, int] = field(default_factory=dict)
    returns: dict[str, int] = field(default_factory=dict)
    accept_values: list[float] = field(default_factory=list)  # seconds, live
    followup_values: list[float] = field(default_factory=list)
    accept_packed: list[bytes] = field(default_factory=list)  # seconds, rolled up
    followup_packed: list[bytes] = field(default_factory=list)

    def add_counts(self, counts: Mapping[str, int]) -> None:
        mine = self.counts
        for name, n in counts.items():
            mine[name] = mine.get(name, 0) + n

    def add(self, other: Tally) -> None:
        self.add_counts(other.counts)
        self.revenue_cents += other.revenue_cents
        add(self.declines, other.declines)
        add(self.returns, other.returns)
        self.accept_values += other.accept_values
        self.followup_values += other.followup_values
        self.accept_packed += other.accept_packed
        self.followup_packed += other.followup_packed

    def accept_seconds(self) -> array[float]:
        return unpack(self.accept_packed, self.accept_values)

    def followup_seconds(self) -> array[float]:
        return unpack(self.followup_packed, self.followup_values)
