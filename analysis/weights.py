"""Survey weights: design weights, non-response, post-stratification, raking, calibration, trimming.

Definitions follow R's ``survey`` package (Lumley 2010) so results compare one to one:

- `poststratify` is ``postStratify()``: g = N_c / sum of base weights in the crossed cell c.
- `rake` is iterative proportional fitting (``rake()``), run to a tight tolerance; at convergence
  its weights equal ``calibrate(calfun = "raking")``.
- `calibrate` is ``calibrate()`` with the linear (GREG), raking (exponential) or logit distance and
  optional bounds on the g-weights (Deville and Särndal 1992), Newton steps as ``survey:::grake``.
- `trim_weights` is ``trimWeights()``: weights are clipped to [lower, upper] and the trimmed mass
  is shared equally among the weights that were not trimmed.

Every adjustment works on the table of respondents' cells (see `analysis.cells`), so its cost is
one pass to aggregate and one pass to expand, whatever the number of iterations.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.calfun import CalFun
from analysis.cells import CellTable, CodedColumn, build_cells, code_column
from analysis.choices import METHODS
from analysis.messages import _, reasons, to_json
from analysis.targets import CROSS, Margin, TargetError, Targets, level_key

DEFAULT_TOL = 1e-10
DEFAULT_MAX_ITER = {"rake": 1000, "linear": 50, "raking": 50, "logit": 50}
#: grake() rescales the base weights when every population total is this many times the sample's.
_RESCALE_THRESHOLD = 20
_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


class WeightingError(ValueError):
    """Data or targets that cannot be weighted; the message says what to fix."""


@dataclass(frozen=True)
class MarginIndex:
    """A margin matched to the cell table: the margin level of every cell and its totals."""

    variable: str
    axes: tuple[int, ...]
    levels: tuple[str, ...]
    totals: np.ndarray
    #: (levels, len(axes)) codes of the margin's levels on its axes
    level_codes: np.ndarray
    #: for every non-empty cell, its level of this margin
    cell_level: np.ndarray

    def achieved(self, cell_weight: np.ndarray) -> np.ndarray:
        return np.bincount(self.cell_level, weights=cell_weight, minlength=len(self.levels))


@dataclass
class CalibrationModel:
    """What a calibrated design keeps for its variance (the ``postStrata`` of ``survey``)."""

    cells: CellTable
    #: (K, p) calibration model on the non-empty cells; None means one indicator per cell
    design_matrix: np.ndarray | None
    #: base (design) weights per respondent; None means all 1
    base_weight: np.ndarray | None
    #: calibrated weights per respondent, before any trimming
    calibrated_weight: np.ndarray
    _dense: np.ndarray | None = field(default=None, repr=False)

    def row_cell(self) -> np.ndarray:
        if self._dense is None:
            self._dense = self.cells.dense_row_cell()
        return self._dense


@dataclass
class WeightResult:
    """Weights and the diagnostics of how they were made."""

    weights: np.ndarray
    method: str
    converged: bool
    iterations: int
    margins: list[MarginIndex]
    calibration: CalibrationModel | None
    #: calibrated weight per non-empty cell (sum over its respondents)
    cell_weight: np.ndarray | None = None
    trimmed: int = 0
    notes: list[str] = field(default_factory=list)

    def margin_fit(self) -> pd.DataFrame:
        """Each target beside what the final weights reproduce."""
        rows = []
        if self.calibration is None:
            return pd.DataFrame(columns=["variable", "level", "target", "achieved", "rel_error"])
        cells = self.calibration.cells
        if self.trimmed or self.cell_weight is None:
            space = np.bincount(cells.row_cell, weights=self.weights, minlength=cells.space_size)
            cell_weight = space[cells.cells]
        else:
            cell_weight = self.cell_weight
        for margin in self.margins:
            achieved = margin.achieved(cell_weight)
            for level, target, got in zip(margin.levels, margin.totals, achieved, strict=True):
                rows.append((margin.variable, level, target, got, (got - target) / target))
        return pd.DataFrame(rows, columns=["variable", "level", "target", "achieved", "rel_error"])

    def report(self) -> dict:
        """A JSON-ready report: convergence, margins fit, weight range, Kish design effect."""
        summary = weight_summary(self.weights)
        fit = self.margin_fit()
        return {
            "method": self.method,
            "converged": self.converged,
            "iterations": self.iterations,
            "trimmed": self.trimmed,
            "max_abs_rel_error": float(fit["rel_error"].abs().max()) if len(fit) else 0.0,
            **summary,
            "margins": [
                {
                    "variable": r.variable,
                    "level": r.level,
                    "target": float(r.target),
                    "achieved": float(r.achieved),
                    "rel_error": float(r.rel_error),
                }
                for r in fit.itertuples()
            ],
            "notes": [str(note) for note in self.notes],
            # the same, as messages the web app says in its reader's language
            "note_messages": [to_json(note) for note in self.notes],
        }


def weight_summary(weights: np.ndarray) -> dict:
    """Range, quantiles, Kish design effect ``n sum(w^2) / sum(w)^2``, effective n (Kish 1965)."""
    w = np.asarray(weights, dtype=np.float64)
    n = len(w)
    total = float(w.sum())
    squares = float(np.dot(w, w))
    quantiles = np.quantile(w, _QUANTILES) if n else np.full(len(_QUANTILES), np.nan)
    return {
        "n": n,
        "sum": total,
        "min": float(w.min()) if n else math.nan,
        "max": float(w.max()) if n else math.nan,
        "ratio_max_min": float(w.max() / w.min()) if n and w.min() > 0 else math.nan,
        "quantiles": {f"{q:g}": float(v) for q, v in zip(_QUANTILES, quantiles, strict=True)},
        "non_positive": int((w <= 0).sum()),
        "kish_deff": n * squares / total**2 if total else math.nan,
        "effective_n": total**2 / squares if squares else math.nan,
    }


# ---------------------------------------------------------------------------------------------
# Inputs


def _column(data, name: str):
    try:
        return data[name]
    except (KeyError, IndexError):
        raise WeightingError(_("column %(column)s is not in the data", column=repr(name))) from None


def check_base_weight(values, n: int) -> np.ndarray | None:
    """Base weights as floats; every one must be finite and positive."""
    if values is None:
        return None
    w = np.asarray(values, dtype=np.float64)
    if w.shape != (n,):
        raise WeightingError(
            _("base weights have %(values)s values for %(n)s respondents", values=w.size, n=n)
        )
    bad = ~(w > 0) | ~np.isfinite(w)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise WeightingError(
            _(
                "base weights must be positive numbers: %(count)s are not "
                "(first at row %(row)s: %(value)s)",
                count=int(bad.sum()),
                row=row + 1,
                value=str(w[row]),
            )
        )
    return w


def _coded_axes(data, targets: Targets) -> list[CodedColumn]:
    names: list[str] = []
    for margin in targets:
        for column in margin.columns:
            if column not in names:
                names.append(column)
    axes = []
    for name in names:
        coded = code_column(name, _column(data, name))
        if coded.has_missing:
            missing = int((coded.codes < 0).sum())
            raise WeightingError(
                _(
                    "column %(column)s has %(count)s empty cells: every respondent needs a level "
                    "of each weighting variable",
                    column=repr(name),
                    count=missing,
                )
            )
        axes.append(coded)
    return axes


def match_margins(table: CellTable, targets: Targets) -> list[MarginIndex]:
    """Match every margin's levels to the cells; refuse levels without targets and vice versa."""
    names = [axis.name for axis in table.axes]
    matched = []
    for margin in targets:
        axes = tuple(names.index(c) for c in margin.columns)
        sizes = tuple(table.axes[a].size for a in axes)
        cell_code = np.ravel_multi_index(tuple(table.axis_codes[:, a] for a in axes), sizes)
        lookup = np.full(int(np.prod(sizes)), -1, dtype=np.intp)
        levels, totals, codes = [], [], []
        for level, total in zip(margin.levels, margin.totals, strict=True):
            parts = margin.level_parts(level)
            code = [table.axes[a].code_of(p) for a, p in zip(axes, parts, strict=True)]
            flat = np.ravel_multi_index(code, sizes) if min(code) >= 0 else -1
            present = flat >= 0 and bool((cell_code == flat).any())
            if not present:
                if total > 0:
                    raise WeightingError(
                        _(
                            "target level %(level)s of %(variable)s has no respondents in the "
                            "data: merge it with a neighbouring level or drop it",
                            level=repr(level),
                            variable=margin.variable,
                        )
                    )
                continue
            if total <= 0:
                raise WeightingError(
                    _(
                        "target of %(variable)s=%(level)s is 0 but the data have respondents "
                        "at that level",
                        variable=margin.variable,
                        level=level,
                    )
                )
            lookup[flat] = len(levels)
            levels.append(level)
            totals.append(total)
            codes.append(code)
        cell_level = lookup[cell_code]
        if (cell_level < 0).any():
            cell = int(np.flatnonzero(cell_level < 0)[0])
            parts = [table.axes[a].levels[table.axis_codes[cell, a]] for a in axes]
            raise WeightingError(
                _(
                    "level %(level)s of %(variable)s is in the data but has no target",
                    level=repr(CROSS.join(map(str, parts))),
                    variable=margin.variable,
                )
            )
        matched.append(
            MarginIndex(
                margin.variable,
                axes,
                tuple(levels),
                np.asarray(totals, dtype=np.float64),
                np.asarray(codes, dtype=np.intp).reshape(len(levels), len(axes)),
                cell_level,
            )
        )
    return matched


