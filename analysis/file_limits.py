"""Limits checked before a file a person gave us is parsed, so that no file, however small on the
wire, can make a reader run for minutes or fill the memory: a workbook's uncompressed size,
dimensions and cells, and the number of columns of a CSV's header. Workbooks are parsed with
defusedxml underneath openpyxl (a dependency), so XML entities are refused too."""

from __future__ import annotations

import html
import io
import re
import zipfile
import zlib

from analysis.messages import _

#: What the largest real input holds (a national list of ~2,000 invitees, ~1,600 appraisal
#: rows a province) many times over.
MAX_ROWS = 100_000
MAX_COLUMNS = 200
#: Characters of one cell, as many as Excel keeps in one.
MAX_CELL = 32_767
#: Uncompressed bytes of a whole workbook; the 20-million-row bomb is 176 KB zipped, GBs inside.
MAX_WORKBOOK_BYTES = 50 * 1024 * 1024
#: Sheets of a workbook: openpyxl reads a sheet's part once for each sheet naming it, so 20,000
#: sheets naming one small part cost 20,000 readings of it.
MAX_SHEETS = 50
#: Cells of a whole workbook, counted as openpyxl gives them (every row as wide as the used
#: columns): 100,000 rows x 200 columns inside the limits above is 20 million cells, minutes of
#: openpyxl and gigabytes in pandas. The largest real input is far less (an appraisal workbook of
#: 100,000 rows x 8 columns, 20,000 invitees x ~20 columns); this many cells read in under a
#: minute even when every one has a value (some 20 s a million here), in 2 s when empty.
MAX_WORKBOOK_CELLS = 2_000_000

