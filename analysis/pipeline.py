"""The one chain from responses to the index: weights, estimates, scores and the index.

`run` is the body that ``python -m analysis run``, ``flask score-wave`` and the statisticians'
pages all call, with one `Parameters` set; the callers only read their inputs (files, or the
database) and write the tables. It never reads or writes files itself, so the same inputs give
the same tables whoever calls it.

The chain, per DOMAIN.md ("Sampling and weighting"):

1. every weighted group (citizens) is weighted: design weights (a base weight column, or
   N_h / n_h from the targets of the stratum variable), then calibration to the targets, then
   trimming; without targets its weight column is taken as given (or 1 when it has none);
2. estimates of the SIPAS items, with the design (strata, clusters, fpc, lonely PSUs, the
   calibration residuals);
3. scores of every unit (`analysis.scoring.score`), with the same design and calibration;
4. the index (`analysis.index.build_index`) from the parts the scheme has: with the appraisal
   points when it has appraisal criteria, from the scores alone when it has none, from the
   appraisal points alone when it has no survey criteria.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.estimate import LONELY_PSU, Design, EstimationError, estimate
from analysis.export import ExportError, write_csv, write_workbook
from analysis.index import AppraisalError, build_index, check_appraisal, survey_points
from analysis.intervals import INTERVALS, IntervalError, check_df, check_level
from analysis.messages import _, reasons
from analysis.scheme import Scheme, SchemeError
from analysis.scoring import DEFAULT_UNIT, ScoringError, score
from analysis.targets import TargetError, Targets
from analysis.weights import (
    DEFAULT_TOL,
    METHODS,
    WeightingError,
    WeightResult,
    check_base_weight,
    design_weights,
    trim_result,
    weight,
    weight_summary,
    worst_margin,
)

#: The tables a run gives, in workbook order.
TABLES = ("weights", "estimates", "scores", "index", "weak")
WORKBOOK = "results.xlsx"
SUMMARY = "summary.json"
ESTIMATE_COLUMNS = ["group", "item", "n", "estimate", "se", "ci_low", "ci_high"]


class PipelineError(ValueError):
    """Parameters or inputs the chain refuses; the message says what to fix."""


class BoundsError(PipelineError):
    """Bounds written wrong: `order` is False when they are not two numbers, True when the first
    is not smaller than the second (so each caller can say it in its own words and language)."""

    def __init__(self, text: str, order: bool) -> None:
        problem = "needs L < U" if order else "takes two numbers L,U (e.g. 0.5,3)"
        super().__init__(f"{problem}, not {text!r}")
        self.order = order


def parse_bounds(text: str | None) -> tuple[float, float] | None:
    """Bounds on weights or their adjustment as people write them: ``"0.5,3"`` (or ``"0.5;3"``,
    as a Vietnamese spreadsheet would) -> (0.5, 3.0); empty -> None; raises `BoundsError`."""
    if not text or not text.strip():
        return None
    try:
        low, high = (float(part) for part in text.replace(";", ",").split(","))
    except ValueError:
        raise BoundsError(text, order=False) from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise BoundsError(text, order=False)
    if not low < high:
        raise BoundsError(text, order=True)
    return low, high


#: Every error that means "the input cannot be used"; its message says why. Anything else raised
#: by `run` is a fault of the program.
INPUT_ERRORS = (
    PipelineError,
    TargetError,
    WeightingError,
    EstimationError,
    ScoringError,
    AppraisalError,
    SchemeError,
    ExportError,
    IntervalError,
)

Progress = Callable[[int, str], None]


def no_progress(_percent: int, _step: str) -> None:
    """The default `Progress`: reports nowhere."""
    pass


@dataclass
class Parameters:
    """Everything a statistician chooses for a run besides the input files."""

    #: weighting method (`analysis.weights.METHODS`); needs targets
    method: str | None = None
    #: bounds L,U on g = weight / base weight (linear, raking, logit)
    bounds: tuple[float, float] | None = None
    #: bounds L,U on the final weights (survey's trimWeights)
    trim: tuple[float, float] | None = None
    tol: float = DEFAULT_TOL
    max_iter: int | None = None
    #: column of design weights of the weighted groups (default: N_h / n_h, or 1)
    base_weight: str | None = None
    #: column of final weights of a weighted group that comes weighted (no targets)
    weight: str = "weight"
    strata: str | None = None
    cluster: str | None = None
    #: column of population sizes (finite population correction), see `analysis.scoring.score`
    fpc: str | None = None
    lonely_psu: str = "fail"
    #: column identifying the person behind each row (cross-rating: one cluster per respondent)
    respondent: str | None = None
    #: column naming the rated unit, or the one unit's code
    unit: str | None = None
    unit_code: str | None = None
    block: str | None = None
    #: appraisal points used: the council's ``appraised`` or the units' ``self``
    points: str = "appraised"
    level: float = 0.95
    interval: str = "logit"
    df: str = "normal"

    def check(self, has_targets: bool) -> None:
        """Refuse a contradictory or out-of-range set, saying which option to change."""
        if self.method is not None and self.method not in METHODS:
            raise PipelineError(f"the weighting method must be one of {', '.join(METHODS)}")
        if has_targets and self.method is None:
            raise PipelineError(f"targets need a weighting method ({', '.join(METHODS)})")
        if self.method is not None and not has_targets:
            raise PipelineError(f"the method {self.method} needs population targets")
        if self.bounds is not None and self.method in ("poststratify", "rake"):
            raise PipelineError(f"bounds apply to linear, raking and logit, not {self.method}")
        if self.method == "logit" and self.bounds is None:
            raise PipelineError("the logit method needs bounds L,U with L < 1 < U")
        for name in ("bounds", "trim"):
            pair = getattr(self, name)
            if pair is not None and not (len(pair) == 2 and pair[0] < pair[1]):
                raise PipelineError(f"{name} must be two numbers L < U")
        if self.lonely_psu not in LONELY_PSU:
            raise PipelineError(f"lonely PSUs must be one of {', '.join(LONELY_PSU)}")
        if self.interval not in INTERVALS:
            raise PipelineError(f"the interval must be one of {', '.join(INTERVALS)}")
        check_df(self.df)
        if self.max_iter is not None and self.max_iter < 1:
            raise PipelineError("the iteration limit must be at least 1")
        if self.points not in ("appraised", "self"):
            raise PipelineError("the appraisal points must be appraised or self")
        check_level(self.level)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("bounds", "trim"):
            data[name] = list(data[name]) if data[name] is not None else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Parameters:
        """Parameters stored by `as_json`; keys of other versions are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and v is not None}
        for name in ("bounds", "trim"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)