@dataclass
class _Problem:
    table: CellTable
    margins: list[MarginIndex]
    base_weight: np.ndarray | None
    total: float


def _prepare(data, targets: Targets, base_weight) -> _Problem:
    try:
        total = targets.check_totals()
    except TargetError as exc:
        raise WeightingError(reasons(exc)[0]) from None
    axes = _coded_axes(data, targets)
    n = len(axes[0].codes)
    if n == 0:
        raise WeightingError(_("the data have no rows"))
    base = check_base_weight(base_weight, n)
    table = build_cells(axes, base)
    try:
        margins = match_margins(table, targets)
    except TargetError as exc:
        raise WeightingError(reasons(exc)[0]) from None
    return _Problem(table, margins, base, total)


def _expand(problem: _Problem, g_cell: np.ndarray) -> np.ndarray:
    g = problem.table.expand(g_cell)
    return g if problem.base_weight is None else g * problem.base_weight


def _result(problem, method, g_cell, converged, iterations, design_matrix, notes=()):
    weights = _expand(problem, g_cell)
    model = CalibrationModel(problem.table, design_matrix, problem.base_weight, weights)
    return WeightResult(
        weights,
        method,
        converged,
        iterations,
        problem.margins,
        model,
        cell_weight=problem.table.weight * g_cell,
        notes=list(notes),
    )


