"""A round's criteria: the appraisal criteria of its scheme file, read once per file version."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..models import AppraisalRound
from ..stats.services import scheme_dir

#: Points given in steps are compared with this slack (0.1 + 0.2 is not 0.3 in floats).
TOLERANCE = 1e-6


@dataclass(frozen=True)
class AppraisalCriterion:
    code: str
    field: str
    field_name: dict[str, str]
    name: dict[str, str]
    max_points: float
    #: The step the scheme gives the criterion's points (None: the round's step).
    step: float | None = None
    #: The documents asked for as evidence, and how the points are given, per language.
    evidence: dict[str, str] | None = None
    guidance: dict[str, str] | None = None

    def step_in(self, appraisal_round: AppraisalRound) -> float:
        """The step its points move in: the scheme's for this criterion, else the round's."""
        return self.step or float(appraisal_round.points_step)


def scheme_path(file_name: str) -> Path:
    """The scheme file named by a round; only a file of the scheme folder, by its bare name."""
    return scheme_dir() / Path(file_name).name


def load(file_name: str):
    path = scheme_path(file_name)
    return _load(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _load(path: str, _mtime: int):
    from analysis.scheme import load_scheme

    # Appraisal needs no questionnaire: the items are checked when the scheme scores a wave.
    return load_scheme(path)


def appraisal_criteria(file_name: str) -> list[AppraisalCriterion]:
    scheme = load(file_name)
    return [
        AppraisalCriterion(
            c.code, f.code, f.name, c.name, float(c.max_points), c.step, c.evidence, c.guidance
        )
        for f in scheme.fields
        for c in f.criteria
        if c.source == "appraisal"
    ]


def of_round(appraisal_round: AppraisalRound) -> list[AppraisalCriterion]:
    return appraisal_criteria(appraisal_round.scheme)


def in_steps(points: float, max_points: float, step: float) -> bool:
    """Whether `points` lies in 0..max in multiples of `step` (the maximum itself always)."""
    if points < -TOLERANCE or points > max_points + TOLERANCE:
        return False
    if abs(points - max_points) <= TOLERANCE:
        return True
    ratio = points / step
    return abs(ratio - round(ratio)) <= TOLERANCE
