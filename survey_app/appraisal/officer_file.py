"""Unit officers from a CSV or Excel list: one row per officer (e-mail, unit code, and the unit's
name and block where the unit is new). Read with the invitee list's reader (size, row and column
limits before parsing, CSV or .xlsx, UTF-8 checked); imported whole or not at all, every bad row
named."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.problems import Problem

from ..accounts import audit
from ..accounts.auth import assign, create_user, normalize_email, user_by_email
from ..fieldwork.invitee_file import InviteeFileInvalid, _clean, _records
from ..models import RatedUnit

COLUMNS = ("email", "unit_code", "unit_name", "block")
MAX_ROWS = 5000
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
#: How long a password the import makes (URL-safe characters): well above the minimum.
PASSWORD_BYTES = 12


class OfficerFileInvalid(InviteeFileInvalid):
    """An officer list refused whole; `problems` gives each with its row."""


@dataclass
class OfficerRow:
    row: int
    email: str
    unit_code: str
    unit_name: str
    block: str


def read_officer_file(data: bytes, filename: str = "") -> list[OfficerRow]:
    header: list[str] | None = None
    positions: dict[str, int] = {}
    rows, problems = [], []
    seen: dict[str, int] = {}
    for number, cells in _records(data, filename):
        values = [_clean(cell) for cell in cells]
        if not any(values):
            continue
        if header is None:
            header = [v.casefold().replace(" ", "_") for v in values]
            positions = {c: header.index(c) for c in COLUMNS if c in header}
            missing = [c for c in ("email", "unit_code") if c not in positions]
            if missing:
                raise OfficerFileInvalid(
                    [
                        Problem.at_row(
                            number,
                            _(
                                "The header lacks the columns %(columns)s; the columns are "
                                "%(all)s.",
                                columns=", ".join(missing),
                                all=", ".join(COLUMNS),
                            ),
                        )
                    ]
                )
            continue
        if len(rows) + len(problems) >= MAX_ROWS:
            problems.append(
                Problem.at_row(number, _("The file has more than %(num)s officers.", num=MAX_ROWS))
            )
            break
        found = {c: (values[i] if i < len(values) else "") for c, i in positions.items()}
        email = normalize_email(found.get("email", ""))
        if not EMAIL_SHAPE.match(email):
            problems.append(
                Problem.at_row(number, _("%(value)s is not an e-mail address.", value=email or "–"))
            )
            continue
        if email in seen:
            problems.append(
                Problem.at_row(
                    number, _("%(email)s is also on row %(row)s.", email=email, row=seen[email])
                )
            )
            continue
        seen[email] = number
        if not found.get("unit_code"):
            problems.append(Problem.at_row(number, _("The unit code is empty.")))
            continue
        rows.append(
            OfficerRow(
                number,
                email,
                found["unit_code"][:64],
                found.get("unit_name", "")[:200],
                found.get("block", "")[:64],
            )
        )
    if header is None:
        problems.append(Problem.at_row(None, _("The file is empty: it needs a header row.")))
    if problems:
        raise OfficerFileInvalid(problems)
    return rows


def import_officers(session: Session, rows: list[OfficerRow]) -> list[tuple[str, str, str]]:
    """Make the officers (and the units new to the app) in the caller's transaction; returns
    (e-mail, unit code, first password) per officer, to be handed to them once. Raises
    `OfficerFileInvalid` naming every row that cannot be imported: nothing is kept then."""
    units = {u.code: u for u in session.scalars(select(RatedUnit))}
    problems, made = [], []
    for row in rows:
        if user_by_email(session, row.email) is not None:
            problems.append(
                Problem.at_row(row.row, _("%(email)s has an account already.", email=row.email))
            )
            continue
        unit = units.get(row.unit_code)
        if unit is None:
            if not (row.unit_name and row.block):
                problems.append(
                    Problem.at_row(
                        row.row,
                        _(
                            "The unit %(unit)s is new: give its unit_name and block.",
                            unit=row.unit_code,
                        ),
                    )
                )
                continue
            unit = RatedUnit(code=row.unit_code, name=row.unit_name, block=row.block)
            session.add(unit)
            session.flush()
            units[unit.code] = unit
        password = secrets.token_urlsafe(PASSWORD_BYTES)
        user = create_user(session, row.email, password, "officer")
        assign(session, user, "officer", unit.id)
        made.append((row.email, unit.code, password))
    if problems:
        raise OfficerFileInvalid(problems)
    audit.record(session, "officers_imported", {"count": len(made)})
    return made