# ---------------------------------------------------------------------------------------------
# Design weights and non-response


def design_weights(strata, population: Mapping[object, float] | Margin) -> np.ndarray:
    """Design weights N_h / n_h from the population count N_h of each stratum.

    ``population`` maps stratum level to N_h (or is the `Margin` of the stratum variable).
    """
    coded = code_column("stratum", pd.Series(strata) if not hasattr(strata, "dtype") else strata)
    if coded.has_missing:
        raise WeightingError(_("the stratum is empty for some respondents"))
    if isinstance(population, Margin):
        population = dict(zip(population.levels, population.totals, strict=True))
    sizes = {level_key(k): float(v) for k, v in population.items()}
    counts = np.bincount(coded.codes, minlength=coded.size)
    per_code = np.zeros(coded.size)
    for code, level in enumerate(coded.levels):
        if counts[code] == 0:
            continue
        if level not in sizes:
            raise WeightingError(
                _(
                    "stratum %(level)s is in the data but has no population count",
                    level=repr(level),
                )
            )
        if not sizes[level] > 0:
            raise WeightingError(
                _("population count of stratum %(level)s must be positive", level=repr(level))
            )
        per_code[code] = sizes[level] / counts[code]
    seen = {lv for code, lv in enumerate(coded.levels) if counts[code]}
    for level, size in sizes.items():
        if size > 0 and level not in seen:
            raise WeightingError(
                _(
                    "stratum %(level)s has a population count but no respondents",
                    level=repr(level),
                )
            )
    return per_code[coded.codes]


