"""Quota targets from a CSV file (one column per cell variable and a `target` column), from the
admin's page or the command: validated against the questionnaire, stored all-or-nothing."""

from __future__ import annotations

import csv
import io
import os

from flask_babel import gettext as _
from sqlalchemy import bindparam, insert, inspect, select, update
from sqlalchemy.orm import Session

from analysis.file_limits import MAX_ROWS, FileTooLarge, check_csv_header
from analysis.problems import FileInvalid, Problem

from ..accounts import audit
from ..models import Quota, QuotaCell, Wave
from ..questionnaire.definition import Questionnaire
from .quotas import SEPARATOR

#: A national quota by commune x sex x age group is 50,000 to 85,000 cells (some 10,600 communes
#: before the 2025 merger, 8 cells each).
MAX_CELLS = MAX_ROWS


class QuotaInvalid(FileInvalid):
    """A quota file or form refused whole; `problems` gives each with its row."""


def read_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuotaInvalid([Problem.at_row(0, _("The file is not UTF-8 text."))]) from exc
    try:
        check_csv_header(text)
    except FileTooLarge as exc:
        message = _("The file is too large to read: %(reason)s.", reason=exc)
        raise QuotaInvalid([Problem.at_row(1, message)]) from exc
    sample = text[:2048]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        rows = list(reader)
    except csv.Error as exc:
        message = _("The CSV cannot be read here: %(reason)s", reason=exc)
        raise QuotaInvalid([Problem.at_row(reader.line_num, message)]) from exc
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
    # Sets of answers, not Item.option's scan of the options for each value: with a dropdown of
    # 6,250 communes that scan made a 50,000-row file take over 20 s.
    columns = [
        (at, variable, _answer_keys(questionnaire, variable))
        for at, variable in enumerate(header)
        if variable != "target"
    ]
    width = len(header)
    cells: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            errors.append(
                Problem.at_row(
                    number,
                    _("expected %(want)s values, found %(got)s.", want=width, got=len(row)),
                )
            )
            continue
        parts = []
        for at, variable, answers in columns:
            value = row[at].strip()
            if value not in answers:
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


def _answer_keys(questionnaire: Questionnaire, variable: str) -> frozenset[str]:
    """The answers a cell may name for `variable` ("don't know" and the like define no cell)."""
    item = questionnaire.by_code[variable]
    return frozenset(option.key for option in item.options if not option.missing)


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
        existing = {}
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
    else:
        existing = _cells_locked(session, quota)
    quota.when_full = when_full
    errors = []
    added = []
    changed = []
    for key, target in cells.items():
        found = existing.get(key)
        if found is None:
            added.append({"quota_id": quota.id, "cell_key": key, "target": target, "complete": 0})
            continue
        cell_id, old_target, complete = found
        if target < complete:
            errors.append(
                Problem.at_row(
                    0,
                    _(
                        "The cell %(cell)s has %(complete)s complete responses already; its "
                        "target cannot be lower.",
                        cell=key.replace(SEPARATOR, " × "),
                        complete=complete,
                    ),
                )
            )
        elif target != old_target:
            changed.append({"cell_id": cell_id, "new_target": target})
    if errors:
        raise QuotaInvalid(errors)
    session.flush()
    # One statement run with many parameter sets (executemany) for each of insert and update.
    if added:
        session.execute(insert(QuotaCell.__table__), added)
    if changed:
        table = QuotaCell.__table__
        session.execute(
            update(table)
            .where(table.c.id == bindparam("cell_id"))
            .values(target=bindparam("new_target")),
            changed,
        )
    _forget_loaded_cells(session, quota)
    return quota


def _cells_locked(session: Session, quota: Quota) -> dict[str, tuple[int, int, int]]:
    """{cell_key: (id, target, complete)} of the quota's cells, locked. Plain rows, not ORM
    objects: loading, tracking and flushing 50,000 QuotaCell objects one by one cost more than the
    database's own work. Locked in id order, the order count_completion takes them in, so that a
    completion and an import cannot deadlock."""
    return {
        key: (cell_id, target, complete)
        for cell_id, key, target, complete in session.execute(
            select(QuotaCell.id, QuotaCell.cell_key, QuotaCell.target, QuotaCell.complete)
            .where(QuotaCell.quota_id == quota.id)
            .order_by(QuotaCell.id)
            .with_for_update()
        )
    }


def _forget_loaded_cells(session: Session, quota: Quota) -> None:
    """The cells were written around the ORM: any of them the session had loaded (or the quota's
    collection of them) would show the old targets until reloaded."""
    session.expire(quota, ["cells"])
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, QuotaCell) and inspect(loaded).dict.get("quota_id") == quota.id:
            session.expire(loaded)


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
