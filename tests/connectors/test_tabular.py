"""CSV and XLSX batches: delimiters, encodings, streaming, header mapping, limits."""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc
import types

import pytest
from openpyxl import Workbook

from connectors.errors import ParseError
from connectors.tabular import apply_mapping, guess_mapping, read_table, safe_cell


def rows_of(data: bytes, kind: str = "leads.csv", **limits) -> tuple[list[str], list[dict]]:
    table = read_table(io.BytesIO(data), kind, **limits)
    return table.headers, list(table.rows)


def test_semicolons_a_bom_and_quoted_newlines():
    data = (
        "\ufeffFirst Name;Last Name;Zip;Comments\r\n"
        'Ada;Lovelace;94107;"Two lines;\r\nwith a semicolon"\r\n'
    ).encode("utf-8")
    headers, rows = rows_of(data)
    assert headers == ["First Name", "Last Name", "Zip", "Comments"]
    assert rows == [
        {
            "First Name": "Ada",
            "Last Name": "Lovelace",
            "Zip": "94107",
            "Comments": "Two lines;\r\nwith a semicolon",
        }
    ]


def test_windows_1252_files_are_read_as_such():
    data = "Vorname,Nachname,Ort\nJürgen,Müller,Köln – Süd\n".encode("cp1252")
    _headers, rows = rows_of(data)
    assert rows == [{"Vorname": "Jürgen", "Nachname": "Müller", "Ort": "Köln – Süd"}]


def test_a_stray_1252_byte_in_a_utf8_file_does_not_spoil_the_rest():
    head = "name,city\n" + "".join(f"Zoë{i},Zürich\n" for i in range(5000))
    data = head.encode("utf-8") + "Renée,Genève\n".encode("cp1252")
    _headers, rows = rows_of(data)
    assert rows[0] == {"name": "Zoë0", "city": "Zürich"}
    assert rows[-1] == {"name": "Renée", "city": "Genève"}


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_sniffed(delimiter):
    data = delimiter.join(["email", "company", "city"]) + "\n"
    data += delimiter.join(["a@b.example.com", "Acme, Inc.", "Springfield"]) + "\n"
    if delimiter == ",":
        data = data.replace("Acme, Inc.", '"Acme, Inc."')
    headers, rows = rows_of(data.encode())
    assert headers == ["email", "company", "city"]
    assert rows[0]["company"] == "Acme, Inc."


def test_utf16_excel_unicode_text_is_read():
    data = "First Name\tEmail\nŁukasz\tl@example.com\n".encode("utf-16")
    _headers, rows = rows_of(data, "leads.txt")
    assert rows == [{"First Name": "Łukasz", "Email": "l@example.com"}]


def test_formula_looking_cells_stay_text():
    _headers, rows = rows_of(b'name,note\n=HYPERLINK("x"),+1-2\n')
    assert rows == [{"name": '=HYPERLINK("x")', "note": "+1-2"}]


def test_short_long_blank_and_duplicate_header_rows():
    data = b"Phone,Phone,,Email,\n1,2,3,a@b.example.com,,extra\n\n\n5\n"
    headers, rows = rows_of(data)
    assert headers == ["Phone", "Phone (2)", "column 3", "Email"]
    assert rows == [
        {
            "Phone": "1",
            "Phone (2)": "2",
            "column 3": "3",
            "Email": "a@b.example.com",
            "column 6": "extra",
        },
        {"Phone": "5", "Phone (2)": None, "column 3": None, "Email": None},
    ]


def test_a_hundred_thousand_rows_stream_in_bounded_memory():
    lines = ["first_name,last_name,email,country"]
    lines += [f"First{i},Last{i},person{i}@example.com,US" for i in range(100_000)]
    data = ("\n".join(lines) + "\n").encode()
    table = read_table(io.BytesIO(data), "text/csv")
    assert isinstance(table.rows, types.GeneratorType)
    tracemalloc.start()
    try:
        count = sum(1 for _row in table.rows)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000
    # 100,000 row dicts held at once would take tens of MiB; streaming stays near a buffer.
    assert peak < 4 * 1024 * 1024, peak


def test_rows_stream_from_a_non_seekable_source():
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes):
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self._data.read(min(len(buffer), 7))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    table = read_table(Pipe(b"email;city\na@b.example.com;Oslo\n"), "csv")
    assert list(table.rows) == [{"email": "a@b.example.com", "city": "Oslo"}]


