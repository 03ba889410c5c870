"""A wave's responses out of the database: as DataFrames for the analysis, and as export files.

Rows come from `survey_app.fieldwork.responses_export.rows` (one per complete response, coded,
no token or name) and are handled in chunks, so a download of 100,000 responses never holds them
all as Python objects: CSV streams row by row, and .xlsx, .sav and .dta are written to a temporary
file first.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from analysis.export import (
    SPSS_LABEL_BYTES,
    SPSS_NAME_BYTES,
    SPSS_VALUE_LABEL_BYTES,
    STATA_LABEL,
    STATA_NAME,
    _cut_bytes,
    _cut_chars,
    labelled,
    sheet_names,
    with_labels,
)

from ..fieldwork.responses_export import META_COLUMNS, columns_and_items, rows
from ..questionnaire.store import definition, latest_version

#: Rows handled at once when a file is built in chunks.
CHUNK = 5000
#: Columns every export has besides the questionnaire's items.
WEIGHT = "weight"


def header(session: Session, code: str) -> list[str]:
    columns, _items = columns_and_items(session, code)
    return META_COLUMNS + columns


def questionnaire_definition(session: Session, code: str) -> dict[str, Any] | None:
    """The newest version's definition as plain data (shared scales resolved)."""
    version = latest_version(session, code)
    return definition(version).raw if version is not None else None


def chunks(
    session: Session, code: str, wave_code: str, weights: dict[int, float] | None = None
) -> Iterator[pd.DataFrame]:
    """The complete responses as text DataFrames of at most `CHUNK` rows; empty cells missing."""
    columns = header(session, code)
    if weights is not None:
        columns = [*columns, WEIGHT]
    stream = rows(session, code, wave_code)
    while True:
        batch = list(itertools.islice(stream, CHUNK))
        if not batch:
            return
        frame = pd.DataFrame.from_records(batch, columns=columns).replace("", np.nan)
        if weights is not None:
            frame[WEIGHT] = [weights.get(int(r)) for r in frame["response_id"]]
        yield frame


def responses_frame(session: Session, code: str, wave_code: str) -> pd.DataFrame:
    """Every complete response of a questionnaire in a wave, cells as text, as `analysis` reads."""
    parts = list(chunks(session, code, wave_code))
    if not parts:
        return pd.DataFrame(columns=header(session, code), dtype=object)
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# CSV, streamed


def csv_lines(frames: Iterable[pd.DataFrame], columns: list[str]) -> Iterator[str]:
    """CSV text, a chunk at a time: the header, then every frame's rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    yield buffer.getvalue()
    for frame in frames:
        buffer.seek(0)
        buffer.truncate()
        frame.reindex(columns=columns).to_csv(
            buffer, header=False, index=False, lineterminator="\n"
        )
        yield buffer.getvalue()


def labelled_frames(
    frames: Iterable[pd.DataFrame], questionnaire: dict[str, Any], language: str
) -> Iterator[pd.DataFrame]:
    """Answer codes replaced by their labels in ``language``, chunk by chunk."""
    for frame in frames:
        yield with_labels(frame, questionnaire, language)


# ---------------------------------------------------------------------------------------------
# Excel: openpyxl's write-only mode keeps one row in memory at a time


def write_xlsx(path: Path, sheets: dict[str, tuple[list[str], Iterable[pd.DataFrame]]]) -> None:
    """One workbook, a sheet per entry: ``name -> (columns, frames)``."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for name, (columns, frames) in zip(sheet_names(sheets), sheets.values(), strict=True):
        sheet = book.create_sheet(name)
        sheet.freeze_panes = "A2"
        sheet.append(columns)
        for frame in frames:
            frame = frame.reindex(columns=columns)
            for record in frame.itertuples(index=False, name=None):
                sheet.append([_cell(v) for v in record])
    book.save(path)


def _cell(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        try:
            return float(value)
        except ValueError:
            return "'" + value
    return value


# ---------------------------------------------------------------------------------------------
# SPSS and Stata: recoded chunk by chunk (float columns), then written once


def write_labelled(
    path: Path,
    fmt: str,
    frames: Iterable[pd.DataFrame],
    questionnaire: dict[str, Any] | None,
    language: str,
    extra_labels: dict[str, str] | None = None,
    file_label: str = "",
) -> int:
    """Write .sav (``fmt="sav"``) or .dta with variable and value labels; return the rows.

    Each chunk is recoded with `analysis.export.labelled` (the same names, labels and recodes for
    every chunk, as they depend on the questionnaire only), so only the numeric result is kept.
    """
    import pyreadstat

    if fmt == "sav":
        options = {
            "name_limit": SPSS_NAME_BYTES,
            "name_bytes": True,
            "cut_label": lambda t: _cut_bytes(t, SPSS_LABEL_BYTES),
            "cut_value_label": lambda t: _cut_bytes(t, SPSS_VALUE_LABEL_BYTES),
        }
    else:
        options = {
            "name_limit": STATA_NAME,
            "cut_label": lambda t: _cut_chars(t, STATA_LABEL),
            "cut_value_label": lambda t: _cut_bytes(t, 32000),
        }
    parts = []
    first = None
    for frame in frames:
        result = labelled(frame, questionnaire, language, extra_labels=extra_labels, **options)
        first = first or result
        parts.append(result.data)
    if first is None:
        return 0
    data = pd.concat(parts, ignore_index=True)
    for column in data.columns:
        if any(part[column].dtype == object for part in parts):
            # A text column: a chunk with every cell empty came out as numbers.
            data[column] = data[column].map(lambda v: "" if _missing(v) else str(v)).astype(object)
    if fmt == "sav":
        pyreadstat.write_sav(
            data,
            str(path),
            column_labels=first.variable_labels,
            variable_value_labels=first.value_labels,
        )
    else:
        pyreadstat.write_dta(
            data,
            str(path),
            file_label=_cut_chars(file_label, STATA_LABEL),
            column_labels=first.variable_labels,
            variable_value_labels=first.value_labels,
        )
    return len(data)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def temporary_file(suffix: str) -> Path:
    descriptor, name = tempfile.mkstemp(prefix="par-export-", suffix=suffix)
    os.close(descriptor)
    return Path(name)


def file_blocks(path: Path, block: int = 1 << 16, remove: bool = True) -> Iterator[bytes]:
    """The bytes of a file, a block at a time (opened only when the download starts); a temporary
    file is removed once read, even where no server calls the response's close()."""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(block):
                yield chunk
    finally:
        if remove:
            path.unlink(missing_ok=True)