@dataclass
class ChainResult:
    """The tables of a run (`TABLES`: those of the parts the scheme has; the index ones when
    every part it has is there) and its summary."""

    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any] = field(default_factory=dict)

    def write(self, folder: str | Path) -> list[str]:
        """Write every table as CSV, one workbook and the summary; return the file names."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for name, table in self.tables.items():
            write_csv(table, out / f"{name}.csv")
        write_workbook(self.tables, out / WORKBOOK)
        files = [f"{name}.csv" for name in self.tables] + [WORKBOOK]
        self.summary["files"] = files
        (out / SUMMARY).write_text(json.dumps(self.summary, indent=2, default=str) + "\n")
        return files


def run(
    scheme: Scheme,
    responses: Mapping[str, pd.DataFrame],
    params: Parameters,
    *,
    targets: Targets | None = None,
    appraisal: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
    progress: Progress = no_progress,
) -> ChainResult:
    """Weights, estimates, scores and (with ``appraisal``) the index of ``responses``.

    Parameters
    ----------
    responses
        One table per respondent group of the scheme (as exported: one row per complete
        response, answer codes as text or numbers, "don't know" empty). Empty tables are left out.
    targets
        Population targets for the weighted groups (`analysis.targets.read_targets`).
    appraisal
        The appraisal table as read (`analysis.index.read_table`); it is checked here.
    previous
        Last year's index (`analysis.index.read_previous`).
    """
    params.check(targets is not None)
    if appraisal is not None and not scheme.has_appraisal:
        raise PipelineError(
            _(
                "the scheme %(scheme)s has no appraisal criteria: leave out the appraisal file",
                scheme=scheme.code,
            )
        )
    if not scheme.has_survey and appraisal is None:
        raise PipelineError(
            _(
                "the scheme %(scheme)s has only appraisal criteria: give the appraisal points",
                scheme=scheme.code,
            )
        )
    if previous is not None and scheme.has_appraisal and appraisal is None:
        raise PipelineError(_("last year's index needs the appraisal points to compare with"))
    groups = {g: t for g, t in responses.items() if len(t)}
    if scheme.has_survey and not groups:
        raise PipelineError(_("there are no complete responses to score"))
    summary: dict[str, Any] = {
        "scheme": scheme.code,
        "example": scheme.example,
        "counts": {g: _people(t, params.respondent) for g, t in responses.items()},
        "parameters": params.as_json(),
    }
    if params.respondent is not None:
        summary["ratings"] = {g: int(len(t)) for g, t in responses.items()}
    checked = None
    unit_code = params.unit_code
    if appraisal is not None:
        progress(10, "appraisal")
        checked = check_appraisal(scheme, appraisal, points=params.points)
        units = checked["unit_code"].unique()
        if params.unit is None and unit_code is None and len(units) == 1:
            unit_code = str(units[0])
    unit_code = unit_code or DEFAULT_UNIT
    summary["unit_code"] = unit_code if params.unit is None else None

    tables: dict[str, pd.DataFrame] = {}
    survey = None
    if scheme.has_survey:
        tables, survey = _score(scheme, groups, params, targets, unit_code, summary, progress)
    if checked is not None or not scheme.has_appraisal:
        progress(80, "index")
        index = build_index(scheme, checked, survey, previous)
        tables["index"] = index.table
        tables["weak"] = index.weak
        summary["units"] = int(len(index.table))
        summary["unranked"] = int(index.table["rank"].isna().sum())
    progress(90, "files")
    return ChainResult(tables, summary)


def _people(table: pd.DataFrame, respondent: str | None) -> int:
    """Respondents, not rows: with a respondent column, a person who rates several units once."""
    if respondent is not None and respondent in table.columns:
        return int(table[respondent].dropna().astype(str).str.strip().nunique())
    return int(len(table))


def _score(scheme, groups, params: Parameters, targets, unit_code, summary, progress):
    """Weights, estimates and scores of the responses; the tables and the survey points."""
    progress(20, "weights")
    weighted = [g for g in groups if g in scheme.groups and scheme.groups[g].weighted]
    calibration, weight_tables, estimate_tables = {}, [], []
    for group in weighted:
        data = groups[group].copy()
        weights, model, report = _weights(group, data, params, targets)
        data[params.weight] = weights
        groups[group] = data
        summary.setdefault("weighting", {})[group] = report
        if model is not None:
            calibration[group] = model
        ids = data["response_id"] if "response_id" in data.columns else pd.RangeIndex(len(data))
        weight_tables.append(pd.DataFrame({"group": group, "response_id": ids, "weight": weights}))
        progress(40, "estimates")
        estimate_tables.append(_estimates(scheme, group, data, weights, model, params))

    progress(60, "scores")
    scores = score(
        scheme,
        groups,
        unit=params.unit,
        unit_code=unit_code,
        block=params.block,
        weight=params.weight,
        strata=params.strata,
        cluster=params.cluster,
        fpc=params.fpc,
        lonely_psu=params.lonely_psu,
        calibration=calibration,
        level=params.level,
        interval_method=params.interval,
        df=params.df,
        respondent=params.respondent,
    )
    tables = {
        "weights": _concat(weight_tables, ["group", "response_id", "weight"]),
        "estimates": _concat(estimate_tables, ESTIMATE_COLUMNS),
        "scores": scores.table,
    }
    _summarise_scores(summary, scores.table)
    return tables, survey_points(scheme, scores.table)


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)


def weigh(
    data: pd.DataFrame, targets: Targets, params: Parameters, group: str = ""
) -> WeightResult:
    """The weights of one weighted sample: design weights, calibration, trimming.

    Design weights are the ``base_weight`` column, else N_h / n_h of the ``strata`` variable when
    the targets have it, else 1; then ``params.method`` calibrates them to ``targets`` within
    ``params.bounds`` and ``params.trim`` trims the result (`analysis.weights`). Used by the chain
    and by ``python -m analysis weight|estimate``.
    """
    what = _("the %(group)s responses", group=group) if group else _("the data")
    for margin in targets:
        for column in margin.columns:
            if column not in data.columns:
                raise PipelineError(
                    _(
                        "the targets name the variable %(variable)s, not in %(what)s",
                        variable=repr(column),
                        what=what,
                    )
                )
    base = None
    if params.base_weight:
        base = check_base_weight(
            number_column(data, params.base_weight, what, _("base weight")), len(data)
        )
    elif params.strata:
        if params.strata not in data.columns:
            raise PipelineError(
                _(
                    "%(what)s have no stratum column %(column)s",
                    what=what,
                    column=repr(params.strata),
                )
            )
        margin = targets.get(params.strata)
        if margin is not None:
            base = design_weights(data[params.strata], margin)
    bounds = params.bounds or (-math.inf, math.inf)
    result = weight(data, targets, params.method, base, bounds, params.tol, params.max_iter)
    if not result.converged:
        raise PipelineError(
            _(
                "%(method)s did not converge in %(iterations)s iterations: worst margin "
                "%(margin)s; loosen the bounds, raise the iteration limit or merge sparse levels",
                method=params.method,
                iterations=result.iterations,
                margin=worst_margin(result),
            )
        )
    if params.trim:
        result = trim_result(result, *params.trim)
    return result


def number_column(data: pd.DataFrame, column: str, what: str, role: str) -> np.ndarray:
    """A column that must hold a number on every row, as floats; the error names the first row
    that does not, as the file numbers it (the header being row 1)."""
    if column not in data.columns:
        raise PipelineError(
            _(
                "%(what)s have no %(role)s column %(column)s",
                what=what,
                role=role,
                column=repr(column),
            )
        )
    values = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        row = int(np.flatnonzero(np.isnan(values))[0])
        raise PipelineError(
            _(
                "the %(role)s column %(column)s of %(what)s must be a number on every row "
                "(row %(row)s is %(value)s)",
                role=role,
                column=repr(column),
                what=what,
                row=row + 2,
                value=repr(data[column].iloc[row]),
            )
        )
    return values


def _weights(group: str, data: pd.DataFrame, params: Parameters, targets: Targets | None):
    """Final weights of a weighted group, its calibration model (or None) and a report."""
    if targets is not None:
        result = weigh(data, targets, params, group)
        return result.weights, result.calibration, result.report()
    if params.weight not in data.columns:
        raise PipelineError(
            _(
                "the %(group)s responses are a weighted sample but have no weight column "
                "%(column)s: give population targets and a method to weight them",
                group=group,
                column=repr(params.weight),
            )
        )
    what = _("the %(group)s responses", group=group)
    try:
        weights = check_base_weight(
            number_column(data, params.weight, what, _("weight")), len(data)
        )
    except WeightingError as exc:
        raise PipelineError(
            _(
                "the %(group)s weight column %(column)s: %(reason)s",
                group=group,
                column=repr(params.weight),
                reason=reasons(exc)[0],
            )
        ) from None
    note = f"the weights of the column {params.weight} as given"
    return weights, None, {"method": None, **weight_summary(weights), "note": note}


def _estimates(scheme, group, data, weights, model, params: Parameters) -> pd.DataFrame:
    """The group's SIPAS items: the weighted share of positive answers, with SE and interval."""
    if scheme.sipas is None or scheme.sipas.group != group:
        return pd.DataFrame(columns=ESTIMATE_COLUMNS)
    strata = data[params.strata] if params.strata else None
    cluster = data[params.cluster] if params.cluster else None
    if cluster is None and params.respondent and params.respondent in data.columns:
        cluster = data[params.respondent]  # a respondent who rates several units is one PSU
    fpc = data[params.fpc] if params.fpc and params.fpc in data.columns else None
    design = Design.build(weights, strata, cluster, model, params.lonely_psu, fpc=fpc)
    refs = [ref for element in scheme.sipas.elements for ref in element.items]
    if scheme.sipas.overall_item is not None:
        refs.append(scheme.sipas.overall_item)
    parts, seen = [], set()
    for ref in refs:
        if ref.item not in data.columns or (ref.item, ref.rule.code) in seen:
            continue
        seen.add((ref.item, ref.rule.code))
        share = sorted(ref.rule.positive) if ref.rule.type == "share" else None
        parts.append(
            estimate(
                data,
                [ref.item],
                design,
                share=share,
                level=params.level,
                interval=params.interval if share else "wald",
                df=params.df,
            )
        )
    if not parts:
        return pd.DataFrame(columns=ESTIMATE_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    table.insert(0, "group", group)
    return table


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _summarise_scores(summary: dict[str, Any], table: pd.DataFrame) -> None:
    sipas = table[table["kind"] == "sipas"]
    if len(sipas) == 1:
        summary["sipas"] = _finite(float(sipas["estimate"].iloc[0]))
    totals = table[table["kind"] == "total"]
    if totals["unit"].nunique() == 1:
        summary["totals"] = {r.code: _finite(float(r.estimate)) for r in totals.itertuples()}
    summary["low_n"] = int(table["low_n"].sum())
    missing = table[table["no_data"] & (table["kind"] == "criterion") & (table["group"] == "")]
    summary["no_data"] = [f"{r.unit}: {r.code}" for r in missing.itertuples()]
