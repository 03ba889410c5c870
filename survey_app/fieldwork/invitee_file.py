"""The invitee file: a CSV or .xlsx list of the people to invite, read and checked row by row.

Every problem is reported with its row (the header being row 1), so a list can be corrected in one
go; nothing is stored here (importing is `fieldwork.invitations`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask_babel import gettext as _

from analysis.file_limits import FileTooLarge, check_csv_header, check_workbook
from analysis.problems import FileInvalid, Problem

from ..models import Invitee

#: The columns of an invitee file; the first three must be filled on every row.
COLUMNS = ("name", "group", "agency", "unit", "email", "phone")
REQUIRED = ("name", "group", "agency")
#: Header names as lists are written in Vietnam, mapped to our columns (compared normalised).
HEADER_ALIASES = {
    "fullname": "name",
    "họvàtên": "name",
    "họtên": "name",
    "nhóm": "group",
    "cơquan": "agency",
    "đơnvị": "unit",
    "e-mail": "email",
    "thưđiệntử": "email",
    "telephone": "phone",
    "điệnthoại": "phone",
    "sốđiệnthoại": "phone",
}
#: Larger than any province's list of leaders and delegates (~1,600), with room to spare.
MAX_ROWS = 20_000
#: Columns read from a worksheet; anything further right is not part of a list of invitees.
MAX_COLUMNS = 64
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PHONE_SHAPE = re.compile(r"^\+?[0-9 ]+$")


def _column_limits() -> dict[str, int]:
    table = Invitee.__table__.c
    names = {"group": "invitee_group"}
    return {column: table[names.get(column, column)].type.length for column in COLUMNS}


LIMITS = _column_limits()


class InviteeFileInvalid(FileInvalid):
    """An invitee list refused whole; `problems` gives each with its row."""


@dataclass
class InviteeRow:
    row: int
    name: str
    group: str
    agency: str
    unit: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass
class InviteeFile:
    rows: list[InviteeRow]
    #: Columns present in the file that are not ours (e.g. an ordinal "STT"): not imported.
    ignored_columns: list[str] = field(default_factory=list)


def _clean(value: object) -> str:
    """A cell as text: NFC (lists made on a Mac come decomposed), trimmed, numbers without .0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    return unicodedata.normalize("NFC", str(value)).strip()


def _header_key(text: str) -> str:
    squeezed = re.sub(r"[\s_]+", "", _clean(text).lstrip("\ufeff").casefold())
    squeezed = HEADER_ALIASES.get(squeezed, squeezed)
    return HEADER_ALIASES.get(squeezed.replace("-", ""), squeezed.replace("-", ""))


