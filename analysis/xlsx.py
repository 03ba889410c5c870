"""The .xlsx file format written directly: a zip of XML parts, each sheet streamed a chunk of rows
at a time, so a workbook of any size is written with flat memory.

Why not a library: XlsxWriter (constant-memory mode) and openpyxl (write-only) both spend 7-10
microseconds of Python a cell (dispatch on its type, the cell reference, XML escaping), 5-9 s for
10,000 responses of 68 columns. Here a cell's XML depends only on its value, so it is worked out
once for each distinct value of a column in a chunk (`pandas.factorize`), and a row is the join of
its cells' XML: about 0.5 s for the same rows (docs/benchmarks.md).

What is written is what XlsxWriter wrote (ECMA-376 Part 1, SpreadsheetML): text as inline
strings (``t="inlineStr"``), control characters as Excel's ``_xHHHH_`` escape, numbers to 16
significant digits, booleans, dates and times as serial days with one date format, infinities as
Excel's #DIV/0! error, NaN as #NUM!. A missing value is an empty cell (``<c/>``). Cells carry no
reference (``r``), which the format makes optional: each row holds every column, in order.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

from analysis.export import spreadsheet_safe

#: Excel keeps at most this many UTF-16 units in a cell (XlsxWriter cuts longer text the same way).
MAX_TEXT = 32767
#: Style 1 of styles.xml: dates and times (style 0 is the default).
DATE_STYLE = 1
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
#: Day 0 of Excel's 1900 date system as it counts from 1900-03-01 on (its phantom 1900-02-29).
EPOCH = dt.datetime(1899, 12, 30)
EMPTY = "<c/>"

_ESCAPED_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_NEEDS_WORK = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff&<>]|_x[0-9a-fA-F]{4}_")
_EDGE_SPACE = re.compile(r"^\s|\s$")


def value_cell(value: Any) -> str:
    """The XML of a cell holding `value`, by its type; text goes through `spreadsheet_safe`."""
    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, str):
        if not value:
            return EMPTY
        if value[0] in ("+", "-"):
            try:
                return number_cell(float(value))  # a signed number given as text is a number
            except ValueError:
                pass
        return text_cell(spreadsheet_safe(value))
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return EMPTY if isinstance(value, float) and math.isnan(value) else number_cell(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return date_cell(value)
    if _missing(value):
        return EMPTY
    return text_cell(spreadsheet_safe(str(value)))


def text_cell(value: str) -> str:
    """A text cell: cut to Excel's limit, control characters escaped as Excel does (and a
    literal ``_xHHHH_`` escaped in turn, so it reads back as written), XML-escaped."""
    if len(value) > MAX_TEXT // 2:
        value = _cut_utf16(value, MAX_TEXT)
    if _NEEDS_WORK.search(value):
        value = _ESCAPED_ESCAPE.sub(r"_x005F\1", value)
        value = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
        value = escape(value)
    space = ' xml:space="preserve"' if _EDGE_SPACE.search(value) else ""
    return f'<c t="inlineStr"><is><t{space}>{value}</t></is></c>'


def number_cell(value: float | int) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return '<c t="e"><f>#NUM!</f><v>#NUM!</v></c>'
        return f'<c t="e"><f>{"-" if value < 0 else ""}1/0</f><v>#DIV/0!</v></c>'
    return f"<c><v>{value:.16G}</v></c>"


def date_cell(value: dt.datetime | dt.date | dt.time) -> str:
    """A date, time or both as Excel's serial days, shown with the date format."""
    if isinstance(value, dt.time):
        days = (value.hour * 3600 + value.minute * 60 + value.second) / 86400
        days += value.microsecond / 86400e6
    else:
        if not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
        if value.tzinfo is not None:
            raise TypeError("a date with a time zone cannot be written to Excel; give it as UTC")
        delta = value - EPOCH
        days = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
        if value < dt.datetime(1900, 3, 1):
            days -= 1  # before Excel's phantom 29 February 1900
    return f'<c s="{DATE_STYLE}"><v>{days:.16G}</v></c>'


