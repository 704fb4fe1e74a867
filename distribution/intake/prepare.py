"""Reading raw leads before the database is asked anything: normalize, append, validate.

Pure functions of the raw rows and the vendor's region and required fields, so an
import can have another process read chunk N+1 while this one looks up, scores
and writes chunk N (``prepared_ahead``): reading and screening (all but velocity,
which needs the database) are over half of an import's work, and they then run on
the second core instead of before each write.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from distribution.errors import FieldError
from distribution.intake import appending
from distribution.intake.normalize import NormalizedLead, normalize
from distribution.intake.screening import Screening, Sender, screen_alone, sender_of
from distribution.intake.validate import validate, warnings

Chunk = TypeVar("Chunk")
# Chunks handed to the reading process ahead of the one being written.
AHEAD = 2


@dataclass
class Prepared:
    """One raw lead read: its normalized fields (with what appending added), the
    errors that reject it, the warnings of a lead kept anyway, and its raw payload."""

    normalized: NormalizedLead
    appended: dict[str, dict[str, str]]
    errors: list[FieldError]
    warnings: list[FieldError]
    payload: bytes | None
    sender: Sender
    screening: Screening | None  # all but velocity; None for a rejected lead


def prepare(
    raw: Mapping[str, Any],
    payload: bytes | None,
    region: str,
    required: list[str],
    sender: Sender | None = None,
) -> Prepared:
    """Read one raw lead as the vendor's ``region`` and ``required`` fields say, and
    screen it as far as it can be without the database."""
    normalized = normalize(raw, default_region=region)
    appended = appending.append(normalized.fields, normalized.country_from)
    errors = validate(normalized, required)
    who = sender_of(sender, normalized.extras)
    return Prepared(
        normalized,
        appended,
        errors,
        warnings(normalized, errors),
        payload,
        who,
        None if errors else screen_alone(normalized.fields, who),
    )


def prepare_rows(
    rows: Sequence[Mapping[str, Any]], region: str, required: list[str]
) -> list[Prepared]:
    """``prepare`` for rows of a file, each kept as its JSON for the raw payload."""
    return [
        prepare(raw, json.dumps(raw, ensure_ascii=False, default=str).encode(), region, required)
        for raw in rows
    ]


def prepared_ahead(
    chunks: Iterable[tuple[Chunk, Sequence[Mapping[str, Any]]]],
    region: str,
    required: list[str],
    *,
    parallel: bool,
) -> Iterator[tuple[Chunk, list[Prepared]]]:
    """Each chunk with its rows prepared, in order; with ``parallel``, a reading process
    prepares the next chunks while the caller works on the one yielded.

    The first chunk is read here while the process starts (it imports for a few
    seconds). A failure in the process raises here, as it would have in line.
    """
    if not parallel:
        for chunk, rows in chunks:
            yield chunk, prepare_rows(rows, region, required)
        return
    # "spawn": a fresh interpreter, not a fork of a worker holding database connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as reader:
        source = iter(chunks)
        first = next(source, None)
        if first is None:
            return
        pending: deque[tuple[Chunk, Future[list[Prepared]]]] = deque()

        def submit_next() -> None:
            following = next(source, None)
            if following is not None:
                chunk, rows = following
                pending.append((chunk, reader.submit(prepare_rows, rows, region, required)))

        for _ in range(AHEAD):
            submit_next()
        yield first[0], prepare_rows(first[1], region, required)
        while pending:
            chunk, future = pending.popleft()
            submit_next()
            yield chunk, future.result()
