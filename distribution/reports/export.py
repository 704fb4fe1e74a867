"""Report tables as CSV or XLSX downloads, safe to open in a spreadsheet.

A text cell that starts like a formula (= + - @, tab or CR) is written with a
leading apostrophe by ``tabular.safe_cell``, in CSV and XLSX alike, so a lead's
campaign name can never run as a formula on a manager's machine. Numbers stay
numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from connectors.tabular import safe_cell

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Table:
    """A titled table of plain values: what a page shows, ready to download."""

    name: str  # file name stem, e.g. "partners-2026-01-05-2026-01-11"
    title: str
    columns: list[str]
    rows: list[Sequence[Any]] = field(default_factory=list)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    return safe_cell(str(value))


def to_csv(table: Table) -> bytes:
    """The table as UTF-8 CSV with a byte-order mark (so Excel reads accents right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_cell(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    """The table as one worksheet, header row bold and frozen.

    Written row by row (openpyxl's write-only mode): a workbook held in memory
    cell by cell cost more than the query for a few thousand rows.
    """
    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.title[:31] or "Report")
    sheet.freeze_panes = "A2"
    sheet.append([_xlsx_cell(sheet, c, bold=True) for c in table.columns])
    for row in table.rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: Any, value: Any, bold: bool = False) -> Any:
    """``value`` as ``_cell`` makes it; a styled or formula-like text cell marked as text.

    openpyxl takes a string starting with "=" as a formula; ``safe_cell`` has already
    prefixed those, and such a cell is still marked as text so nothing is evaluated.
    """
    value = _cell(value)
    if not bold and not (isinstance(value, str) and value.startswith("=")):
        return value
    cell = WriteOnlyCell(sheet, value)
    if isinstance(value, str):
        cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def render(table: Table, fmt: str) -> tuple[bytes, str, str]:
    """``(body, content type, file name)`` of ``table`` as ``fmt`` (csv or xlsx)."""
    if fmt == "xlsx":
        return to_xlsx(table), XLSX_TYPE, f"{table.name}.xlsx"
    return to_csv(table), CSV_TYPE, f"{table.name}.csv"
