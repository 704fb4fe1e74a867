"""CSV and XLSX batches read as a stream of rows, and their headers mapped to lead fields.

CSV: the delimiter (, ; tab |) is sniffed from the first lines, a BOM is honoured,
the text is UTF-8 with a Windows-1252 fallback (per file, and per stray byte in
an otherwise UTF-8 file), and quoted newlines stay inside their cell. XLSX: the
first sheet, values only, dates as ISO strings. Formula-looking cells stay text:
nothing is evaluated. Rows are produced lazily so a large file never sits in
memory as objects; limits raise ``ParseError`` naming the row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from connectors.errors import ParseError
from connectors.fields import FULL_NAME, LEAD_FIELDS, canonical, clean, put_full_name

MAX_BYTES = 200 * 1024 * 1024
MAX_COLUMNS = 500
MAX_ROW_CHARS = 1024 * 1024
MAX_UNZIPPED = 512 * 1024 * 1024
_SAMPLE = 64 * 1024
_DELIMITERS = (",", ";", "\t", "|")
_FALLBACK = "leadrelay-cp1252"
_XLSX_TYPES = ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
_CSV_TYPES = ("csv", "txt", "tsv", "text/csv", "application/csv", "text/plain")

Row = dict[str, str | None]


@dataclass
class Table:
    """Headers read up front; ``rows`` is a one-pass iterator of header -> cell dicts."""

    headers: list[str]
    rows: Iterator[Row]
    kind: str


def read_table(
    stream: IO[bytes],
    filename_or_type: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_columns: int = MAX_COLUMNS,
    max_row_chars: int = MAX_ROW_CHARS,
    max_rows: int | None = None,
) -> Table:
    """Open a CSV or XLSX byte stream; the kind comes from a file name, suffix or media type."""
    kind = table_kind(filename_or_type)
    limits = _Limits(max_bytes, max_columns, max_row_chars, max_rows)
    if kind == "xlsx":
        return _read_xlsx(stream, limits)
    return _read_csv(stream, limits)


def table_kind(filename_or_type: str) -> str:
    """ "csv" or "xlsx" for a file name, bare suffix or media type; else ``ParseError``."""
    value = (filename_or_type or "").split(";", 1)[0].strip().lower()
    suffix = value.rpartition(".")[2] if "/" not in value else value
    if value in _XLSX_TYPES or suffix == "xlsx":
        return "xlsx"
    if value in _CSV_TYPES or suffix in _CSV_TYPES:
        return "csv"
    raise ParseError(f"'{filename_or_type}' is not a CSV or XLSX file")


def guess_mapping(headers: Sequence[str]) -> dict[str, str | None]:
    """Header -> lead field by the shared vocabulary (case, spaces, underscores ignored).

    A field is given to the first header that names it; later ones map to None.
    """
    mapping: dict[str, str | None] = {}
    taken: set[str] = set()
    for header in headers:
        field = canonical(header)
        if field not in LEAD_FIELDS or field in taken:
            field = None
        if field:
            taken.add(field)
        mapping[header] = field
    return mapping


def apply_mapping(
    row: Mapping[str, Any], mapping: Mapping[str, str | None], *, keep_unmapped: bool = True
) -> dict[str, str]:
    """A lead dict from one row: mapped columns under their field, the rest by header.

    Blank cells are dropped; two columns mapped to description are joined.
    """
    lead: dict[str, str] = {}
    full_name = None
    for header, cell in row.items():
        value = clean(cell)
        if value is None:
            continue
        field = mapping.get(header)
        if not field:
            if keep_unmapped:
                lead.setdefault(header.strip(), value)
            continue
        if field == FULL_NAME:
            full_name = full_name or value
        elif field == "description" and "description" in lead:
            lead["description"] += "\n" + value
        else:
            lead.setdefault(field, value)
    if full_name:
        put_full_name(lead, full_name)
    return lead


@dataclass(frozen=True)
class _Limits:
    max_bytes: int
    max_columns: int
    max_row_chars: int
    max_rows: int | None


class _TooLarge(Exception):
    pass


class _Counted(io.RawIOBase):
    """The already-read sample, then the rest of the stream, counting bytes against a limit."""

    def __init__(self, sample: bytes, stream: IO[bytes], limit: int):
        self._pending = sample
        self._stream = stream
        self._limit = limit
        self.count = len(sample)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._pending:
            size = min(len(buffer), len(self._pending))
            buffer[:size] = self._pending[:size]
            self._pending = self._pending[size:]
            return size
        chunk = self._stream.read(len(buffer))
        if not chunk:
            return 0
        self.count += len(chunk)
        if self.count > self._limit:
            raise _TooLarge
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode a byte that is not UTF-8 as Windows-1252 (Latin-1 for its five holes)."""
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start : error.end]
    text = "".join(
        bytes([b]).decode("cp1252") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else chr(b)
        for b in bad
    )
    return text, error.end


codecs.register_error(_FALLBACK, _cp1252_fallback)


