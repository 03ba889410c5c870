"""Design-based means, totals and shares with Taylor-linearised standard errors.

The definitions are those of R's ``survey`` package (Lumley 2010, ch. 2 and 7):

- the variance is the with-replacement (ultimate cluster) approximation: PSU totals of the
  linearised variable, centred within strata, scaled by n_h / (n_h - 1);
- after calibration the linearised variable is first replaced by its calibration residuals
  (``svyrecvar`` with ``postStrata``): the base-weighted regression of ``x / w_cal`` on the
  calibration model, times ``w_cal``;
- missing answers are a domain (``na.rm = TRUE``): rows keep their place in the design with a zero
  contribution, so strata and PSU counts are those of the full sample;
- the design effect is ``svymean(..., deff = TRUE)``: the variance over that of simple random
  sampling without replacement of n from N-hat, ``s^2 (N - n) / (N n)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd
from scipy import sparse

from analysis.cells import code_column
from analysis.weights import CalibrationModel

COLUMNS = ["item", "by", "domain", "n", "estimate", "se", "ci_low", "ci_high", "deff"]
LONELY_PSU = ("fail", "remove", "certainty")
#: Influence columns are processed in blocks of at most this many numbers.
_BLOCK = 1 << 22


class EstimationError(ValueError):
    """A design or item that cannot be estimated; the message says what to fix."""


@dataclass
class Design:
    """A stratified, clustered sample with its (possibly calibrated) weights."""

    weights: np.ndarray
    #: PSU of every respondent (dense codes; clusters are nested in strata)
    psu: np.ndarray
    #: stratum of every PSU
    psu_stratum: np.ndarray
    #: variance scale of every PSU: n_h / (n_h - 1), or 0 for a lonely PSU left out
    psu_scale: np.ndarray
    calibration: CalibrationModel | None = None
    clustered: bool = True

    @property
    def n(self) -> int:
        return len(self.weights)

    @classmethod
    def build(
        cls,
        weights,
        strata=None,
        cluster=None,
        calibration: CalibrationModel | None = None,
        lonely_psu: str = "fail",
    ) -> Design:
        """Make a design from weights and optional stratum and cluster columns.

        ``lonely_psu`` is ``survey.lonely.psu``: ``"fail"`` (survey's default) refuses a stratum
        with a single PSU; ``"remove"`` and ``"certainty"`` let it add nothing to the variance.
        """
        w = np.asarray(weights, dtype=np.float64)
        n = len(w)
        if lonely_psu not in LONELY_PSU:
            raise EstimationError(f"lonely_psu must be one of {', '.join(LONELY_PSU)}")
        if not np.isfinite(w).all() or (w < 0).any():
            raise EstimationError("weights must be finite and non-negative")
        stratum = _codes("strata", strata, n)
        if cluster is None:
            psu = np.arange(n, dtype=np.intp)
        else:
            clusters = _codes("cluster", cluster, n)
            pair = stratum.astype(np.int64) * (int(clusters.max()) + 1) + clusters
            _, psu = np.unique(pair, return_inverse=True)
            psu = psu.astype(np.intp).ravel()
        n_psu = int(psu.max()) + 1 if n else 0
        psu_stratum = np.zeros(n_psu, dtype=np.intp)
        psu_stratum[psu] = stratum
        per_stratum = np.bincount(psu_stratum, minlength=int(stratum.max()) + 1 if n else 0)
        lonely = per_stratum == 1
        if lonely.any() and lonely_psu == "fail":
            names = _stratum_names(strata, stratum, np.flatnonzero(lonely))
            raise EstimationError(
                f"stratum {names} has only one PSU, so its variance cannot be estimated "
                "(survey's default lonely.psu = 'fail'): merge it with a neighbouring stratum "
                "or choose lonely_psu 'remove'"
            )
        scale_h = np.divide(
            per_stratum, per_stratum - 1.0, out=np.zeros(len(per_stratum)), where=per_stratum > 1
        )
        return cls(w, psu, psu_stratum, scale_h[psu_stratum], calibration, cluster is not None)

    def variance(self, influence: np.ndarray) -> np.ndarray:
        """Variance of the totals of each column of ``influence`` (n, m) under the design."""
        x = influence
        if self.calibration is not None:
            x = calibration_residuals(self.calibration, x)
        totals = _sum_by(self.psu, x, len(self.psu_stratum)) if self.clustered else x
        n_strata = int(self.psu_stratum.max()) + 1
        psu_count = np.bincount(self.psu_stratum, minlength=n_strata).astype(np.float64)[:, None]
        sums = _sum_by(self.psu_stratum, totals, n_strata)
        means = np.divide(sums, psu_count, out=np.zeros_like(sums), where=psu_count > 0)
        centred = totals - means[self.psu_stratum]
        return (self.psu_scale[:, None] * centred**2).sum(axis=0)


def _codes(name: str, values, n: int) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=np.intp)
    coded = code_column(name, values)
    if len(coded.codes) != n:
        raise EstimationError(f"{name} has {len(coded.codes)} values for {n} respondents")
    if coded.has_missing:
        raise EstimationError(f"{name} is empty for {int((coded.codes < 0).sum())} respondents")
    return coded.codes


def _stratum_names(strata, codes, which) -> str:
    coded = code_column("strata", strata)
    return ", ".join(repr(coded.levels[i]) for i in which[:5])


def _sum_by(groups: np.ndarray, x: np.ndarray, size: int) -> np.ndarray:
    """Column sums of ``x`` within groups (a sparse indicator product)."""
    n = len(groups)
    indicator = sparse.csr_matrix((np.ones(n), (groups, np.arange(n))), shape=(size, n))
    return np.asarray(indicator @ x)


def calibration_residuals(model: CalibrationModel, x: np.ndarray) -> np.ndarray:
    """Replace ``x`` by ``w_cal * e`` where e are residuals of ``x / w_cal`` on the model.

    The regression is weighted by the base weights, as ``qr.resid(qr(mm * sqrt(w0)), x / w)`` with
    ``w = g * sqrt(w0)`` in ``survey:::svyrecvar``; the model is constant within cells, so it is
    fitted to base-weighted cell means.
    """
    w_cal = model.calibrated_weight
    with np.errstate(divide="ignore", invalid="ignore"):
        v = x / w_cal[:, None]
    cell = model.row_cell()
    n_cells = len(model.cells.cells)
    base = model.base_weight
    weighted = v if base is None else v * base[:, None]
    cell_weight = model.cells.weight
    means = _sum_by(cell, weighted, n_cells) / cell_weight[:, None]
    if model.design_matrix is None:
        fitted = means
    else:
        root = np.sqrt(cell_weight)[:, None]
        coef = np.linalg.lstsq(model.design_matrix * root, means * root, rcond=None)[0]
        fitted = model.design_matrix @ coef
    return x - w_cal[:, None] * fitted[cell]


# ---------------------------------------------------------------------------------------------
# Estimates


def item_values(data, item: str, share: Sequence[float] | None = None) -> np.ndarray:
    """The answers to one item as floats (NaN = missing), or 0/1 for membership in ``share``."""
    try:
        column = data[item]
    except KeyError:
        raise EstimationError(f"item {item!r} is not in the data") from None
    values = pd.to_numeric(pd.Series(column), errors="coerce").to_numpy(dtype=np.float64)
    raw = pd.Series(column)
    bad = np.isnan(values) & raw.notna().to_numpy() & (raw.astype(str).str.strip() != "")
    if bad.any():
        example = raw[bad].iloc[0]
        raise EstimationError(f"item {item!r} has answers that are not numbers, e.g. {example!r}")
    if share is not None:
        valid = ~np.isnan(values)
        values = np.where(valid, np.isin(values, np.asarray(share, dtype=np.float64)), np.nan)
    return values


def domain_estimates(
    design: Design,
    values: np.ndarray,
    domain: np.ndarray | None = None,
    n_domains: int = 1,
    statistic: str = "mean",
    level: float = 0.95,
) -> pd.DataFrame:
    """Estimate, SE, Wald interval and design effect of ``values`` in each domain.

    ``domain`` holds a domain code 0..n_domains-1 per respondent (-1 = in none); None means one
    domain with everybody. Missing values (NaN) leave the respondent out of the domain but in the
    design.
    """
    if statistic not in ("mean", "total"):
        raise EstimationError("statistic must be 'mean' or 'total'")
    n = design.n
    w = design.weights
    dom = np.zeros(n, dtype=np.intp) if domain is None else np.asarray(domain, dtype=np.intp)
    valid = ~np.isnan(values) & (dom >= 0) & (w > 0)
    rows = np.flatnonzero(valid)
    d_rows, z, wr = dom[rows], values[rows], w[rows]
    count = np.bincount(d_rows, minlength=n_domains)
    wsum = np.bincount(d_rows, weights=wr, minlength=n_domains)
    wz = np.bincount(d_rows, weights=wr * z, minlength=n_domains)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = wz / wsum
        dev = z - mean[d_rows]
        s2 = np.bincount(d_rows, weights=wr * dev**2, minlength=n_domains) / wsum
        s2 = s2 * count / (count - 1.0)
    estimate = mean if statistic == "mean" else wz
    variance = np.full(n_domains, np.nan)
    block = max(1, _BLOCK // max(n, 1))
    for start in range(0, n_domains, block):
        stop = min(n_domains, start + block)
        inside = (d_rows >= start) & (d_rows < stop)
        if not inside.any():
            continue
        infl = np.zeros((n, stop - start))
        r, k = rows[inside], d_rows[inside]
        if statistic == "mean":
            infl[r, k - start] = wr[inside] * dev[inside] / wsum[k]
        else:
            infl[r, k - start] = wr[inside] * z[inside]
        variance[start:stop] = design.variance(infl)
    variance[count == 0] = np.nan
    se = np.sqrt(variance)
    quantile = NormalDist().inv_cdf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        srs = s2 * (wsum - count) / (wsum * count)
        if statistic == "total":
            srs = srs * wsum**2
        srs = np.where(wsum < count, np.nan, srs)
        deff = variance / srs
    return pd.DataFrame(
        {
            "n": count,
            "estimate": np.where(count > 0, estimate, np.nan),
            "se": se,
            "ci_low": estimate - quantile * se,
            "ci_high": estimate + quantile * se,
            "deff": deff,
        }
    )


def _domain_order(levels: list[str | None], present: np.ndarray) -> list[int]:
    codes = [i for i in range(len(levels)) if present[i]]
    try:
        return sorted(codes, key=lambda i: float(levels[i]))
    except (TypeError, ValueError):
        return sorted(codes, key=lambda i: str(levels[i]))


def estimate(
    data,
    items: Sequence[str],
    design: Design,
    by: Sequence[str] = (),
    share: Sequence[float] | None = None,
    statistic: str = "mean",
    level: float = 0.95,
) -> pd.DataFrame:
    """Overall and by-domain estimates of every item, one row each (columns `COLUMNS`).

    With ``share`` the estimate is the weighted share of valid answers whose value is in it.
    """
    tables = []
    domains = []
    for column in by:
        try:
            coded = code_column(column, data[column])
        except KeyError:
            raise EstimationError(f"by-variable {column!r} is not in the data") from None
        present = np.zeros(coded.size, dtype=bool)
        present[coded.codes[coded.codes >= 0]] = True
        order = _domain_order(coded.levels, present)
        remap = np.full(coded.size + 1, -1, dtype=np.intp)
        remap[np.asarray(order, dtype=np.intp)] = np.arange(len(order))
        codes = np.where(coded.codes >= 0, remap[coded.codes], -1)
        domains.append((column, codes, [coded.levels[i] for i in order]))
    for item in items:
        values = item_values(data, item, share)
        overall = domain_estimates(design, values, None, 1, statistic, level)
        overall.insert(0, "domain", "")
        overall.insert(0, "by", "")
        overall.insert(0, "item", item)
        tables.append(overall)
        for column, codes, labels in domains:
            table = domain_estimates(design, values, codes, len(labels), statistic, level)
            table.insert(0, "domain", labels)
            table.insert(0, "by", column)
            table.insert(0, "item", item)
            tables.append(table)
    return pd.concat(tables, ignore_index=True)[COLUMNS]
