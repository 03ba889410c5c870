"""What a round's admin follows, and what the round gives the index: each unit's state, the
largest differences between self and appraised points, the documented appraisal rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..models import AppraisalRound, RatedUnit
from . import criteria as criteria_mod
from . import operations as ops

#: The columns of the appraisal file (analysis.index.APPRAISAL_COLUMNS), named here so that a
#: page does not import pandas; a test checks both lists agree.
APPRAISAL_COLUMNS = [
    "unit_code",
    "unit_name",
    "block",
    "field",
    "criterion",
    "max_points",
    "self_points",
    "appraised_points",
]


@dataclass
class UnitProgress:
    unit: RatedUnit
    submitted: bool
    appraised: bool
    answered: bool
    self_total: float
    appraised_total: float


@dataclass
class Difference:
    unit: RatedUnit
    criterion: str
    self_points: float
    appraised_points: float

    @property
    def size(self) -> float:
        return abs(self.self_points - self.appraised_points)


def round_progress(
    session: Session, appraisal_round: AppraisalRound, largest: int = 10
) -> tuple[list[UnitProgress], list[Difference]]:
    units, differences = [], []
    for unit in ops.block_units(session, appraisal_round.block):
        unit_return = ops.unit_return(session, appraisal_round, unit)
        current = ops.scores(session, unit_return).values()
        units.append(
            UnitProgress(
                unit=unit,
                submitted=unit_return.submitted_at is not None,
                appraised=all(s.appraised_points is not None for s in current),
                answered=unit_return.answered_at is not None,
                self_total=sum(s.self_points or 0 for s in current),
                appraised_total=sum(s.appraised_points or 0 for s in current),
            )
        )
        differences += [
            Difference(unit, s.criterion, s.self_points, s.appraised_points)
            for s in current
            if s.self_points is not None
            and s.appraised_points is not None
            and abs(s.self_points - s.appraised_points) > criteria_mod.TOLERANCE
        ]
    differences.sort(key=lambda d: (-d.size, d.unit.code, d.criterion))
    return units, differences[:largest]


def appraisal_rows(session: Session, appraisal_round: AppraisalRound) -> list[list]:
    """The round as the documented appraisal file (APPRAISAL_COLUMNS), a row per unit and
    criterion, in the scheme's order; points not given are empty."""
    criteria = criteria_mod.of_round(appraisal_round)
    rows = []
    for unit in ops.block_units(session, appraisal_round.block):
        current = ops.scores(session, ops.unit_return(session, appraisal_round, unit))
        for c in criteria:
            score = current[c.code]
            rows.append(
                [
                    unit.code,
                    unit.name,
                    appraisal_round.block,
                    c.field,
                    c.code,
                    _number(c.max_points),
                    _number(score.self_points),
                    _number(score.appraised_points),
                ]
            )
    return rows


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def appraisal_csv(session: Session, appraisal_round: AppraisalRound) -> str:
    """The appraisal file's text, written by the one CSV writer (the formula guard)."""
    from analysis.export import csv_chunks

    return "".join(csv_chunks(APPRAISAL_COLUMNS, appraisal_rows(session, appraisal_round)))
