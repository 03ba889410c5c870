"""Confidence intervals from an estimate and its standard error, as R's ``survey`` makes them.

Two methods (`INTERVALS`), both vectorised over numpy arrays:

- ``"wald"``: estimate +/- q SE, which is ``confint(svymean(...), df = df)``
  (``survey:::tconfint``);
- ``"logit"``: for a proportion p, the Wald interval of logit(p) mapped back with expit, which is
  ``svyciprop(method = "logit")`` (Lumley 2010; survey's ``?svyciprop``). There the interval
  comes from the intercept of ``svyglm(y ~ 1, family = quasibinomial)``, whose linearised SE is
  SE(p) / (p (1 - p)), so the bounds are ``expit(logit(p) +/- q SE(p) / (p (1 - p)))``. Unlike
  Wald bounds they stay within [0, 1] and are asymmetric near the edges.

The quantile q is the normal one (``df = None`` or infinite) or Student's t with ``df`` degrees of
freedom, e.g. the design's ``degf`` as ``svyciprop``'s default ``df = degf(design)``. With ``df``
zero or negative the bounds are NaN, as ``confint.svyglm`` gives for ``ddf <= 0``.
"""

from __future__ import annotations

import math

import numpy as np

from analysis.choices import DF, INTERVALS


class IntervalError(ValueError):
    """A confidence level, method or value an interval cannot be made from."""


def check_level(level) -> float:
    """The confidence level as a float strictly between 0 and 1.

    Raises
    ------
    IntervalError
        For a level that is not a finite number in (0, 1), e.g. 95 meant as a percentage.
    """
    shown = repr(level) if isinstance(level, str) else str(level)
    try:
        value = float(level)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(level, bool) or not (0 < value < 1):
        raise IntervalError(
            f"the confidence level must be between 0 and 1 (exclusive), not {shown}"
        )
    return value


def check_df(df) -> str | float:
    """``"normal"``, ``"design"`` or a positive number of degrees of freedom, as given.

    Raises
    ------
    IntervalError
        For anything else, e.g. ``"student"`` or 0.
    """
    if isinstance(df, str):
        if df in DF:
            return df
    elif not isinstance(df, bool):
        try:
            degrees = float(df)
        except (TypeError, ValueError):
            degrees = math.nan
        if degrees > 0:
            return degrees
    raise IntervalError(f"df must be 'normal', 'design' or a positive number, not {df!r}")


def quantile(level: float, df=None) -> np.ndarray | float:
    """The two-sided critical value for ``level``: normal, or t with ``df`` (scalar or array)."""
    from scipy import stats  # here, not at the top: importing it takes most of a second

    upper = 0.5 + check_level(level) / 2
    normal = float(stats.norm.ppf(upper))
    if df is None:
        return normal
    degrees = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        t = stats.t.ppf(upper, np.where(degrees > 0, degrees, np.nan))
    # scipy's t with infinite df is the normal, but say so rather than rely on it
    q = np.where(np.isposinf(degrees), normal, t)
    return q[()] if q.ndim == 0 else q


def interval(estimate, se, *, level=0.95, method="wald", df=None, scale=1.0):
    """Lower and upper confidence bounds of ``estimate`` with standard error ``se``.

    Parameters
    ----------
    estimate, se
        Estimates and their standard errors (arrays broadcast together, or scalars).
    level
        Confidence level in (0, 1).
    method
        ``"wald"`` (estimate +/- q se, ``confint`` of an ``svystat``) or ``"logit"`` (the
        ``svyciprop(method = "logit")`` interval of a proportion).
    df
        Degrees of freedom of the t quantile, per row if an array; None or ``inf`` for the normal.
    scale
        What a proportion of 1 is on the scale of ``estimate`` (100 for percentages), per row if
        an array; logit only.

    Returns
    -------
    tuple of numpy.ndarray
        ``(low, high)``, of the broadcast shape of the inputs (numpy floats for scalars). NaN in
        an estimate, SE or df gives NaN bounds.

    Raises
    ------
    IntervalError
        For a bad level or method, or, with ``"logit"``, an estimate outside [0, scale].

    Notes
    -----
    With ``"logit"``, a proportion of exactly 0 or 1, or an SE of 0, gives ``(estimate,
    estimate)``. R's ``svyciprop`` has no exact answer there: the glm stops with the intercept
    near -/+30 and bounds within about 1e-11 of the estimate (for an all-zero variable an
    estimate of 2.9e-12 with bounds 2.6e-12 and 3.1e-12), so an interval of width 0 at the
    estimate is the limit it approximates.
    """
    level = check_level(level)
    if method not in INTERVALS:
        raise IntervalError(f"the interval method must be one of {', '.join(INTERVALS)}")
    est = np.asarray(estimate, dtype=np.float64)
    err = np.asarray(se, dtype=np.float64)
    q = quantile(level, df)
    if method == "wald":
        low, high = est - q * err, est + q * err
    else:
        scale = np.asarray(scale, dtype=np.float64)
        if not ((scale > 0) & np.isfinite(scale)).all():
            bad = scale[~((scale > 0) & np.isfinite(scale))].flat[0]
            raise IntervalError(f"the scale of a proportion must be a positive number, not {bad}")
        p = est / scale
        outside = (p < 0) | (p > 1)
        if np.any(outside):
            shape = outside.shape
            bad = float(np.broadcast_to(est, shape)[outside].flat[0])
            top = float(np.broadcast_to(scale, shape)[outside].flat[0])
            raise IntervalError(
                f"logit intervals are for proportions between 0 and {top:g}, not {bad:g}"
            )
        from scipy import special

        with np.errstate(divide="ignore", invalid="ignore"):
            half = q * err / (scale * p * (1 - p))
            centre = special.logit(p)
            low = scale * special.expit(centre - half)
            high = scale * special.expit(centre + half)
        # no spread on the logit scale: the interval is the point (see Notes)
        edge = ((p == 0) | (p == 1) | (err == 0)) & ~np.isnan(err) & ~np.isnan(q)
        low = np.where(edge, est, low)
        high = np.where(edge, est, high)
    low, high = np.asarray(low), np.asarray(high)
    if low.ndim == 0:
        return low[()], high[()]
    return low, high
