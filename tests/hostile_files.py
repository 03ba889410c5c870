"""Hostile files made from harmless ones, for the tests of the readers' limits."""

from __future__ import annotations

import io
import zipfile


def rewritten(data: bytes, member: str, change) -> bytes:
    """The workbook with one part's XML changed, as a hostile file would be made."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item, change(content) if item.filename == member else content)
    return out.getvalue()


def sparse_workbook(*rows_of_sheets: int, columns: int = 200) -> bytes:
    """A real workbook whose sheets have the given rows, each with one value in the last of
    `columns` columns: openpyxl gives every row that wide, so cheap to write, costly to read."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for rows in rows_of_sheets:
        sheet = book.create_sheet()
        for number in range(rows):
            sheet.append([None] * (columns - 1) + [f"x{number}"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
