"""The one clock of the project.

Every deadline, timestamp and window reads ``now()``; tests move time with
``frozen_at`` or ``advance`` instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None
_offset = timedelta(0)


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def advance(delta: timedelta) -> None:
    """Move the clock forward (tests and demos only)."""
    global _frozen, _offset
    if _frozen is not None:
        _frozen = _frozen + delta
    else:
        _offset = _offset + delta


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Hold the clock at ``moment`` (aware) until the block ends."""
    global _frozen
    if moment.tzinfo is None:
        raise ValueError("frozen_at needs an aware datetime")
    previous = _frozen
    _frozen = moment.astimezone(UTC)
    try:
        yield
    finally:
        _frozen = previous


def reset() -> None:
    """Back to the real time."""
    global _frozen, _offset
    _frozen = None
    _offset = timedelta(0)
