"""A one-sheet XLSX workbook written as a stream of bytes, row by row.

The downloads need one sheet of plain values, a bold frozen header and text that
never runs as a formula. openpyxl (even write-only) spent about 12 µs a cell,
half a minute for a quarter's 300,000 hand-overs, and gave no byte before the
last row. Here each row becomes a line of SpreadsheetML with its text inline
(``t="inlineStr"``: no shared-string table to hold, and never a formula), and
the zip is written with data descriptors, so each chunk goes out as it is made.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_OFFICE = "application/vnd.openxmlformats-officedocument"

CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="{_CT}">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE}.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="{_OFFICE}.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="{_OFFICE}.spreadsheetml.styles+xml"/>
</Types>"""
ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PKG_REL}">
<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PKG_REL}">
<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>
</Relationships>"""
# Style 0: plain; style 1: bold (the header).
STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_MAIN}">
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""
SHEET_HEAD = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0">\
<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>\
</sheetView></sheetViews><sheetData>"""
SHEET_TAIL = "</sheetData></worksheet>"

# Characters XML 1.0 cannot hold at all; a spreadsheet cell could not show them either.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# What a text cell needs changed before it is written: those, and what XML escapes.
_ESCAPE = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
ROWS_PER_CHUNK = 500
SHEET_NAME_LIMIT = 31


def _workbook(title: str) -> str:
    name = _NOT_XML.sub("", re.sub(r"[\[\]:*?/\\]", " ", title))[:SHEET_NAME_LIMIT] or "Report"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        f'<sheet name={quoteattr(name)} sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def column_letter(index: int) -> str:
    """``0 -> "A"``, ``26 -> "AA"``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _row(number: int, values: Sequence[Any], letters: list[str], style: str) -> str:
    # Dispatched on the exact type first: a download writes a cell per value, and
    # isinstance against a union, a regex and escape() for every one of them were a
    # quarter of the CPU of the leads download (309,609 rows).
    while len(letters) < len(values):
        letters.append(column_letter(len(letters)))
    cells = []
    for letter, value in zip(letters, values, strict=False):
        kind = type(value)
        if kind is bool:  # a bool is an int; callers pass "yes"/"no" anyway
            value, kind = ("yes" if value else "no"), str
        if kind is int or kind is float or (kind is not str and isinstance(value, int | float)):
            cells.append(f'<c r="{letter}{number}"{style}><v>{value!r}</v></c>')
            continue
        text = value if kind is str else str(value)
        if _ESCAPE.search(text):
            text = escape(_NOT_XML.sub("", text))
        cells.append(
            f'<c r="{letter}{number}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t>'
            "</is></c>"
        )
    return f'<row r="{number}">{"".join(cells)}</row>'


class _Chunks:
    """A write-only file that keeps what is written until it is taken."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def stream(title: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The workbook's bytes, a chunk about every ``ROWS_PER_CHUNK`` rows.

    Values are written as they are: numbers as numbers, anything else as text.
    """
    out = _Chunks()
    letters: list[str] = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for name, text in (
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", ROOT_RELS),
            ("xl/workbook.xml", _workbook(title)),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            ("xl/styles.xml", STYLES),
        ):
            book.writestr(name, text)
        with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write((SHEET_HEAD + _row(1, header, letters, ' s="1"')).encode())
            lines: list[str] = []
            for number, values in enumerate(rows, start=2):
                lines.append(_row(number, values, letters, ""))
                if len(lines) >= ROWS_PER_CHUNK:
                    sheet.write("".join(lines).encode())
                    lines = []
                    if out.parts:
                        yield out.take()
            sheet.write(("".join(lines) + SHEET_TAIL).encode())
    yield out.take()