def nonresponse_adjust(weights, cells, responded) -> np.ndarray:
    """Spread the weight of non-respondents over the respondents of their cell.

    Returns the adjusted weights of all sampled units (0 for non-respondents): within each cell,
    respondents' weights are multiplied by (sum of weights of all sampled) / (sum over respondents).
    """
    w = np.asarray(weights, dtype=np.float64)
    resp = np.asarray(responded, dtype=bool)
    coded = code_column("cell", pd.Series(cells) if not hasattr(cells, "dtype") else cells)
    if coded.has_missing:
        raise WeightingError("the non-response cell is empty for some sampled units")
    every = np.bincount(coded.codes, weights=w, minlength=coded.size)
    answered = np.bincount(coded.codes, weights=w * resp, minlength=coded.size)
    empty = (every > 0) & (answered == 0)
    if empty.any():
        level = coded.levels[int(np.flatnonzero(empty)[0])]
        raise WeightingError(f"non-response cell {level!r} has no respondents: merge it")
    factor = np.divide(every, answered, out=np.zeros_like(every), where=answered > 0)
    return np.where(resp, w * factor[coded.codes], 0.0)


# ---------------------------------------------------------------------------------------------
# Post-stratification and raking


def poststratify(data, targets: Targets, base_weight=None) -> WeightResult:
    """Post-stratify to the totals of one (crossed) variable, as ``survey::postStratify``."""
    if len(targets) != 1:
        raise WeightingError(
            _(
                "poststratify takes exactly one variable; cross several as a:b (got %(variables)s)",
                variables=", ".join(targets.variables),
            )
        )
    problem = _prepare(data, targets, base_weight)
    margin = problem.margins[0]
    cell_total = margin.achieved(problem.table.weight)
    g_level = margin.totals / cell_total
    g_cell = g_level[margin.cell_level]
    return _result(problem, "poststratify", g_cell, True, 1, None)


def _misfit(problem: _Problem, cell_weight: np.ndarray) -> tuple[float, str]:
    worst, where = 0.0, ""
    for margin in problem.margins:
        rel = np.abs(margin.achieved(cell_weight) - margin.totals) / margin.totals
        i = int(np.argmax(rel))
        if rel[i] > worst:
            worst, where = float(rel[i]), f"{margin.variable}={margin.levels[i]}"
    return worst, where


def rake(data, targets: Targets, base_weight=None, tol=DEFAULT_TOL, max_iter=None) -> WeightResult:
    """Rake by iterative proportional fitting until every margin is within ``tol`` (relative).

    At convergence the weights equal ``calibrate(calfun = "raking")``; R's ``rake()`` stops much
    earlier by default (``epsilon = 1`` on the weighted table, 10 sweeps).
    """
    max_iter = DEFAULT_MAX_ITER["rake"] if max_iter is None else max_iter
    problem = _prepare(data, targets, base_weight)
    base = problem.table.weight
    cell_weight = base.copy()
    converged, sweep = False, 0
    for sweep in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        for margin in problem.margins:
            achieved = margin.achieved(cell_weight)
            cell_weight *= (margin.totals / achieved)[margin.cell_level]
        worst, where = _misfit(problem, cell_weight)
        if worst <= tol:
            converged = True
            break
    notes = [] if converged else [_worst_note(where, worst)]
    result = _result(problem, "rake", cell_weight / base, converged, sweep, None, notes)
    result.calibration.design_matrix = model_matrix(problem)[0]
    return result


# ---------------------------------------------------------------------------------------------
# Calibration


def model_matrix(problem: _Problem) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """R's ``model.matrix(~ a*b + c ...)`` on the cells, with the population total of each column.

    Treatment contrasts: an intercept, then for every term (each margin's variables and their
    interactions) the product of indicators of the non-reference levels; the reference level is
    the first present level in R's factor order.
    """
    table = problem.table
    axis_levels = []
    for a, axis in enumerate(table.axes):
        present = np.flatnonzero(table.present(a))
        rank = axis.sort_rank()
        axis_levels.append(present[np.argsort(rank[present])][1:])
    terms: list[tuple[int, ...]] = []
    owner: dict[tuple[int, ...], MarginIndex] = {}
    for margin in problem.margins:
        for size in range(1, len(margin.axes) + 1):
            for term in itertools.combinations(sorted(margin.axes), size):
                if term not in owner:
                    owner[term] = margin
                    terms.append(term)
    terms.sort(key=len)
    columns = [np.ones(len(table.cells))]
    totals = [problem.total]
    names = ["(Intercept)"]
    for term in terms:
        margin = owner[term]
        position = [margin.axes.index(a) for a in term]
        for combo in itertools.product(*(axis_levels[a] for a in term)):
            column = np.ones(len(table.cells))
            chosen = np.ones(len(margin.levels), dtype=bool)
            for a, p, code in zip(term, position, combo, strict=True):
                column = column * (table.axis_codes[:, a] == code)
                chosen &= margin.level_codes[:, p] == code
            population = float(margin.totals[chosen].sum())
            if not column.any():
                continue  # a combination absent from both sample and population, as in R
            columns.append(column)
            totals.append(population)
            label = (_term_label(table, a, c) for a, c in zip(term, combo, strict=True))
            names.append(":".join(label))
    return np.column_stack(columns), np.asarray(totals), names


