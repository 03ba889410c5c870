"""Quotas: cells of profile answers with targets, checked and counted in one transaction.

A respondent's cell is known once every variable that defines it has an answer. From then on a
full cell screens the respondent out (or, where the admin chose so, lets them finish flagged as
over quota). The count moves only when a response completes, with the cell's row locked: thirty
respondents finishing at once into a cell with five places left end with exactly five complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import Quota, QuotaCell

SEPARATOR = "|"


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