_DIMENSION = re.compile(rb'<dimension\s+ref="[A-Z]+\d+:([A-Z]+)(\d+)"')
#: A row's start tag with its attributes (any namespace prefix; a quoted value may hold ">"),
#: a cell's start tag, and a cell's start tag whose `r` is a plain reference (its column).
_SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet[\s/>]")
_ROW = re.compile(rb"""<(?:[\w.-]+:)?row((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(/?)>""")
_R = re.compile(rb"""\sr\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CELL = re.compile(rb"<(?:[\w.-]+:)?c[\s/>]")
_NAMED_CELL = re.compile(
    rb"""<(?:[\w.-]+:)?c(?:\s+(?!r\s*=)[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*"""
    rb"""\s+r\s*=\s*["']\$?([A-Za-z]{1,3})\$?\d+["']"""
)


class FileTooLarge(ValueError):
    """A file past one of the limits; the message names the limit."""


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - ord("A") + 1)
    return number


def _row_number(attributes: bytes) -> int | None:
    """A row's `r` as openpyxl takes it (int(), else a float with no fraction); None if none."""
    found = _R.search(attributes)
    if found is None:
        return None
    value = html.unescape(
        (found[1] if found[1] is not None else found[2]).decode("utf-8", "replace")
    )
    try:
        return int(value)
    except ValueError:
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() else None


def _row_width(xml: bytes, start: int, end: int) -> int:
    """The widest a row's cells can reach: a cell without a plain reference is in the column
    after the one before it, so at most (the farthest reference + the cells without one)."""
    cells = len(_CELL.findall(xml, start, end))
    named = _NAMED_CELL.findall(xml, start, end)
    farthest = max((_column_number(letters.upper()) for letters in set(named)), default=0)
    return farthest + cells - len(named)


def _sheet_extent(
    xml: bytes, max_rows: int, max_columns: int, max_cells: int = MAX_WORKBOOK_CELLS
) -> tuple[int, int]:
    """The rows and columns openpyxl would give for a sheet's XML, counted as it counts them (it
    fills in every row and cell missing before one it finds), stopping past the limits (rows x
    columns past `max_cells` too). The dimension a sheet declares is only a claim; this is what
    reading it would cost."""
    named = _NAMED_CELL.findall(xml)
    # Excel, LibreOffice and openpyxl name every cell: then the farthest name is the width
    every_cell_named = len(named) == len(_CELL.findall(xml))
    columns = max((_column_number(letters.upper()) for letters in set(named)), default=0)
    row = rows = 0
    content = None  # where the row being read starts
    for found in _ROW.finditer(xml):
        if content is not None and not every_cell_named:
            columns = max(columns, _row_width(xml, content, found.start()))
        number = _row_number(found[1])
        row = row + 1 if number is None else number
        rows = max(rows, row)
        content = None if found[2] else found.end()
        if rows > max_rows or columns > max_columns or rows * columns > max_cells:
            return rows, columns
    if content is not None and not every_cell_named:
        columns = max(columns, _row_width(xml, content, len(xml)))
    return rows, columns


def check_workbook(
    data: bytes,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
    max_bytes: int = MAX_WORKBOOK_BYTES,
    max_cells: int = MAX_WORKBOOK_CELLS,
) -> None:
    """Refuse a workbook whose parts unpack past `max_bytes`, whose sheets say or hold more
    than `max_rows` x `max_columns`, or whose sheets hold more than `max_cells` cells in all
    (each sheet's rows x its used columns), before any XML is parsed. A file that is not a zip
    is left to the reader, which says so."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return
    with archive:
        members = archive.infolist()
        if sum(member.file_size for member in members) > max_bytes:
            raise FileTooLarge(
                _(
                    "the workbook unpacks to more than %(megabytes)s MB",
                    megabytes=max_bytes // (1024 * 1024),
                )
            )
        # every part, wherever it is: the workbook names its parts, they need not be in xl/
        sheets = cells = 0
        for member in members:
            try:
                xml = archive.read(member)  # no more than the sizes checked above
            except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError):
                return  # a damaged or encrypted part: the reader refuses the file, saying so
            sheets += len(_SHEET.findall(xml))
            if sheets > MAX_SHEETS:
                raise FileTooLarge(
                    _(
                        "the workbook has %(sheets)s sheets; at most %(max_sheets)s are read",
                        sheets=sheets,
                        max_sheets=MAX_SHEETS,
                    )
                )
            if b"sheetData" not in xml:
                continue
            found = _DIMENSION.search(xml[:4096])
            rows, columns = _sheet_extent(xml, max_rows, max_columns, max_cells - cells)
            if found is not None:
                rows = max(rows, int(found[2]))
                columns = max(columns, _column_number(found[1]))
            cells += rows * columns
            if rows > max_rows or columns > max_columns:
                raise FileTooLarge(
                    _(
                        "a sheet of the workbook has %(rows)s rows and %(columns)s columns; "
                        "at most %(max_rows)s rows and %(max_columns)s columns are read",
                        rows=rows,
                        columns=columns,
                        max_rows=max_rows,
                        max_columns=max_columns,
                    )
                )
            if cells > max_cells:
                raise FileTooLarge(
                    _(
                        "the workbook has more than %(max_cells)s cells (the rows of its sheets "
                        "x their columns); at most %(max_cells)s are read",
                        max_cells=max_cells,
                    )
                )


def check_csv_header(text: str, max_columns: int = MAX_COLUMNS, max_cell: int = MAX_CELL) -> None:
    """Refuse a CSV whose first line has more than `max_columns` columns (pandas spends minutes
    on a header of 200,000), or with a cell longer than `max_cell` characters."""
    first = text.split("\n", 1)[0]
    columns = max(first.count(sep) for sep in ",;\t") + 1
    if columns > max_columns:
        raise FileTooLarge(
            _(
                "the first line has %(columns)s columns; at most %(max_columns)s are read",
                columns=columns,
                max_columns=max_columns,
            )
        )
    # a run of characters with no separator in it is (part of) one cell
    if re.search(f"[^,;\t\r\n]{{{max_cell + 1}}}", text):
        raise FileTooLarge(_("a cell holds more than %(max_cell)s characters", max_cell=max_cell))