def _term_label(table: CellTable, axis: int, code: int) -> str:
    return f"{table.axes[axis].name}{table.axes[axis].levels[code]}"


def _grake(x, w, population, calfun: CalFun, tol, max_iter, margin_error):
    """Newton iterations of ``survey:::grake`` on the cell table; returns g per cell."""
    sample_total = x.T @ w
    scale = None
    with np.errstate(divide="ignore"):
        scales = population / sample_total
    if scales.min() > _RESCALE_THRESHOLD:
        scale = float(scales.mean())
        w = w * scale
        sample_total = sample_total * scale
    eta = np.zeros(x.shape[1])
    xeta = x @ eta
    iteration, converged, achieved = 1, False, math.inf
    with np.errstate(over="ignore", invalid="ignore"):
        fm1, deriv = calfun.fm1(xeta), calfun.derivative(xeta)
        while True:
            tmat = (x * (w * deriv)[:, None]).T @ x
            misfit = population - sample_total - x.T @ (w * fm1)
            delta = np.linalg.pinv(tmat, rcond=256 * np.finfo(float).eps) @ misfit
            eta = eta + delta
            xeta = x @ eta
            fm1, deriv = calfun.fm1(xeta), calfun.derivative(xeta)
            while iteration < max_iter and not (
                np.isfinite(fm1).all() and np.isfinite(deriv).all()
            ):
                iteration += 1
                delta = delta / 2
                eta = eta - delta
                xeta = x @ eta
                fm1, deriv = calfun.fm1(xeta), calfun.derivative(xeta)
            misfit = population - sample_total - x.T @ (w * fm1)
            achieved = float(np.max(np.abs(misfit) / np.abs(population)))
            if achieved < tol and margin_error(w * (1 + fm1)) <= tol:
                converged = True
                break
            iteration += 1
            if iteration > max_iter:
                iteration -= 1
                break
    g = 1 + fm1
    if scale is not None:
        g = g * scale
    return g, converged, iteration, scale


def calibrate(
    data,
    targets: Targets,
    method: str = "linear",
    base_weight=None,
    bounds: tuple[float, float] = (-math.inf, math.inf),
    tol: float = DEFAULT_TOL,
    max_iter: int | None = None,
) -> WeightResult:
    """Calibrate to margins with the linear, raking or logit distance, as ``survey::calibrate``.

    ``bounds`` limit the g-weights (final weight over base weight) as ``calibrate(bounds=)``;
    logit calibration needs them finite. Like ``survey:::grake``, when every population total
    exceeds 20 times the sample's, base weights are first scaled by the mean ratio and the bounds
    apply to g relative to the scaled weights.
    """
    if method not in ("linear", "raking", "logit"):
        raise WeightingError(f"unknown calibration method {method!r}")
    max_iter = DEFAULT_MAX_ITER[method] if max_iter is None else max_iter
    try:
        calfun = CalFun(method, float(bounds[0]), float(bounds[1]))
    except ValueError as exc:
        raise WeightingError(str(exc)) from None
    problem = _prepare(data, targets, base_weight)
    x, population, names = model_matrix(problem)
    w = problem.table.weight
    notes = []
    if method == "linear" and not calfun.bounded:
        # survey's regcalibrate(): one exact solve
        gap = population - x.T @ w
        tmat = (x * w[:, None]).T @ x
        coef = np.linalg.lstsq(tmat, gap, rcond=None)[0]
        g_cell = 1 + x @ coef
        iterations = 1
        worst, where = _misfit(problem, w * g_cell)
        converged = worst <= max(tol, 1e-8)
    else:
        g_cell, converged, iterations, scale = _grake(
            x, w, population, calfun, tol, max_iter, lambda cw: _misfit(problem, cw)[0]
        )
        if scale is not None:
            notes.append(
                _(
                    "base weights were scaled by %(scale)s before calibrating (as survey's grake)",
                    scale=float(f"{scale:.6g}"),
                )
            )
        worst, where = _misfit(problem, w * g_cell)
    if not converged:
        notes.append(_worst_note(where, worst))
    if (g_cell <= 0).any():
        notes.append(_("%(count)s cells have non-positive weights", count=int((g_cell <= 0).sum())))
    return _result(problem, method, g_cell, converged, iterations, x, notes)


