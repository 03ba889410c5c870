"""Quotas: cells of profile answers with targets, checked and counted in one transaction.

A respondent's cell is known once every variable that defines it has an answer. From then on a
full cell screens the respondent out (or, where the admin chose so, lets them finish flagged as
over quota). The count moves only when a response completes, with the cell's row locked: thirty
respondents finishing at once into a cell with five places left end with exactly five complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from analysis.languages import in_language

from ..accounts import audit
from ..models import Quota, QuotaCell, Wave
from ..questionnaire.definition import Questionnaire

SEPARATOR = "|"
#: What happens to a respondent whose cell is full: told so at once, or let finish, flagged.
WHEN_FULL = ("screen_out", "flag")


def cell_key(variables: list[str], values: dict[str, Any]) -> str | None:
    """The cell of a respondent, or None while a variable is unanswered (or "don't know")."""
    parts = []
    for variable in variables:
        value = values.get(variable)
        if value in (None, "", []) or isinstance(value, list):
            return None
        parts.append(str(value))
    return SEPARATOR.join(parts)


def quotas_of(session: Session, wave_id: int, questionnaire_code: str) -> list[Quota]:
    return list(
        session.scalars(
            select(Quota)
            .where(Quota.wave_id == wave_id, Quota.questionnaire_code == questionnaire_code)
            .order_by(Quota.id)
        )
    )


@dataclass
class QuotaDecision:
    screened_out: bool = False
    over_quota: bool = False
    #: The cell of the first quota the respondent falls in (for the dashboard's in-progress count).
    cell_id: int | None = None
    counted: list[int] = field(default_factory=list)


def _cells(session: Session, quotas: list[Quota], values: dict, lock: bool) -> list:
    wanted = []
    for quota in quotas:
        key = cell_key(quota.variables, values)
        if key is not None:
            wanted.append((quota, key))
    if not wanted:
        return []
    query = (
        select(QuotaCell)
        .where(
            QuotaCell.quota_id.in_([q.id for q, _ in wanted]),
            QuotaCell.cell_key.in_([k for _, k in wanted]),
        )
        .order_by(QuotaCell.id)
    )  # one lock order everywhere: no deadlock between two completions
    if lock:
        query = query.with_for_update()
    found = {(c.quota_id, c.cell_key): c for c in session.scalars(query)}
    return [(quota, found.get((quota.id, key))) for quota, key in wanted]


def check_open(session: Session, wave_id: int, code: str, values: dict) -> QuotaDecision:
    """Before completion: is the respondent's cell (once known) already full?"""
    decision = QuotaDecision()
    for quota, cell in _cells(session, quotas_of(session, wave_id, code), values, lock=False):
        if cell is None:
            continue
        decision.cell_id = decision.cell_id or cell.id
        if cell.complete >= cell.target and quota.when_full == "screen_out":
            decision.screened_out = True
    return decision


def count_completion(session: Session, wave_id: int, code: str, values: dict) -> QuotaDecision:
    """At completion, in the completing transaction: check every cell under lock, then count."""
    decision = QuotaDecision()
    cells = _cells(session, quotas_of(session, wave_id, code), values, lock=True)
    for quota, cell in cells:
        if cell is None:
            continue
        decision.cell_id = decision.cell_id or cell.id
        if cell.complete >= cell.target:
            if quota.when_full == "screen_out":
                decision.screened_out = True
            else:
                decision.over_quota = True
    if decision.screened_out:
        return decision
    for _quota, cell in cells:
        if cell is None:
            continue
        if cell.complete < cell.target:
            session.execute(
                update(QuotaCell)
                .where(QuotaCell.id == cell.id)
                .values(complete=QuotaCell.complete + 1)
            )
            decision.counted.append(cell.id)
        else:
            session.execute(
                update(QuotaCell)
                .where(QuotaCell.id == cell.id)
                .values(over_target=QuotaCell.over_target + 1)
            )
    return decision


def take_out(session: Session, wave_id: int, code: str, values: dict) -> list[int]:
    """A complete response no longer counts (marked invalid): its place in every cell it was
    counted in is given back, the cells locked. A place past the target goes first, so a cell
    ends as if the response had never come. Returns the cells changed."""
    changed = []
    for _quota, cell in _cells(session, quotas_of(session, wave_id, code), values, lock=True):
        if cell is None:
            continue
        if cell.over_target > 0:
            values_set = {"over_target": QuotaCell.over_target - 1}
        elif cell.complete > 0:
            values_set = {"complete": QuotaCell.complete - 1}
        else:
            continue
        session.execute(update(QuotaCell).where(QuotaCell.id == cell.id).values(**values_set))
        changed.append(cell.id)
    return changed


