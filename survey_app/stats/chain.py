"""The whole chain for a wave: weights, estimates, scores and the index, from the database.

`compute` is what both the web page (in a background thread, see `survey_app.stats.runs`) and
``flask score-wave`` run. It reads the responses, calls the pure functions of `analysis`, writes
the tables as CSV (and one workbook) into a folder and returns a small JSON-ready summary.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from analysis.estimate import Design, EstimationError, estimate
from analysis.export import ExportError, write_workbook
from analysis.index import (
    AppraisalError,
    build_index,
    check_appraisal,
    read_previous,
    read_table,
    survey_points,
)
from analysis.scheme import Scheme, SchemeError, load_scheme
from analysis.scoring import DEFAULT_UNIT, ScoringError, score
from analysis.targets import TargetError, read_targets
from analysis.weights import (
    DEFAULT_TOL,
    METHODS,
    WeightingError,
    design_weights,
    trim_result,
    weight,
    worst_margin,
)

from ..models import Wave
from .data import responses_frame

#: Every error of the analysis that means "the input cannot be used"; its message says why.
INPUT_ERRORS = (
    TargetError,
    WeightingError,
    EstimationError,
    ScoringError,
    AppraisalError,
    SchemeError,
    ExportError,
)
#: The tables a run writes, in workbook order.
TABLES = ("weights", "estimates", "scores", "index", "weak")
WORKBOOK = "results.xlsx"


class ChainError(ValueError):
    """Input the chain refuses; the message (English, from `analysis`) says what to fix."""


@dataclass
class Parameters:
    """What a statistician chose for a run; stored as JSON on the run."""

    scheme: str
    method: str | None = None
    bounds: tuple[float, float] | None = None
    trim: tuple[float, float] | None = None
    strata: str | None = None
    unit_code: str | None = None
    tol: float = DEFAULT_TOL
    max_iter: int | None = None
    targets: str | None = None
    appraisal: str | None = None
    previous: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "method": self.method,
            "bounds": list(self.bounds) if self.bounds else None,
            "trim": list(self.trim) if self.trim else None,
            "strata": self.strata,
            "unit_code": self.unit_code,
            "tol": self.tol,
            "max_iter": self.max_iter,
            "targets": self.targets,
            "appraisal": self.appraisal,
            "previous": self.previous,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Parameters:
        return cls(
            scheme=data["scheme"],
            method=data.get("method"),
            bounds=tuple(data["bounds"]) if data.get("bounds") else None,
            trim=tuple(data["trim"]) if data.get("trim") else None,
            strata=data.get("strata"),
            unit_code=data.get("unit_code"),
            tol=data.get("tol") or DEFAULT_TOL,
            max_iter=data.get("max_iter"),
            targets=data.get("targets"),
            appraisal=data.get("appraisal"),
            previous=data.get("previous"),
        )


Progress = Callable[[int, str], None]


def _no_progress(_percent: int, _step: str) -> None:
    pass


def load(scheme_path: str | Path, questionnaires: str | Path | None) -> Scheme:
    try:
        return load_scheme(scheme_path, questionnaires)
    except SchemeError as exc:
        more = len(exc.problems) - 1
        tail = f" (and {more} more problems)" if more else ""
        raise ChainError(f"{exc.problems[0]}{tail}") from None


def compute(
    session: Session,
    wave: Wave,
    params: Parameters,
    out: Path,
    questionnaires: str | Path | None = None,
    progress: Progress = _no_progress,
) -> dict[str, Any]:
    """Run the chain for ``wave`` and write its tables into ``out``; return the summary."""
    try:
        return _compute(session, wave, params, out, questionnaires, progress)
    except INPUT_ERRORS as exc:
        raise ChainError(str(exc)) from None


def _compute(session, wave, params, out, questionnaires, progress) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    progress(5, "scheme")
    scheme = load(params.scheme, questionnaires)
    carried = {wq.questionnaire_code for wq in wave.questionnaires}
    responses: dict[str, pd.DataFrame] = {}
    counts: dict[str, int] = {}
    groups = list(scheme.groups.values())
    for number, group in enumerate(groups):
        progress(10 + 30 * number // max(1, len(groups)), f"responses:{group.code}")
        if group.questionnaire not in carried:
            continue
        frame = responses_frame(session, group.questionnaire, wave.code)
        counts[group.code] = len(frame)
        if len(frame):
            responses[group.code] = frame
    if not responses:
        raise ChainError(f"the wave {wave.code} has no complete responses to score")

    appraisal = None
    unit_code = params.unit_code or None
    if params.appraisal:
        appraisal = check_appraisal(scheme, read_table(params.appraisal, "appraisal file"))
        units = appraisal["unit_code"].unique()
        if unit_code is None and len(units) == 1:
            unit_code = str(units[0])
    unit_code = unit_code or DEFAULT_UNIT

    progress(45, "weights")
    summary: dict[str, Any] = {"counts": counts, "unit_code": unit_code, "scheme": scheme.code}
    weighted = [g for g in groups if g.weighted and g.code in responses]
    weight_tables, estimate_tables = [], []
    for group in weighted:
        data = responses[group.code]
        report, weights, calibration = _weights(data, params)
        data["weight"] = weights
        summary.setdefault("weighting", {})[group.code] = report
        weight_tables.append(
            pd.DataFrame(
                {"group": group.code, "response_id": data["response_id"], "weight": weights}
            )
        )
        progress(55, "estimates")
        estimate_tables.append(_estimates(scheme, group.code, data, weights, calibration, params))
    weights_table = (
        pd.concat(weight_tables, ignore_index=True)
        if weight_tables
        else pd.DataFrame(columns=["group", "response_id", "weight"])
    )
    estimates_table = (
        pd.concat(estimate_tables, ignore_index=True)
        if estimate_tables
        else pd.DataFrame(columns=["group", "item", "n", "estimate", "se", "ci_low", "ci_high"])
    )

    progress(65, "scores")
    scores = score(scheme, responses, unit_code=unit_code, strata=params.strata)
    tables = {"weights": weights_table, "estimates": estimates_table, "scores": scores.table}
    sipas = scores.table[(scores.table["kind"] == "sipas")]
    if len(sipas):
        summary["sipas"] = _finite(float(sipas["estimate"].iloc[0]))
    totals = scores.table[scores.table["kind"] == "total"]
    summary["totals"] = {row.code: _finite(float(row.estimate)) for row in totals.itertuples()}
    summary["low_n"] = int(scores.table["low_n"].sum())

    if appraisal is not None:
        progress(80, "index")
        previous = read_previous(params.previous) if params.previous else None
        index = build_index(scheme, appraisal, survey_points(scheme, scores.table), previous)
        tables["index"] = index.table
        tables["weak"] = index.weak
        summary["units"] = int(len(index.table))

    progress(90, "files")
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False)
    write_workbook(tables, out / WORKBOOK)
    summary["files"] = [f"{name}.csv" for name in tables] + [WORKBOOK]
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    progress(100, "done")
    return summary


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _weights(data: pd.DataFrame, params: Parameters):
    """Final weights of a weighted group: calibrated to the targets, or 1 without targets."""
    if not params.targets:
        ones = np.ones(len(data))
        return (
            {"method": None, "n": len(data), "kish_deff": 1.0, "effective_n": len(data)},
            ones,
            None,
        )
    if params.method not in METHODS:
        raise ChainError(f"unknown weighting method {params.method!r}")
    targets = read_targets(params.targets)
    for margin in targets:
        for column in margin.columns:
            if column not in data.columns:
                raise ChainError(f"the targets name the variable {column!r}, which no question has")
    base = None
    if params.strata:
        if params.strata not in data.columns:
            raise ChainError(f"the stratum variable {params.strata!r} is not a question")
        margin = targets.get(params.strata)
        if margin is not None:
            base = design_weights(data[params.strata], margin)
    bounds = params.bounds or (-math.inf, math.inf)
    if params.method == "logit" and not params.bounds:
        raise ChainError("the logit method needs bounds L,U with L < 1 < U")
    result = weight(data, targets, params.method, base, bounds, params.tol, params.max_iter)
    if not result.converged:
        raise ChainError(
            f"{params.method} did not converge in {result.iterations} iterations: worst margin "
            f"{worst_margin(result)}; loosen the bounds or merge sparse levels"
        )
    if params.trim:
        result = trim_result(result, *params.trim)
    report = result.report()
    return report, result.weights, result.calibration


def _estimates(scheme, group, data, weights, calibration, params) -> pd.DataFrame:
    """Weighted item scores of the group's SIPAS items: the share of positive answers, with SEs."""
    strata = data[params.strata] if params.strata else None
    design = Design.build(weights, strata, None, calibration, "remove")
    parts = []
    refs = []
    if scheme.sipas is not None and scheme.sipas.group == group:
        refs = [ref for element in scheme.sipas.elements for ref in element.items]
    for ref in refs:
        if ref.item not in data.columns:
            continue
        share = sorted(ref.rule.positive) if ref.rule.type == "share" else None
        table = estimate(data, [ref.item], design, share=share)
        parts.append(table)
    if not parts:
        return pd.DataFrame(columns=["group", "item", "n", "estimate", "se", "ci_low", "ci_high"])
    table = pd.concat(parts, ignore_index=True)
    table.insert(0, "group", group)
    return table