def worst_margin(result: WeightResult) -> str:
    """The margin level furthest from its target, as ``variable=level``."""
    fit = result.margin_fit()
    if not len(fit):
        return ""
    row = fit.iloc[int(fit["rel_error"].abs().to_numpy().argmax())]
    return _(
        "%(variable)s=%(level)s (relative error %(error)s)",
        variable=row.variable,
        level=row.level,
        error=float(f"{abs(row.rel_error):.3g}"),
    )


def _worst_note(where: str, worst: float):
    return _(
        "worst margin %(margin)s: relative error %(error)s",
        margin=where,
        error=float(f"{worst:.3g}"),
    )


# ---------------------------------------------------------------------------------------------
# Trimming


def trim_weights(
    weights, lower: float = -math.inf, upper: float = math.inf, strict: bool = False
) -> tuple[np.ndarray, int]:
    """Trim weights to [lower, upper] and share the trimmed mass equally among the others.

    As ``survey::trimWeights``: the total is kept; with ``strict`` the step repeats until no
    weight is outside the bounds. Returns the new weights and how many were trimmed.
    """
    w = np.asarray(weights, dtype=np.float64).copy()
    if strict and not len(w) * lower <= w.sum() <= len(w) * upper:
        raise WeightingError(
            _(
                "no weights within [%(lower)s, %(upper)s] keep the total %(total)s: widen them",
                lower=float(lower),
                upper=float(upper),
                total=float(f"{w.sum():g}"),
            )
        )
    trimmed = np.zeros(len(w), dtype=bool)
    for _step in range(1000):
        outside = (w < lower) | (w > upper)
        if not outside.any():
            break
        if outside.all():
            raise WeightingError(
                _(
                    "every weight is outside the trimming bounds %(lower)s, %(upper)s: widen them",
                    lower=float(lower),
                    upper=float(upper),
                )
            )
        clipped = np.clip(w, lower, upper)
        trimmings = float((w - clipped).sum())
        clipped[~outside] += trimmings / int((~outside).sum())
        w = clipped
        trimmed |= outside
        if not strict:
            break
    return w, int(trimmed.sum())


def trim_result(result: WeightResult, lower: float, upper: float, strict=False) -> WeightResult:
    """A copy of ``result`` with trimmed weights; the calibration model is kept for the variance."""
    weights, count = trim_weights(result.weights, lower, upper, strict)
    return WeightResult(
        weights,
        result.method,
        result.converged,
        result.iterations,
        result.margins,
        result.calibration,
        cell_weight=result.cell_weight,
        trimmed=count,
        notes=[
            *result.notes,
            _(
                "%(count)s weights trimmed to [%(lower)s, %(upper)s]",
                count=count,
                lower=float(lower),
                upper=float(upper),
            ),
        ],
    )


def weight(
    data,
    targets: Targets,
    method: str,
    base_weight=None,
    bounds: tuple[float, float] = (-math.inf, math.inf),
    tol: float = DEFAULT_TOL,
    max_iter: int | None = None,
) -> WeightResult:
    """Dispatch on the method name used by the command line."""
    if method == "poststratify":
        return poststratify(data, targets, base_weight)
    if method == "rake":
        return rake(data, targets, base_weight, tol=tol, max_iter=max_iter)
    if method in ("linear", "raking", "logit"):
        return calibrate(data, targets, method, base_weight, bounds, tol, max_iter)
    raise WeightingError(
        _(
            "unknown method %(method)s: use one of %(methods)s",
            method=repr(method),
            methods=", ".join(METHODS),
        )
    )
