"""Files refused before they are parsed: workbooks that unpack to gigabytes, claim millions of
rows or hold millions of cells, CSV headers of 200,000 columns, XML entities."""

from __future__ import annotations

import io
import re

import pytest
from hostile_files import rewritten, sparse_workbook

from analysis.file_limits import (
    MAX_COLUMNS,
    MAX_WORKBOOK_CELLS,
    FileTooLarge,
    check_csv_header,
    check_workbook,
)
from analysis.index import AppraisalError, read_table


def workbook_bytes(rows: int = 3) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["unit_code", "criterion"])
    for number in range(rows):
        sheet.append([f"u{number}", "1.1"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_plain_workbook_passes():
    check_workbook(workbook_bytes())
    check_csv_header("a,b,c\n1,2,3\n")


def test_a_workbook_that_claims_twenty_million_rows_is_refused_unread():
    bomb = rewritten(
        workbook_bytes(),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b'<dimension ref="A1:B4" />', b'<dimension ref="A1:B20000000" />'),
    )
    with pytest.raises(FileTooLarge, match="20,000,000 rows"):
        check_workbook(bomb)


def test_a_workbook_that_unpacks_to_gigabytes_is_refused():
    padded = rewritten(
        workbook_bytes(), "xl/styles.xml", lambda xml: xml + b" " * (60 * 1024 * 1024)
    )
    assert len(padded) < 1024 * 1024  # small on the wire
    with pytest.raises(FileTooLarge, match="more than 50 MB"):
        check_workbook(padded)


def test_a_csv_header_of_200001_columns_is_refused_at_once(tmp_path):
    wide = ",".join(f"c{i}" for i in range(200_001)) + "\n"
    with pytest.raises(FileTooLarge, match="200,001 columns"):
        check_csv_header(wide)
    path = tmp_path / "appraisal.csv"
    path.write_text(wide)
    with pytest.raises(AppraisalError, match="at most 200 are read"):
        read_table(path, "appraisal file")


def test_xml_entities_in_a_workbook_are_refused(tmp_path):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    bomb = rewritten(
        workbook_bytes(),
        "xl/worksheets/sheet1.xml",
        lambda xml: laughs + xml.replace(b">u0<", b">&lol2;<"),
    )
    path = tmp_path / "appraisal.xlsx"
    path.write_bytes(bomb)
    with pytest.raises(AppraisalError, match="cannot read the appraisal file"):
        read_table(path, "appraisal file")


def test_a_yaml_alias_bomb_is_refused_at_once():
    from analysis.yamllines import YamlSyntaxError, load_located

    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 10):  # each level ten times the last: 10 ** 10 values in all
        previous = "a" if n == 1 else f"l{n - 1}"
        lines.append(f"l{n}: &l{n} [{', '.join([f'*{previous}'] * 10)}]")
    with pytest.raises(YamlSyntaxError, match="more than 200,000 values"):
        load_located("\n".join(lines) + "\n")


def _without_dimension(xml: bytes) -> bytes:
    return re.sub(rb"<dimension [^>]*/>", b"", xml)