def _csv_records(data: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InviteeFileInvalid(
            [
                Problem.at_row(
                    None,
                    _(
                        "The file is not UTF-8 text. In Excel, save it as \u201cCSV UTF-8\u201d "
                        "or as an Excel workbook (.xlsx), then upload it again."
                    ),
                )
            ]
        ) from exc
    try:
        check_csv_header(text)
    except FileTooLarge as exc:
        message = _("The file is too large to read: %(reason)s.", reason=exc)
        raise InviteeFileInvalid([Problem.at_row(1, message)]) from exc
    first_line = text.split("\n", 1)[0]
    # Excel set to Vietnamese writes ";" between columns, since "," is its decimal sign.
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise InviteeFileInvalid(
            [
                Problem.at_row(
                    reader.line_num, _("The CSV cannot be read here: %(reason)s", reason=exc)
                )
            ]
        ) from exc


def _unreadable_workbook() -> InviteeFileInvalid:
    return InviteeFileInvalid(
        [Problem.at_row(None, _("The Excel file cannot be opened; save it again as .xlsx."))]
    )


def _xlsx_records(data: bytes) -> Iterator[tuple[int, list[object]]]:
    from openpyxl import load_workbook

    try:
        check_workbook(data)
    except FileTooLarge as exc:
        message = _("The file is too large to read: %(reason)s.", reason=exc)
        raise InviteeFileInvalid([Problem.at_row(None, message)]) from exc
    try:
        with warnings.catch_warnings():
            # Workbooks from Excel often carry extensions openpyxl only warns about.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any workbook openpyxl refuses (entities too)
        raise _unreadable_workbook() from exc
    try:
        sheet = workbook.worksheets[0]
        # Read-only sheets yield every row from the first, empty ones too: numbers stay true.
        rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        for number, cells in enumerate(rows, start=1):
            yield number, list(cells)
    except InviteeFileInvalid:
        raise
    except Exception as exc:  # noqa: BLE001 - read-only sheets parse as they go
        raise _unreadable_workbook() from exc
    finally:
        workbook.close()


def _records(data: bytes, filename: str) -> Iterator[tuple[int, list[object]]]:
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_records(data)
    if data.startswith(b"\xd0\xcf\x11\xe0") or filename.lower().endswith(".xls"):
        raise InviteeFileInvalid(
            [
                Problem.at_row(
                    None,
                    _(
                        "Old Excel files (.xls) are not read. Save the list as an Excel "
                        "workbook (.xlsx) or as CSV UTF-8."
                    ),
                )
            ]
        )
    return _csv_records(data)


def read_invitee_file(data: bytes, filename: str = "") -> InviteeFile:
    """Parse and check every row of a CSV or .xlsx list of invitees.

    Raises `InviteeFileInvalid` with every problem found, each with its row number.
    """
    records = _records(data, filename)
    header: list[str] | None = None
    errors: list[Problem] = []
    rows: list[InviteeRow] = []
    positions: dict[str, int] = {}
    ignored: list[str] = []
    seen: dict[tuple[str, ...], int] = {}
    count = 0
    for number, cells in records:
        values = [_clean(cell) for cell in cells]
        if not any(values):
            continue  # blank lines and rows Excel keeps after the list
        if header is None:
            header = values
            positions, ignored, header_errors = _read_header(number, header)
            if header_errors:
                raise InviteeFileInvalid(header_errors)
            continue
        count += 1
        if count > MAX_ROWS:
            errors.append(
                Problem.at_row(
                    number,
                    _(
                        "The file has more than %(num)s invitees; split it into smaller files.",
                        num=MAX_ROWS,
                    ),
                )
            )
            break
        found = {c: (values[i] if i < len(values) else "") for c, i in positions.items()}
        titles = {c: header[i] for c, i in positions.items()}
        problems = _row_problems(found, titles)
        key = person_key(found["name"], found["agency"], found.get("email"))
        if not problems and key in seen:
            problems.append(
                _(
                    "The same name, agency and e-mail as row %(row)s: list each person once.",
                    row=seen[key],
                )
            )
        seen.setdefault(key, number)
        if problems:
            errors.extend(Problem.at_row(number, problem) for problem in problems)
        else:
            rows.append(InviteeRow(number, **{c: found.get(c) or None for c in COLUMNS}))
    if header is None:
        errors.append(
            Problem.at_row(None, _("The file is empty: it needs a header row and invitees."))
        )
    elif not rows and not errors:
        errors.append(Problem.at_row(None, _("The file has a header row but no invitees.")))
    if errors:
        raise InviteeFileInvalid(errors)
    return InviteeFile(rows, ignored)


def _read_header(number: int, header: list[str]) -> tuple[dict[str, int], list[str], list]:
    positions: dict[str, int] = {}
    ignored: list[str] = []
    errors: list[Problem] = []
    for index, title in enumerate(header):
        if not title:
            continue
        key = _header_key(title)
        if key not in COLUMNS:
            ignored.append(title)
        elif key in positions:
            errors.append(
                Problem.at_row(number, _("The column %(column)s appears twice.", column=title))
            )
        else:
            positions[key] = index
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        errors.append(
            Problem.at_row(
                number,
                _(
                    "The header row lacks the column(s) %(missing)s. The first row must name the "
                    "columns: name, group, agency, and optionally unit, email, phone.",
                    missing=", ".join(missing),
                ),
            )
        )
    return positions, ignored, errors


def _row_problems(found: dict[str, str], titles: dict[str, str]) -> list[str]:
    """What is wrong with one row, each column named as the file's header names it."""
    problems = []
    for column, value in found.items():
        if "\x00" in value:  # no name holds one, and the database refuses it
            problems.append(
                _(
                    "The column \u201c%(column)s\u201d holds a NUL character; save the file "
                    "again from the spreadsheet.",
                    column=titles[column],
                )
            )
    for column in REQUIRED:
        if not found.get(column):
            problems.append(
                _(
                    "The column \u201c%(column)s\u201d is empty; every invitee needs it.",
                    column=titles[column],
                )
            )
    for column, value in found.items():
        if len(value) > LIMITS[column]:
            problems.append(
                _(
                    "The column \u201c%(column)s\u201d has %(length)s characters; at most "
                    "%(limit)s fit.",
                    column=titles[column],
                    length=len(value),
                    limit=LIMITS[column],
                )
            )
    email = found.get("email")
    if email and len(email) <= LIMITS["email"] and not EMAIL_SHAPE.match(email):
        problems.append(_("\u201c%(value)s\u201d is not an e-mail address.", value=_shorten(email)))
    phone = found.get("phone")
    if phone and len(phone) <= LIMITS["phone"]:
        digits = sum(ch.isdigit() for ch in phone)
        if not PHONE_SHAPE.match(phone) or not 8 <= digits <= 15:
            problems.append(
                _(
                    "\u201c%(value)s\u201d is not a phone number: write 8 to 15 digits, "
                    "with spaces if you like and + only in front, e.g. 0912 345 678.",
                    value=_shorten(phone),
                )
            )
    return problems


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def person_key(name: str, agency: str, email: str | None) -> tuple[str, ...]:
    """Who a row is, for finding repeats: case and spacing do not matter."""
    return tuple(" ".join((v or "").casefold().split()) for v in (name, agency, email))
