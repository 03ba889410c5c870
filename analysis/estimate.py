"""Design-based means, totals and shares with Taylor-linearised standard errors.

The definitions are those of R's ``survey`` package (Lumley 2010, ch. 2 and 7):

- the variance is the with-replacement (ultimate cluster) approximation: PSU totals of the
  linearised variable, centred within strata, scaled by n_h / (n_h - 1) (``survey:::onestrat``);
- ``fpc`` (`Design.build`) is ``svydesign(fpc = )``: per respondent the population number of PSUs
  in the stratum, or, when every value is at most 1, the sampling fraction. Each stratum's
  scale is then multiplied by f_h = (N_h - n_h) / N_h, and a stratum with f_h < 1e-7 (a census)
  adds nothing;
- ``lonely_psu`` (`Design.build`, `LONELY_PSU`) is ``options(survey.lonely.psu = )`` for a
  stratum with one PSU: ``"fail"`` refuses it, ``"remove"`` and ``"certainty"`` let it add
  nothing, ``"adjust"`` adds its total uncentred (f_h t^2), ``"average"`` leaves it out and scales
  the variance by (strata) / (strata that are not lonely) (``survey:::onestage``). In a domain the
  strata counted are those the domain reaches, since ``svyby`` drops the other rows of an
  uncalibrated design (``survey.adjust.domain.lonely = FALSE``, survey's default);
- after calibration the linearised variable is first replaced by its calibration residuals
  (``svyrecvar`` with ``postStrata``): the base-weighted regression of ``x / w_cal`` on the
  calibration model, times ``w_cal``;
- missing answers are a domain (``na.rm = TRUE``): rows keep their place in the design with a zero
  contribution, so strata and PSU counts are those of the full sample;
- the design effect is ``svymean(..., deff = TRUE)``: the variance over that of simple random
  sampling without replacement of n from N-hat, ``s^2 (N - n) / (N n)``;
- ``interval`` (`estimate`, `domain_estimates`) is ``"wald"`` (``confint(svymean(...))``) or
  ``"logit"`` (``svyciprop(method = "logit")``), the default being logit for shares and Wald
  otherwise; ``df`` is ``"normal"``, ``"design"`` (t with `Design.degf`, ``degf(design)``) or a
  number (see `analysis.intervals`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from analysis.cells import code_column
from analysis.choices import LONELY_PSU
from analysis.intervals import INTERVALS, IntervalError, check_df, check_level
from analysis.intervals import interval as _interval
from analysis.messages import _
from analysis.weights import CalibrationModel

COLUMNS = ["item", "by", "domain", "n", "estimate", "se", "ci_low", "ci_high", "deff"]
#: A stratum whose finite population correction is below this is a census (``onestrat``).
CENSUS = 1e-7
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
    #: variance scale of every PSU: f_h n_h / (n_h - 1); for a lonely PSU f_h under "adjust",
    #: else 0; 0 in a census stratum
    psu_scale: np.ndarray
    calibration: CalibrationModel | None = None
    clustered: bool = True
    #: per stratum code: a single PSU that is not a census (None: no stratum is lonely)
    lonely: np.ndarray | None = None
    lonely_psu: str = "fail"

    @property
    def n(self) -> int:
        return len(self.weights)

    @property
    def degf(self) -> int:
        """Design degrees of freedom, as ``degf()`` of R's survey (Lumley 2010).

        PSUs with a positive weight minus the strata with a positive weight.
        """
        used = np.zeros(len(self.psu_stratum), dtype=bool)
        used[self.psu[self.weights > 0]] = True
        return int(used.sum()) - len(np.unique(self.psu_stratum[used]))

    @classmethod
    def build(
        cls,
        weights,
        strata=None,
        cluster=None,
        calibration: CalibrationModel | None = None,
        lonely_psu: str = "fail",
        fpc=None,
    ) -> Design:
        """Make a design from weights and optional stratum, cluster and fpc columns.

        Parameters
        ----------
        weights
            Final weight of every respondent (finite, non-negative).
        strata, cluster
            Stratum and PSU of every respondent; PSUs are nested in strata (``nest = TRUE``).
        calibration
            What calibration kept for the variance (`analysis.weights.CalibrationModel`).
        lonely_psu
            R's ``options(survey.lonely.psu = )`` for a stratum with one PSU (survey's
            ``?surveyoptions``): ``"fail"`` (survey's default) refuses it; ``"remove"`` and
            ``"certainty"`` let it add nothing (the same in one stage); ``"adjust"`` adds its
            total uncentred, f_h t^2; ``"average"`` leaves it out and multiplies the variance by
            the number of strata over that of strata that are not lonely (NaN if none is).
        fpc
            Finite population correction per respondent, as ``svydesign(fpc = )``: the population
            number of PSUs in the respondent's stratum, or, when every value is at most 1, the
            sampling fraction (0: an infinite population). The stratum's variance is multiplied
            by f_h = (N_h - n_h) / N_h; with f_h < 1e-7 (a census) it is 0, and a census stratum
            with one PSU is not lonely.

        Raises
        ------
        EstimationError
            For bad weights or columns, a lonely stratum under ``"fail"``, or an fpc that is
            missing, not a number, negative, not constant within a stratum or smaller than the
            number of PSUs sampled there; the message names the stratum.
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
            _pairs, psu = np.unique(pair, return_inverse=True)
            psu = psu.astype(np.intp).ravel()
        n_psu = int(psu.max()) + 1 if n else 0
        psu_stratum = np.zeros(n_psu, dtype=np.intp)
        psu_stratum[psu] = stratum
        per_stratum = np.bincount(psu_stratum, minlength=int(stratum.max()) + 1 if n else 0)
        if fpc is None:
            factor = np.ones(len(per_stratum))
        else:
            factor = _fpc_factor(fpc, stratum, per_stratum, strata)
        census = factor < CENSUS
        lonely = (per_stratum == 1) & ~census
        if lonely.any() and lonely_psu == "fail":
            names = _stratum_names(strata, stratum, np.flatnonzero(lonely))
            raise EstimationError(
                _(
                    "stratum %(strata)s has only one PSU, so its variance cannot be estimated "
                    "(survey's default lonely.psu = 'fail'): merge it with a neighbouring "
                    "stratum or choose lonely_psu 'remove', 'certainty', 'adjust' or 'average'",
                    strata=names,
                )
            )
        scale_h = np.divide(
            factor * per_stratum,
            per_stratum - 1.0,
            out=np.zeros(len(per_stratum)),
            where=per_stratum > 1,
        )
        if lonely_psu == "adjust":
            # onestrat's scale for nPSU = 1 is f itself
            scale_h[lonely] = factor[lonely]
        scale_h[census] = 0.0
        return cls(
            w,
            psu,
            psu_stratum,
            scale_h[psu_stratum],
            calibration,
            cluster is not None,
            lonely if lonely.any() else None,
            lonely_psu,
        )

    def variance(self, influence: np.ndarray) -> np.ndarray:
        """Variance of the totals of each column of ``influence`` (n, m) under the design.

        Every stratum counts for ``lonely_psu = "average"``, as in ``svyrecvar`` on the whole
        design; `domain_variance` counts those a domain reaches.
        """
        x = influence
        if self.calibration is not None:
            x = calibration_residuals(self.calibration, x)
        totals = _sum_by(self.psu, x, len(self.psu_stratum)) if self.clustered else x
        return self._spread(totals)

    def domain_variance(
        self, influence: np.ndarray, domain: np.ndarray, n_domains: int
    ) -> np.ndarray:
        """Variance of every column of ``influence`` within every domain, all domains at once.

        Domain estimation as in ``svyby`` (Lumley 2010, sec. 2.3): the variable of domain d is the
        column times the indicator of d, and its variance is taken over the whole design, so PSUs
        without members of d count with a zero total.

        Parameters
        ----------
        influence
            (n, m) linearised variables, one row per respondent.
        domain
            Domain code 0..n_domains-1 of every respondent, -1 for none.
        n_domains
            Number of domains.

        Returns
        -------
        numpy.ndarray
            (n_domains, m): row d is ``variance(influence * (domain == d)[:, None])``, except
            that under ``lonely_psu = "average"`` an uncalibrated design counts only the strata
            with members of d, as ``svyby``, whose subset drops the other rows. A calibrated
            design keeps every row (survey sets the weights outside the domain to 0), so there
            every stratum counts.

        Notes
        -----
        One pass instead of one design per domain: PSU totals are summed over the (PSU, domain)
        pairs that occur, centred on the (stratum, domain) means, and the PSUs of a stratum that
        the domain does not reach add (their number) x (the mean)^2. After calibration the
        residuals of all domains' variables come from one least-squares solve with n_domains x m
        right-hand sides (``svyrecvar``, see `calibration_residuals`). With a non-finite value or a
        calibrated weight of 0, which spread NaN over the design, each domain is done on its own
        by `variance`.
        """
        x = np.asarray(influence, dtype=np.float64)
        dom = np.asarray(domain, dtype=np.intp)
        if len(dom) != self.n or x.shape[0] != self.n:
            raise EstimationError(f"influence and domain need {self.n} rows")
        if ((dom < -1) | (dom >= n_domains)).any():
            raise EstimationError(f"domain codes must lie in -1..{n_domains - 1}")
        w_cal = None if self.calibration is None else self.calibration.calibrated_weight
        if not np.isfinite(x).all() or (w_cal is not None and not (w_cal > 0).all()):
            # NaN spreads over the design as in `variance`: each domain on its own
            return np.stack([self.variance(x * (dom == d)[:, None]) for d in range(n_domains)])
        if w_cal is not None:
            return self._calibrated_domain_variance(x, dom, n_domains)
        inside = np.flatnonzero(dom >= 0)
        if not len(inside):
            return np.zeros((n_domains, x.shape[1]))
        # PSU x domain totals over the pairs that occur (sorted by PSU, then domain)
        key = self.psu[inside].astype(np.int64) * n_domains + dom[inside]
        pair_key, pair = _unique_codes(key, len(self.psu_stratum) * n_domains)
        totals = _sum_by(pair, x, len(pair_key), rows=inside)
        pair_psu, pair_dom = np.divmod(pair_key, n_domains)
        # stratum x domain sums and means over all the stratum's PSUs
        stratum = self.psu_stratum[pair_psu]
        cell_key, cell = np.unique(stratum * n_domains + pair_dom, return_inverse=True)
        cell = cell.ravel()
        cell_stratum, cell_dom = np.divmod(cell_key, n_domains)
        psu_count = np.bincount(self.psu_stratum).astype(np.float64)[cell_stratum]
        means = _sum_by(cell, totals, len(cell_key)) / psu_count[:, None]
        centre = means
        lonely = np.zeros(len(cell_key), dtype=bool)
        if self.lonely is not None:
            lonely = self.lonely[cell_stratum]
            if self.lonely_psu == "adjust":
                # onestrat leaves a lonely PSU's total uncentred (adjust.domain.lonely = FALSE
                # matters only for strata with more PSUs, which are centred as usual)
                centre = np.where(lonely[:, None], 0.0, means)
        spread = self.psu_scale[pair_psu][:, None] * (totals - centre[cell]) ** 2
        variance = _sum_by(pair_dom, spread, n_domains)
        absent = psu_count - np.bincount(cell, minlength=len(cell_key))
        scale = np.zeros(int(self.psu_stratum.max()) + 1)
        scale[self.psu_stratum] = self.psu_scale
        missed = (scale[cell_stratum] * absent)[:, None] * means**2
        variance = variance + _sum_by(cell_dom, missed, n_domains)
        if self.lonely_psu == "average":
            reached = np.bincount(cell_dom, minlength=n_domains)
            alone = np.bincount(cell_dom, weights=lonely, minlength=n_domains)
            variance = variance * _average_factor(reached, alone)[:, None]
        return variance

    def _calibrated_domain_variance(self, x, dom, n_domains) -> np.ndarray:
        model = self.calibration
        n, m = x.shape
        fitted = _domain_fits(model, x, dom, n_domains)  # (cells, n_domains * m)
        w_cal = model.calibrated_weight[:, None]
        cell = model.row_cell()
        n_psu = len(self.psu_stratum)
        variance = np.empty((n_domains, m))
        block = max(1, _BLOCK // max(n * m, 1))
        for start in range(0, n_domains, block):
            stop = min(n_domains, start + block)
            # the residuals x (domain == d) - w_cal * fitted_d of domains start..stop-1
            resid = -w_cal * fitted[:, start * m : stop * m][cell]
            rows = np.flatnonzero((dom >= start) & (dom < stop))
            columns = (dom[rows] - start)[:, None] * m + np.arange(m)
            resid[rows[:, None], columns] += x[rows]
            totals = _sum_by(self.psu, resid, n_psu) if self.clustered else resid
            variance[start:stop] = self._spread(totals).reshape(stop - start, m)
        return variance

    def _spread(self, totals: np.ndarray) -> np.ndarray:
        """``sum_h scale_h sum_i (t_hi - mean_h)^2`` per column of PSU totals (n_psu, m).

        The lonely-PSU rule as ``survey:::onestage`` over every stratum of the design.
        """
        n_strata = int(self.psu_stratum.max()) + 1
        psu_count = np.bincount(self.psu_stratum, minlength=n_strata).astype(np.float64)[:, None]
        sums = _sum_by(self.psu_stratum, totals, n_strata)
        means = np.divide(sums, psu_count, out=np.zeros_like(sums), where=psu_count > 0)
        if self.lonely is not None and self.lonely_psu == "adjust":
            means[self.lonely] = 0.0
        centred = totals - means[self.psu_stratum]
        variance = (self.psu_scale[:, None] * centred**2).sum(axis=0)
        if self.lonely_psu == "average":
            alone = 0 if self.lonely is None else int(self.lonely.sum())
            variance = variance * _average_factor(np.count_nonzero(psu_count), alone)
        return variance


def _average_factor(strata, lonely):
    """``nstrat / nokstrat`` of ``survey:::onestage``: NaN when every stratum is lonely.

    A domain that reaches no stratum keeps its (zero) variance.
    """
    strata = np.asarray(strata, dtype=np.float64)
    ok = strata - np.asarray(lonely, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(ok > 0, strata / ok, np.nan)
    return np.where(strata > 0, factor, 1.0)


def _codes(name: str, values, n: int) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=np.intp)
    coded = code_column(name, values)
    if len(coded.codes) != n:
        raise EstimationError(f"{name} has {len(coded.codes)} values for {n} respondents")
    if coded.has_missing:
        raise EstimationError(
            _(
                "%(name)s is empty for %(count)s respondents",
                name=name,
                count=int((coded.codes < 0).sum()),
            )
        )
    return coded.codes


def _stratum_names(strata, codes, which) -> str:
    if strata is None:
        return "(the whole sample)"
    coded = code_column("strata", strata)
    return ", ".join(repr(coded.levels[i]) for i in which[:5])


def _fpc_factor(fpc, stratum, per_stratum, strata) -> np.ndarray:
    """f_h = (N_h - n_h) / N_h per stratum code from the fpc column, as ``survey:::as.fpc``.

    Counts when any value exceeds 1, otherwise sampling fractions with N_h = n_h / fraction;
    an infinite N_h gives 1 (``onestrat``). survey only warns about an fpc that varies within a
    stratum and uses each row's own; here it is refused, since it is nearly always a data error.
    """
    n = len(stratum)
    array = np.asarray(fpc.to_numpy() if isinstance(fpc, pd.Series) else fpc)
    if array.shape != (n,):
        raise EstimationError(f"fpc has {array.size} values for {n} respondents")
    if array.dtype.kind in "iuf":
        values = array.astype(np.float64)
    else:
        values = pd.to_numeric(pd.Series(array, dtype=object), errors="coerce").to_numpy(
            dtype=np.float64
        )

    def name(row: int) -> str:
        return _stratum_names(strata, stratum, [stratum[row]])

    bad = np.isnan(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise EstimationError(
            f"fpc is missing or not a number for {int(bad.sum())} respondents (the first in "
            f"stratum {name(row)}, row {row + 1}): give the stratum's population number of PSUs "
            "or its sampling fraction on every row"
        )
    if (values < 0).any():
        row = int(np.flatnonzero(values < 0)[0])
        raise EstimationError(f"fpc of stratum {name(row)} is negative ({values[row]:g})")
    _strata, first_row = np.unique(stratum, return_index=True)
    first = np.full(len(per_stratum), np.nan)
    first[stratum[first_row]] = values[first_row]
    varies = values != first[stratum]
    if varies.any():
        row = int(np.flatnonzero(varies)[0])
        raise EstimationError(
            f"fpc varies within stratum {name(row)} ({first[stratum[row]]:g} and "
            f"{values[row]:g}): it is the stratum's population number of PSUs (or its sampling "
            "fraction), the same on every row"
        )
    sampled = per_stratum.astype(np.float64)
    present = per_stratum > 0
    if (values > 1).any():
        population = first
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            population = sampled / first
    small = present & (population < sampled)
    if small.any():
        h = int(np.flatnonzero(small)[0])
        row = int(np.flatnonzero(stratum == h)[0])
        raise EstimationError(
            f"fpc of stratum {name(row)} is {first[h]:g}, fewer than the {per_stratum[h]} PSUs "
            "sampled in it: give the population number of PSUs in every stratum (at least the "
            "sample), or sampling fractions (at most 1) on every row"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(np.isposinf(population), 1.0, (population - sampled) / population)
    return np.where(present, factor, 1.0)


def _unique_codes(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``numpy.unique(key, return_inverse=True)`` for keys in ``0..size-1``: the keys that occur,
    in order, and each row's position among them. When ``size`` is not much more than the rows,
    by marking and counting (linear) rather than sorting, which took most of the time of a
    domain's variance on a million rows."""
    if size > 4 * len(key) + 1024:
        found, position = np.unique(key, return_inverse=True)
        return found, position.ravel()
    present = np.zeros(size, dtype=bool)
    present[key] = True
    position = np.cumsum(present, dtype=np.intp) - 1
    return np.flatnonzero(present), position[key]


def _sum_by(groups: np.ndarray, x: np.ndarray, size: int, rows=None) -> np.ndarray:
    """Column sums of ``x`` within groups (a sparse indicator product).

    ``groups`` gives the group of every row of ``x``, or of the rows ``rows`` (the others are left
    out) when it is given.
    """
    n = len(groups)
    columns = np.arange(n) if rows is None else rows
    shape = (size, x.shape[0])
    indicator = sparse.csr_matrix((np.ones(n), (groups, columns)), shape=shape)
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
    weighted = v if model.base_weight is None else v * model.base_weight[:, None]
    sums = _sum_by(model.row_cell(), weighted, len(model.cells.cells))
    return x - w_cal[:, None] * _cell_fit(model, sums)[model.row_cell()]


def _domain_fits(model: CalibrationModel, x, dom, n_domains: int) -> np.ndarray:
    """Fitted cell values of `calibration_residuals` for ``x`` times every domain's indicator.

    Column ``d * m + j`` is the fit of column j in domain d (m = columns of x): the cell sums are
    taken over the (cell, domain) pairs that occur and the model is solved once for all of them.
    """
    n_cells = len(model.cells.cells)
    m = x.shape[1]
    inside = np.flatnonzero(dom >= 0)
    v = x[inside] / model.calibrated_weight[inside, None]
    if model.base_weight is not None:
        v = v * model.base_weight[inside, None]
    key = model.row_cell()[inside].astype(np.int64) * n_domains + dom[inside]
    pair_key, pair = _unique_codes(key, n_cells * n_domains)
    sums = np.zeros((n_cells, n_domains, m))
    pair_cell, pair_dom = np.divmod(pair_key, n_domains)
    sums[pair_cell, pair_dom] = _sum_by(pair, v, len(pair_key))
    return _cell_fit(model, sums.reshape(n_cells, n_domains * m))


def _cell_fit(model: CalibrationModel, sums: np.ndarray) -> np.ndarray:
    """Base-weighted least-squares fit of the model to cell means, one column per right side."""
    cell_weight = model.cells.weight
    means = sums / cell_weight[:, None]
    if model.design_matrix is None:
        return means
    root = np.sqrt(cell_weight)[:, None]
    coef = np.linalg.lstsq(model.design_matrix * root, means * root, rcond=None)[0]
    return model.design_matrix @ coef


# ---------------------------------------------------------------------------------------------
# Estimates


def item_values(data, item: str, share: Sequence[float] | None = None) -> np.ndarray:
    """The answers to one item as floats (NaN = missing), or 0/1 for membership in ``share``."""
    try:
        column = data[item]
    except KeyError:
        raise EstimationError(f"item {item!r} is not in the data") from None
    raw = pd.Series(column)
    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        # Answers are a few distinct texts ("1" to "5"): each is read once, and each row takes
        # the number of its text. Reading a million texts one by one took longer than the
        # estimates.
        codes, texts = pd.factorize(raw)
        numbers = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce")
        numbers = numbers.to_numpy(dtype=np.float64)
        blank = pd.Series(texts, dtype=object).astype(str).str.strip() == ""
        bad = np.isnan(numbers) & ~blank.to_numpy()
        if bad.any():
            example = texts[np.flatnonzero(bad)[0]]
            raise EstimationError(
                f"item {item!r} has answers that are not numbers, e.g. {example!r}"
            )
        values = np.append(numbers, np.nan)[codes]  # code -1 (missing) takes the NaN
    else:
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    if share is not None:
        valid = ~np.isnan(values)
        values = np.where(valid, np.isin(values, np.asarray(share, dtype=np.float64)), np.nan)
    return values


def _interval_options(interval: str | None, df, design: Design):
    """Check ``interval`` and turn ``df`` into the t degrees of freedom (None = normal)."""
    if interval is not None and interval not in INTERVALS:
        raise EstimationError(
            f"interval must be one of {', '.join(INTERVALS)} (or None), not {interval!r}"
        )
    try:
        df = check_df(df)
    except IntervalError as exc:
        raise EstimationError(str(exc)) from None
    if df == "normal":
        return None
    return float(design.degf) if df == "design" else df


def _check_level(level) -> float:
    try:
        return check_level(level)
    except IntervalError as exc:
        raise EstimationError(str(exc)) from None


def domain_estimates(
    design: Design,
    values: np.ndarray,
    domain: np.ndarray | None = None,
    n_domains: int = 1,
    statistic: str = "mean",
    level: float = 0.95,
    interval: str | None = None,
    df: str | float = "normal",
    *,
    proportion: bool = False,
) -> pd.DataFrame:
    """Estimate, SE, confidence interval and design effect of ``values`` in each domain.

    Parameters
    ----------
    design
        The sample design.
    values
        One value per respondent; NaN (missing) leaves the respondent out of the domain but in
        the design (``na.rm = TRUE``).
    domain
        Domain code 0..n_domains-1 per respondent (-1 = in none); None means one domain with
        everybody.
    n_domains
        Number of domains.
    statistic
        ``"mean"`` (``svymean``) or ``"total"`` (``svytotal``).
    level
        Confidence level in (0, 1).
    interval
        ``"wald"`` (``confint``) or ``"logit"`` (``svyciprop(method = "logit")``, for means of
        0/1 values); None means logit for a ``proportion`` mean and Wald otherwise.
    df
        ``"normal"``, ``"design"`` (Student t with `Design.degf` degrees of freedom, as
        ``svyciprop``'s default ``df = degf(design)``) or a positive number.
    proportion
        The values are 0/1 (a share), which makes logit the default interval of the mean.

    Returns
    -------
    pandas.DataFrame
        Columns n, estimate, se, ci_low, ci_high, deff; one row per domain.
    """
    if statistic not in ("mean", "total"):
        raise EstimationError("statistic must be 'mean' or 'total'")
    level = _check_level(level)
    degrees = _interval_options(interval, df, design)
    if interval is None:
        interval = "logit" if proportion and statistic == "mean" else "wald"
    if interval == "logit" and statistic != "mean":
        raise EstimationError("logit intervals are for shares (means of 0/1 values), not totals")
    n = design.n
    w = design.weights
    dom = np.zeros(n, dtype=np.intp) if domain is None else np.asarray(domain, dtype=np.intp)
    listed = ~np.isnan(values) & (dom >= 0)
    valid = listed & (w > 0)
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
    estimate = np.where(count > 0, mean if statistic == "mean" else wz, np.nan)
    # the linearised mean (w (z - mean) / sum w) or total (w z) of each respondent's domain
    influence = np.zeros((n, 1))
    if statistic == "mean":
        influence[rows, 0] = wr * dev / wsum[d_rows]
    else:
        influence[rows, 0] = wr * z
    # answers with weight 0 stay members (contributing 0): survey's subset keeps their rows,
    # which decides the strata a domain reaches
    member = np.where(listed, dom, -1)
    variance = design.domain_variance(influence, member, n_domains)[:, 0]
    variance[count == 0] = np.nan
    se = np.sqrt(variance)
    try:
        low, high = _interval(estimate, se, level=level, method=interval, df=degrees)
    except IntervalError as exc:
        raise EstimationError(str(exc)) from None
    with np.errstate(invalid="ignore", divide="ignore"):
        srs = s2 * (wsum - count) / (wsum * count)
        if statistic == "total":
            srs = srs * wsum**2
        srs = np.where(wsum < count, np.nan, srs)
        deff = variance / srs
    return pd.DataFrame(
        {"n": count, "estimate": estimate, "se": se, "ci_low": low, "ci_high": high, "deff": deff}
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
    interval: str | None = None,
    df: str | float = "normal",
) -> pd.DataFrame:
    """Overall and by-domain estimates of every item, one row each (columns `COLUMNS`).

    With ``share`` the estimate is the weighted share of valid answers whose value is in it.
    ``interval`` is ``"logit"`` (``svyciprop(method = "logit")``) or ``"wald"``; None takes logit
    for the mean of a share and Wald for means and totals of answers (and totals of shares).
    ``df`` is ``"normal"``, ``"design"`` (t with ``degf(design)``) or a positive number; see
    `domain_estimates`.
    """
    level = _check_level(level)
    _interval_options(interval, df, design)
    options = {"interval": interval, "df": df, "proportion": share is not None}
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
        overall = domain_estimates(design, values, None, 1, statistic, level, **options)
        overall.insert(0, "domain", "")
        overall.insert(0, "by", "")
        overall.insert(0, "item", item)
        tables.append(overall)
        for column, codes, labels in domains:
            table = domain_estimates(
                design, values, codes, len(labels), statistic, level, **options
            )
            table.insert(0, "domain", labels)
            table.insert(0, "by", column)
            table.insert(0, "item", item)
            tables.append(table)
    return pd.concat(tables, ignore_index=True)[COLUMNS]