def put_back(session: Session, wave_id: int, code: str, values: dict) -> list[int]:
    """A response restored counts again, as at its completion; a cell full by now takes it past
    its target (an admin's decision, not a respondent's: nobody is screened out afterwards)."""
    changed = []
    for _quota, cell in _cells(session, quotas_of(session, wave_id, code), values, lock=True):
        if cell is None:
            continue
        if cell.complete < cell.target:
            values_set = {"complete": QuotaCell.complete + 1}
        else:
            values_set = {"over_target": QuotaCell.over_target + 1}
        session.execute(update(QuotaCell).where(QuotaCell.id == cell.id).values(**values_set))
        changed.append(cell.id)
    return changed


def quota_summaries(session: Session) -> list[tuple[Quota, str, int, int, int]]:
    """Every quota with its wave's code, its number of cells, their targets and completes."""
    return [
        tuple(row)
        for row in session.execute(
            select(
                Quota,
                Wave.code,
                func.count(QuotaCell.id),
                func.coalesce(func.sum(QuotaCell.target), 0),
                func.coalesce(func.sum(QuotaCell.complete), 0),
            )
            .join(Wave, Wave.id == Quota.wave_id)
            .outerjoin(QuotaCell, QuotaCell.quota_id == Quota.id)
            .group_by(Quota.id, Wave.code)
            .order_by(Wave.code, Quota.questionnaire_code, Quota.name)
        )
    ]


def cells_of(session: Session, quota: Quota) -> list[QuotaCell]:
    return list(
        session.scalars(
            select(QuotaCell).where(QuotaCell.quota_id == quota.id).order_by(QuotaCell.cell_key)
        )
    )


def cell_labels(
    questionnaire: Questionnaire | None, quota: Quota, cell_keys: list[str], lang: str
) -> list[list[str]]:
    """Each cell's answers as the questionnaire words them in `lang` (the code where it has
    no such answer any more)."""
    labelled = []
    for key in cell_keys:
        labels = []
        for variable, value in zip(quota.variables, key.split(SEPARATOR), strict=False):
            item = questionnaire.by_code.get(variable) if questionnaire else None
            option = item.option(value) if item else None
            labels.append(in_language(option.label, lang, value) if option else value)
        labelled.append(labels)
    return labelled


class TargetsInvalid(ValueError):
    """Targets refused whole; `errors` maps a cell's id (0: the form) to what is wrong."""

    def __init__(self, errors: dict[int, str]) -> None:
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


def change_targets(
    session: Session, quota: Quota, targets: dict[int, str], when_full: str | None
) -> dict[str, list[int]]:
    """Set the cells' targets as typed (cell id -> text) and what a full cell does, in the
    caller's transaction, the cells locked: a target may not fall below the responses already
    counted, even one counted while the admin was typing; logged. Returns the changes by cell key;
    raises `TargetsInvalid` with every problem and changes nothing."""
    errors: dict[int, str] = {}
    if when_full not in WHEN_FULL:
        errors[0] = _("Choose what happens when a cell is full.")
    cells = {
        cell.id: cell
        for cell in session.scalars(
            select(QuotaCell)
            .where(QuotaCell.quota_id == quota.id)
            .order_by(QuotaCell.id)
            .with_for_update()
        )
    }
    wanted: dict[int, int] = {}
    for cell_id, cell in cells.items():
        raw = (targets.get(cell_id) or "").strip()
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 7:
            errors[cell_id] = _("Enter a whole number of 0 or more.")
        elif int(raw) < cell.complete:
            errors[cell_id] = _(
                "At least %(num)s: that many responses are complete.", num=cell.complete
            )
        else:
            wanted[cell_id] = int(raw)
    if errors:
        raise TargetsInvalid(errors)
    changed = {}
    for cell_id, target in wanted.items():
        cell = cells[cell_id]
        if cell.target != target:
            changed[cell.cell_key] = [cell.target, target]
            cell.target = target
    quota.when_full = when_full
    audit.record(
        session, "quota_changed", {"quota": quota.name, "when_full": when_full, "targets": changed}
    )
    return changed
