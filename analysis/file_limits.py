"""Limits checked before a file a person gave us is parsed, so that no file, however small on the
wire, can make a reader run for minutes or fill the memory: a workbook's uncompressed size and
declared dimensions, and the number of columns of a CSV's header. Workbooks are parsed with
defusedxml underneath openpyxl (a dependency), so XML entities are refused too."""

from __future__ import annotations

import io
import re
import zipfile

from analysis.messages import _

#: What the largest real input holds (a national list of ~2,000 invitees, ~1,600 appraisal
#: rows a province) many times over.
MAX_ROWS = 100_000
MAX_COLUMNS = 200
#: Uncompressed bytes of a whole workbook; the 20-million-row bomb is 176 KB zipped, GBs inside.
MAX_WORKBOOK_BYTES = 50 * 1024 * 1024

_DIMENSION = re.compile(rb'<dimension\s+ref="[A-Z]+\d+:([A-Z]+)(\d+)"')


class FileTooLarge(ValueError):
    """A file past one of the limits; the message names the limit."""


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - ord("A") + 1)
    return number


def check_workbook(
    data: bytes,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
    max_bytes: int = MAX_WORKBOOK_BYTES,
) -> None:
    """Refuse a workbook whose parts unpack past `max_bytes`, or whose sheets say they are
    larger than `max_rows` x `max_columns`, before any XML is parsed. A file that is not a zip
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
        for member in members:
            if not member.filename.startswith("xl/worksheets/"):
                continue
            with archive.open(member) as sheet:
                head = sheet.read(4096)
            found = _DIMENSION.search(head)
            if found is None:
                continue
            columns, rows = _column_number(found[1]), int(found[2])
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


def check_csv_header(text: str, max_columns: int = MAX_COLUMNS) -> None:
    """Refuse a CSV whose first line has more than `max_columns` columns (pandas spends minutes
    on a header of 200,000)."""
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