def test_size_and_row_limits_name_the_row():
    data = b"email,note\n" + b"a@b.example.com,ok\n" * 3 + b"c@d.example.com," + b"x" * 5000 + b"\n"
    with pytest.raises(ParseError, match="row 5 is longer than 1000") as failed:
        rows_of(data, max_row_chars=1000)
    assert failed.value.row == 5
    with pytest.raises(ParseError, match="row 3: more than 1 rows"):
        rows_of(data, max_rows=1)
    with pytest.raises(ParseError, match="row 2 has 5 cells; the limit is 4"):
        rows_of(b"a,b\n1,2,3,4,5\n", max_columns=4)
    big = b"email\n" + b"someone@example.com\n" * 10_000
    with pytest.raises(ParseError, match="larger than the import limit") as failed:
        rows_of(big, max_bytes=100_000)
    assert failed.value.row and failed.value.row > 2


def test_a_huge_cell_is_a_parse_error_with_its_row():
    data = b"email,note\na@b.example.com,ok\n" + b'x,"' + b"y" * 200_000 + b'"\n'
    with pytest.raises(ParseError, match="row 3") as failed:
        rows_of(data)
    assert failed.value.row == 3


def test_an_empty_file_or_unknown_kind_is_a_parse_error():
    with pytest.raises(ParseError, match="no header row"):
        rows_of(b"")
    with pytest.raises(ParseError, match="not a CSV or XLSX"):
        rows_of(b"a,b\n", "leads.pdf")


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.create_sheet("Second").append(["ignored"])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def test_xlsx_first_sheet_values_with_iso_dates_and_formulas_as_text():
    data = xlsx(
        [
            ["First Name", "Email", "Zip", "Requested", "Called at", "Score", "Opt in", "Formula"],
            [
                "Grace",
                "grace@navy.example.com",
                94107,
                dt.date(2026, 11, 20),
                dt.datetime(2026, 11, 20, 9, 30),  # noqa: DTZ001 - Excel has no zones
                7.5,
                True,
                "=1+1",
            ],
            [None, None, None, None, None, None, None, None],
            ["Alan", None, "01234", None, None, None, False, None],
        ]
    )
    headers, rows = rows_of(data, "leads.xlsx")
    assert headers[:3] == ["First Name", "Email", "Zip"]
    assert rows[0] == {
        "First Name": "Grace",
        "Email": "grace@navy.example.com",
        "Zip": "94107",
        "Requested": "2026-11-20",
        "Called at": "2026-11-20T09:30:00",
        "Score": "7.5",
        "Opt in": "true",
        "Formula": "=1+1",
    }
    assert rows[1]["Zip"] == "01234" and rows[1]["Opt in"] == "false"
    assert len(rows) == 2


def test_xlsx_kind_from_media_type_and_a_bad_workbook():
    data = xlsx([["email"], ["a@b.example.com"]])
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert rows_of(data, kind)[1] == [{"email": "a@b.example.com"}]
    with pytest.raises(ParseError, match="not an XLSX workbook"):
        rows_of(b"first_name,last_name\n", "leads.xlsx")


def test_guess_mapping_uses_the_form_vocabulary():
    headers = ["First Name", "LAST_NAME", "E-mail", "Zip Code", "Mobile Phone", "Industry", "Phone"]
    headers += ["phone number", "Lead Source", "Name"]
    assert guess_mapping(headers) == {
        "First Name": "first_name",
        "LAST_NAME": "last_name",
        "E-mail": "email",
        "Zip Code": "postal_code",
        "Mobile Phone": "mobile",
        "Industry": None,
        "Phone": "phone",
        "phone number": None,  # phone is already taken by the first column naming it
        "Lead Source": "source",
        "Name": None,  # not a lead field on its own; a person can map it
    }


def test_apply_mapping_keeps_unmapped_columns_and_drops_blanks():
    row = {"First Name": " Ada ", "Notes": "a", "Comments": "b", "Industry": "Computing", "X": ""}
    mapping = {"First Name": "first_name", "Notes": "description", "Comments": "description"}
    assert apply_mapping(row, mapping) == {
        "first_name": "Ada",
        "description": "a\nb",
        "Industry": "Computing",
    }
    assert apply_mapping(row, mapping, keep_unmapped=False) == {
        "first_name": "Ada",
        "description": "a\nb",
    }
    assert apply_mapping({"Who": "Ada Lovelace"}, {"Who": "full_name"}) == {
        "first_name": "Ada",
        "last_name": "Lovelace",
    }


@pytest.mark.parametrize("cell", ["=SUM(A1)", "+1", "-2", "@x", "\tx", "\rx"])
def test_a_cell_we_write_that_a_spreadsheet_would_run_is_kept_as_text(cell):
    assert safe_cell(cell) == "'" + cell
    assert safe_cell("plain, 42") == "plain, 42"