@pytest.mark.parametrize(
    "far",
    [
        # openpyxl gives every row up to a cell's row, empty ones too: one cell at row 20 million
        # made the invitee import run 2.5 minutes, with no dimension to claim anything
        b'<row r="20000000"><c r="A20000000" t="inlineStr"><is><t>x</t></is></c></row>',
        # the same row number as openpyxl reads it: float() and int() take these
        b"<row r='2e7'><c t=\"inlineStr\"><is><t>x</t></is></c></row>",
        b'<x:row xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        b' r=" 2_0000000 "><x:c r="A20000000"/></x:row>',
        # a row after the first one without a number is the one after it: 120,000 of them
        b"<row/>" * 120_000,
        # a cell in the last column: every row is read 16,384 cells wide
        b'<row r="6"><c r="XFD6" t="inlineStr"><is><t>x</t></is></c></row>',
        # cells without a reference are in the next column: 300 of them
        b'<row r="6">' + b'<c t="inlineStr"><is><t>x</t></is></c>' * 300 + b"</row>",
    ],
    ids=[
        "row-20-million",
        "row-2e7",
        "prefixed-underscored",
        "unnumbered-rows",
        "column-xfd",
        "unreferenced-cells",
    ],
)
def test_cells_past_the_limits_are_refused_unread_whatever_the_dimension_says(tmp_path, far):
    bomb = rewritten(
        workbook_bytes(),
        "xl/worksheets/sheet1.xml",
        lambda xml: _without_dimension(xml).replace(b"</sheetData>", far + b"</sheetData>"),
    )
    with pytest.raises(FileTooLarge, match="at most 100,000 rows and 200 columns are read"):
        check_workbook(bomb)
    path = tmp_path / "appraisal.xlsx"
    path.write_bytes(bomb)
    with pytest.raises(AppraisalError, match="at most 100,000 rows"):
        read_table(path, "appraisal file")


def test_a_workbook_as_large_as_the_limits_passes():
    check_workbook(workbook_bytes(rows=2_000))
    wide = rewritten(
        workbook_bytes(),
        "xl/worksheets/sheet1.xml",
        lambda xml: _without_dimension(xml).replace(
            b"</sheetData>", b'<row r="100000"><c r="GR100000"/></row></sheetData>'
        ),
    )
    # column GR is the 200th, row 100,000 the last one read (20 million cells: not the limit here)
    check_workbook(wide, max_cells=20_000_000)


def test_a_workbook_of_more_cells_than_the_limit_is_refused_unread(tmp_path):
    rows = MAX_WORKBOOK_CELLS // MAX_COLUMNS  # 10,000 rows x 200 columns: the limit exactly
    check_workbook(sparse_workbook(rows))
    over = sparse_workbook(rows + 1)
    assert len(over) < 512 * 1024  # small enough to upload
    with pytest.raises(FileTooLarge, match="more than 2,000,000 cells") as caught:
        check_workbook(over)
    assert "at most 2,000,000 are read" in str(caught.value)
    path = tmp_path / "appraisal.xlsx"
    path.write_bytes(over)
    with pytest.raises(AppraisalError, match="more than 2,000,000 cells"):
        read_table(path, "appraisal file")


def test_the_cells_of_every_sheet_count_together():
    half = MAX_WORKBOOK_CELLS // MAX_COLUMNS // 2
    check_workbook(sparse_workbook(half, half))
    with pytest.raises(FileTooLarge, match="more than 2,000,000 cells"):
        check_workbook(sparse_workbook(half, half + 1))


def test_a_workbook_of_thousands_of_sheets_is_refused_unread():
    """20,000 sheets that all name one small part: 260 KB zipped, and openpyxl read that part
    20,000 times (30 s for an invitee list; 5 MB of them would take ten minutes)."""
    many = 20_000

    def sheets(xml: bytes) -> bytes:
        listed = b"".join(
            b'<sheet name="s%d" sheetId="%d" r:id="rX%d"/>' % (n, n + 2, n) for n in range(many)
        )
        return xml.replace(b"</sheets>", listed + b"</sheets>")

    def relationships(xml: bytes) -> bytes:
        kind = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
        listed = b"".join(
            b'<Relationship Id="rX%d" Type="%s" Target="worksheets/sheet1.xml"/>' % (n, kind)
            for n in range(many)
        )
        return xml.replace(b"</Relationships>", listed + b"</Relationships>")

    bomb = rewritten(
        rewritten(workbook_bytes(), "xl/workbook.xml", sheets),
        "xl/_rels/workbook.xml.rels",
        relationships,
    )
    assert len(bomb) < 512 * 1024
    with pytest.raises(FileTooLarge, match="20,001 sheets; at most 50 are read"):
        check_workbook(bomb)