def _encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _sniff_delimiter(text: str) -> str:
    """The candidate that splits the first lines into the most, consistent, columns."""
    lines = text.splitlines(keepends=True)[:21]
    if len(lines) > 1:
        lines = lines[:-1]  # the last sampled line may be cut short
    best, best_score = ",", (False, 1)
    for delimiter in _DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(io.StringIO("".join(lines)), delimiter=delimiter)]
        except csv.Error:
            continue
        widths = [w for w in widths if w] or [1]
        score = (len(set(widths)) == 1 and widths[0] > 1, widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_csv(stream: IO[bytes], limits: _Limits) -> Table:
    sample = stream.read(_SAMPLE)
    encoding = _encoding(sample)
    raw = _Counted(sample, stream, limits.max_bytes)
    text = io.TextIOWrapper(io.BufferedReader(raw), encoding, errors=_FALLBACK, newline="")
    delimiter = _sniff_delimiter(sample.decode(encoding, errors=_FALLBACK))
    reader = csv.reader(text, delimiter=delimiter)
    try:
        first = next(reader, None)
    except (csv.Error, _TooLarge) as exc:
        raise ParseError(f"row 1 (the headers) cannot be read: {_why(exc)}", row=1) from exc
    if not first or not any(cell.strip() for cell in first):
        raise ParseError("the file has no header row", row=1)
    headers = _headers(first, limits)
    return Table(headers, _csv_rows(reader, headers, limits), "csv")


def _csv_rows(reader: Any, headers: list[str], limits: _Limits) -> Iterator[Row]:
    number = 1
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (csv.Error, _TooLarge) as exc:
            raise ParseError(f"row {number}: {_why(exc)}", row=number) from exc
        if not cells or not any(c.strip() for c in cells):
            continue
        yield _row(headers, cells, number, limits)


def _why(exc: Exception) -> str:
    if isinstance(exc, _TooLarge):
        return "the file is larger than the import limit"
    return f"not valid CSV ({exc})"


def _headers(cells: Sequence[Any], limits: _Limits) -> list[str]:
    if len(cells) > limits.max_columns:
        raise ParseError(f"row 1 has {len(cells)} columns; the limit is {limits.max_columns}")
    headers: list[str] = []
    for index, cell in enumerate(cells):
        name = clean(cell) or f"column {index + 1}"
        unique, copy = name, 2
        while unique in headers:
            unique, copy = f"{name} ({copy})", copy + 1
        headers.append(unique)
    while headers and headers[-1].startswith("column ") and not clean(cells[len(headers) - 1]):
        headers.pop()  # trailing empty header cells (a trailing delimiter)
    return headers


def _row(headers: list[str], cells: Sequence[str | None], number: int, limits: _Limits) -> Row:
    if limits.max_rows is not None and number - 1 > limits.max_rows:
        raise ParseError(f"row {number}: more than {limits.max_rows} rows", row=number)
    if len(cells) > limits.max_columns:
        raise ParseError(
            f"row {number} has {len(cells)} cells; the limit is {limits.max_columns}", row=number
        )
    if sum(len(c) for c in cells if c) > limits.max_row_chars:
        raise ParseError(
            f"row {number} is longer than {limits.max_row_chars} characters", row=number
        )
    row: Row = dict(zip(headers, cells, strict=False))
    for index in range(len(headers), len(cells)):
        if cells[index]:
            row[f"column {index + 1}"] = cells[index]
    for header in headers[len(cells) :]:
        row[header] = None
    return row


def _read_xlsx(stream: IO[bytes], limits: _Limits) -> Table:
    from openpyxl import load_workbook  # only XLSX imports pay for openpyxl

    if not (hasattr(stream, "seekable") and stream.seekable()):
        stream = io.BytesIO(stream.read(limits.max_bytes + 1))
    _check_zip(stream, limits)
    try:
        book = load_workbook(stream, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ParseError(f"the XLSX file cannot be opened: {exc}") from exc
    if not book.worksheets:
        book.close()
        raise ParseError("the XLSX file has no worksheet")
    cells = book.worksheets[0].iter_rows(values_only=True)
    try:
        first = next(cells, None)
    except Exception as exc:
        book.close()
        raise ParseError(f"row 1 (the headers) cannot be read: {exc}", row=1) from exc
    if not first or not any(_cell_text(c) for c in first):
        book.close()
        raise ParseError("the first sheet has no header row", row=1)
    headers = _headers([_cell_text(c) for c in _trim(first)], limits)
    return Table(headers, _xlsx_rows(book, cells, headers, limits), "xlsx")


def _check_zip(stream: IO[bytes], limits: _Limits) -> None:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size > limits.max_bytes:
        raise ParseError(f"the file is {size} bytes; the limit is {limits.max_bytes}")
    try:
        with zipfile.ZipFile(stream) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ParseError("the file is not an XLSX workbook (not a zip archive)") from exc
    finally:
        stream.seek(0)
    if unpacked > MAX_UNZIPPED:
        raise ParseError("the XLSX file unpacks to more than the import limit")


def _xlsx_rows(
    book: Any, cells: Iterator[tuple], headers: list[str], limits: _Limits
) -> Iterator[Row]:
    try:
        for number, values in enumerate(cells, start=2):
            texts = [_cell_text(v) for v in _trim(values)]
            if any(texts):
                yield _row(headers, texts, number, limits)
    finally:
        book.close()


def _trim(values: Sequence[Any]) -> Sequence[Any]:
    end = len(values)
    while end and values[end - 1] in (None, ""):
        end -= 1
    return values[:end]


def _cell_text(value: Any) -> str | None:
    """A cell as the text a person sees; a formula stays its own text, never evaluated."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = getattr(value, "text", None)  # openpyxl's ArrayFormula keeps its formula in .text
    return text if isinstance(text, str) else str(value)


# A spreadsheet takes a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Neutralize spreadsheet formulas in a cell we write (=, +, -, @ ...)."""
    return "'" + value if value.startswith(_FORMULA_START) else value
