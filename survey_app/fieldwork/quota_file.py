"""Quota targets from a CSV file (one column per cell variable and a `target` column), from the
admin's page or the command: validated against the questionnaire, stored all-or-nothing."""

from __future__ import annotations

import csv
import io
import os

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.problems import FileInvalid, Problem

from ..accounts import audit
from ..models import Quota, QuotaCell, Wave
from ..questionnaire.definition import Questionnaire
from .quotas import SEPARATOR

MAX_CELLS = 5000


class QuotaInvalid(FileInvalid):
    """A quota file or form refused whole; `problems` gives each with its row."""


def read_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuotaInvalid([Problem.at_row(0, _("The file is not UTF-8 text."))]) from exc
    sample = text[:2048]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise QuotaInvalid([Problem.at_row(0, _("The file is empty."))])
    return [h.strip().lower() for h in rows[0]], rows[1:]


def parse_cells(
    questionnaire: Questionnaire, header: list[str], rows: list[list[str]]
) -> tuple[list[str], dict[str, int]]:
    """The cell variables and {cell_key: target}; every problem of every row, or nothing."""
    errors: list[Problem] = []
    if "target" not in header:
        raise QuotaInvalid([Problem.at_row(1, _("The header has no column named target."))])
    variables = [h for h in header if h != "target"]
    if not variables:
        raise QuotaInvalid([Problem.at_row(1, _("Name at least one cell variable before target."))])
    if len(set(header)) != len(header):
        errors.append(Problem.at_row(1, _("A column name appears twice.")))
    for variable in variables:
        item = questionnaire.by_code.get(variable)
        if item is None:
            errors.append(
                Problem.at_row(
                    1,
                    _(
                        "%(name)s is not a question of %(code)s.",
                        name=variable,
                        code=questionnaire.code,
                    ),
                )
            )
        elif item.type not in ("single", "dropdown"):
            errors.append(
                Problem.at_row(
                    1,
                    _(
                        "%(name)s is not a single-choice question, so it "
                        "cannot define quota cells.",
                        name=variable,
                    ),
                )
            )
    if errors:
        raise QuotaInvalid(errors)
    target_at = header.index("target")
    cells: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            errors.append(
                Problem.at_row(
                    number,
                    _("expected %(want)s values, found %(got)s.", want=len(header), got=len(row)),
                )
            )
            continue
        parts = []
        for variable, value in zip(header, row, strict=True):
            if variable == "target":
                continue
            value = value.strip()
            option = questionnaire.by_code[variable].option(value)
            if option is None or option.missing:
                errors.append(
                    Problem.at_row(
                        number,
                        _(
                            "%(value)s is not an answer of %(name)s.",
                            value=value or "''",
                            name=variable,
                        ),
                    )
                )
            parts.append(value)
        raw_target = row[target_at].strip()
        if not (raw_target.isascii() and raw_target.isdigit()) or len(raw_target) > 7:
            errors.append(
                Problem.at_row(
                    number,
                    _(
                        "the target must be a whole number of 0 or more, not %(value)s.",
                        value=raw_target or "''",
                    ),
                )
            )
            continue
        key = SEPARATOR.join(parts)
        if key in cells:
            errors.append(Problem.at_row(number, _("this cell appears twice.")))
        cells[key] = int(raw_target)
    if not cells and not errors:
        errors.append(Problem.at_row(0, _("The file has no cells.")))
    if len(cells) > MAX_CELLS:
        errors.append(Problem.at_row(0, _("At most %(num)s cells.", num=MAX_CELLS)))
    if errors:
        raise QuotaInvalid(errors)
    return variables, cells


def store_quota(
    session: Session,
    wave_id: int,
    questionnaire_code: str,
    name: str,
    variables: list[str],
    cells: dict[str, int],
    when_full: str,
) -> Quota:
    """Create the quota or replace its targets; a cell cannot fall below what it counted."""
    quota = session.scalars(
        select(Quota)
        .where(
            Quota.wave_id == wave_id,
            Quota.questionnaire_code == questionnaire_code,
            Quota.name == name,
        )
        .with_for_update()
    ).first()
    if quota is None:
        quota = Quota(
            wave_id=wave_id,
            questionnaire_code=questionnaire_code,
            name=name,
            variables=variables,
            when_full=when_full,
        )
        session.add(quota)
        session.flush()
    elif quota.variables != variables:
        raise QuotaInvalid(
            [
                Problem.at_row(
                    1,
                    _(
                        "The quota %(name)s is defined by %(old)s; a file for it must have "
                        "the same columns.",
                        name=name,
                        old=", ".join(quota.variables),
                    ),
                )
            ]
        )
    quota.when_full = when_full
    existing = {
        cell.cell_key: cell
        for cell in session.scalars(
            select(QuotaCell).where(QuotaCell.quota_id == quota.id).with_for_update()
        )
    }
    errors = []
    for key, target in cells.items():
        cell = existing.get(key)
        if cell is None:
            session.add(QuotaCell(quota_id=quota.id, cell_key=key, target=target, complete=0))
        elif target < cell.complete:
            errors.append(
                Problem.at_row(
                    0,
                    _(
                        "The cell %(cell)s has %(complete)s complete responses already; its "
                        "target cannot be lower.",
                        cell=key.replace(SEPARATOR, " × "),
                        complete=cell.complete,
                    ),
                )
            )
        else:
            cell.target = target
    if errors:
        raise QuotaInvalid(errors)
    session.flush()
    return quota


def import_quota(
    session: Session,
    wave: Wave,
    questionnaire: Questionnaire,
    name: str,
    when_full: str,
    data: bytes,
    file_name: str,
) -> tuple[Quota, int]:
    """Read a quota file and store its targets, in the caller's transaction: all or nothing;
    logged. Returns the quota and how many cells the file gave; raises `QuotaInvalid`."""
    header, rows = read_csv(data)
    variables, cells = parse_cells(questionnaire, header, rows)
    quota = store_quota(session, wave.id, questionnaire.code, name, variables, cells, when_full)
    audit.record(
        session,
        "quota_imported",
        {
            "wave": wave.code,
            "questionnaire": questionnaire.code,
            "quota": name,
            "cells": len(cells),
            "file": os.path.basename(file_name)[:200],
        },
    )
    return quota, len(cells)