def _cut_utf16(text: str, limit: int) -> str:
    length = 0
    for index, char in enumerate(text):
        length += 2 if ord(char) > 0xFFFF else 1
        if length > limit:
            return text[:index]
    return text


def column_cells(series: pd.Series) -> np.ndarray:
    """The XML of each cell of a column, worked out once for each distinct value."""
    one_by_one = False
    if series.dtype == object:
        # factorize takes True for 1 and False for 0 (they are equal in Python): a text column
        # with a boolean in it is written a value at a time
        one_by_one = any(type(v) in _BOOLEANS for v in series.to_numpy())
    try:
        if one_by_one:
            raise TypeError
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable values (a list) or booleans among other values
        return np.array([EMPTY if _missing(v) else value_cell(v) for v in series], dtype=object)
    table = np.empty(len(uniques) + 1, dtype=object)
    for number, value in enumerate(np.asarray(uniques, dtype=object)):
        table[number] = EMPTY if _missing(value) else value_cell(value)
    table[-1] = EMPTY  # code -1: missing
    return table[codes]


_BOOLEANS = (bool, np.bool_)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT


def row_xml(frame: pd.DataFrame, columns: list[str], first_row: int) -> str:
    """The <row> elements of a chunk, numbered from `first_row` (1-based)."""
    frame = frame.reindex(columns=columns)
    cells = [column_cells(frame.iloc[:, i]) for i in range(len(columns))]
    rows = map("".join, zip(*cells, strict=True)) if cells else [""] * len(frame)
    return "".join(
        f'<row r="{number}">{body}</row>' for number, body in enumerate(rows, start=first_row)
    )


def header_xml(columns: list[str]) -> str:
    """The header row: every name as text, as it stands (no number, no formula guard)."""
    cells = (text_cell(str(c)) if str(c) else EMPTY for c in columns)
    return '<row r="1">' + "".join(cells) + "</row>"


# ---------------------------------------------------------------------------------------------
# The parts of the package

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _content_types(count: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_DOC}.worksheet+xml"/>'
        for n in range(1, count + 1)
    )
    return (
        f"{_HEAD}<Types "
        'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_DOC}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_DOC}.styles+xml"/>'
        f"{sheets}</Types>"
    )


def _package_rels() -> str:
    return (
        f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )


def _workbook(names: list[str]) -> str:
    sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>'
        for n, name in enumerate(names, start=1)
    )
    return (
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f"<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets></workbook>"
    )


def _workbook_rels(count: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    styles = f'<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
    return f'{_HEAD}<Relationships xmlns="{_PKG_REL}">{sheets}{styles}</Relationships>'


def _styles() -> str:
    return (
        f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
        f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{DATE_FORMAT}"/></numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


_SHEET_START = (
    f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews>'
    '<sheetView workbookViewId="0"{selected}>'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft"/></sheetView></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15"/><sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"


def write(
    path: str | Path | BinaryIO, sheets: list[tuple[str, list[str], Iterable[pd.DataFrame]]]
) -> None:
    """A workbook of ``(name, columns, frames)`` sheets (names valid for Excel: see
    `analysis.export.sheet_names`), the header row frozen."""
    names = [name for name, _, _ in sheets]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", _content_types(len(sheets)))
        book.writestr("_rels/.rels", _package_rels())
        book.writestr("xl/workbook.xml", _workbook(names))
        book.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        book.writestr("xl/styles.xml", _styles())
        for number, (_, columns, frames) in enumerate(sheets, start=1):
            part = f"xl/worksheets/sheet{number}.xml"
            with book.open(part, "w", force_zip64=True) as sheet:
                for text in _sheet_xml(columns, frames, selected=number == 1):
                    sheet.write(text.encode("utf-8"))


def _sheet_xml(columns, frames, selected: bool) -> Iterator[str]:
    yield _SHEET_START.format(selected=' tabSelected="1"' if selected else "")
    yield header_xml(columns)
    row = 2
    for frame in frames:
        yield row_xml(frame, columns, row)
        row += len(frame)
    yield _SHEET_END
