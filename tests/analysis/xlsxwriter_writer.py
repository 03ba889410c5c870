"""What `analysis.export.write_xlsx` was until it wrote the format itself: XlsxWriter's
constant-memory mode, a call per row, each cell converted as below. Kept as the reference the
tests compare the new writer with (read back by openpyxl, cell by cell and type by type), and as
the "before" of benchmarks/xlsx.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.export import spreadsheet_safe


def write_with_xlsxwriter(path: Path, name: str, columns: list[str], frames) -> None:
    from xlsxwriter import Workbook

    book = Workbook(
        str(path),
        {
            "constant_memory": True,
            "default_date_format": "yyyy-mm-dd hh:mm:ss",
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
        },
    )
    try:
        sheet = book.add_worksheet(name)
        sheet.freeze_panes(1, 0)
        sheet.write_row(0, 0, [str(c) for c in columns])
        number = 1
        for frame in frames:
            for record in frame.reindex(columns=columns).itertuples(index=False, name=None):
                sheet.write_row(number, 0, [excel_cell(v) for v in record])
                number += 1
    finally:
        book.close()


def excel_cell(value: Any) -> Any:
    if (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and np.isnan(value))
    ):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, str) and value[:1] in ("+", "-"):
        try:
            return float(value)  # a signed number written as text is a number in the sheet
        except ValueError:
            pass
    return spreadsheet_safe(value)
