"""Report tables as CSV or XLSX downloads, safe to open in a spreadsheet.

A text cell that starts like a formula (= + - @, tab or CR) is written with a
leading apostrophe by ``tabular.safe_cell``, in CSV and XLSX alike, so a lead's
campaign name can never run as a formula on a manager's machine (and an XLSX
text cell is inline text, which no spreadsheet evaluates). Numbers stay numbers.
Both formats are written as a stream of chunks (``stream``), so a download of
hundreds of thousands of rows starts at once and is never held whole.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.tabular import safe_cell
from distribution.reports import xlsx

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Table:
    """A titled table of plain values: what a page shows, ready to download."""

    name: str  # file name stem, e.g. "partners-2026-01-05-2026-01-11"
    title: str
    columns: list[str]
    rows: list[Sequence[Any]] = field(default_factory=list)
    # Rows after ``rows`` read once, as the file is written (a large download's cursor).
    streamed: Iterable[Sequence[Any]] = ()

    def every_row(self) -> Iterator[Sequence[Any]]:
        yield from self.rows
        yield from self.streamed


def _cell(value: Any) -> Any:
    kind = type(value)  # the common types first, by identity: a download is all cells
    if kind is int or kind is float:
        return value
    if kind is str:
        return safe_cell(value)
    if value is None:
        return ""
    if kind is bool:
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    return safe_cell(str(value))


CSV_ROWS_PER_CHUNK = 1000


def csv_chunks(table: Table) -> Iterator[bytes]:
    """The table as UTF-8 CSV with a byte-order mark (so Excel reads accents right),
    a chunk every ``CSV_ROWS_PER_CHUNK`` rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow([_cell(c) for c in table.columns])
    for n, row in enumerate(table.every_row(), start=1):
        writer.writerow([_cell(v) for v in row])
        if n % CSV_ROWS_PER_CHUNK == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def xlsx_chunks(table: Table) -> Iterator[bytes]:
    """The table as one worksheet, header row bold and frozen, text never a formula."""
    cells = ([_cell(v) for v in row] for row in table.every_row())
    return xlsx.stream(table.title, [_cell(c) for c in table.columns], cells)


def stream(table: Table, fmt: str) -> tuple[Iterator[bytes], str, str]:
    """``(chunks, content type, file name)`` of ``table`` as ``fmt`` (csv or xlsx).

    The rows are read as the chunks are taken, so a table whose rows come from a
    server-side cursor is never held whole.
    """
    if fmt == "xlsx":
        return xlsx_chunks(table), XLSX_TYPE, f"{table.name}.xlsx"
    return csv_chunks(table), CSV_TYPE, f"{table.name}.csv"


def render(table: Table, fmt: str) -> tuple[bytes, str, str]:
    """``(body, content type, file name)`` of ``table`` as ``fmt`` (csv or xlsx)."""
    chunks, content_type, name = stream(table, fmt)
    return b"".join(chunks), content_type, name
