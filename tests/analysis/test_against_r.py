"""Weights and estimates through the command line, compared live with R's survey package.

One Rscript run per data set computes every design and estimate; tolerances are those of the
issue: weights 1e-8 relative, estimates 1e-8, standard errors and design effects 1e-6 relative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from r_support import SHAPES, make_shape, run_r

from analysis.cli import main
from analysis.estimate import Design, estimate
from analysis.targets import read_targets
from analysis.weights import calibrate, trim_result

pytestmark = pytest.mark.r

R_SCRIPT = r"""
suppressMessages(library(survey))
d <- read.csv("data.csv", stringsAsFactors = FALSE)
for (v in c("sex", "age", "region", "stratum")) d[[v]] <- factor(d[[v]])
d$s1 <- ifelse(is.na(d$q1), NA, as.numeric(d$q1 %in% c(4, 5)))
m <- read.csv("margins.csv", stringsAsFactors = FALSE)
cells <- read.csv("cells.csv", stringsAsFactors = FALSE)
des <- svydesign(ids = IDS, strata = ~stratum, weights = WEIGHTS, data = d, nest = TRUE)
N <- sum(m$target[m$variable == "sex"])
pop <- c(`(Intercept)` = N)
for (v in c("sex", "age", "region")) for (l in levels(d[[v]])[-1])
  pop[paste0(v, l)] <- m$target[m$variable == v & m$level == l]
margins <- lapply(c("sex", "age", "region"), function(v) {
  x <- m[m$variable == v, ]; df <- data.frame(x$level, x$target); names(df) <- c(v, "Freq"); df
})
parts <- do.call(rbind, strsplit(cells$level, ":"))
pspop <- data.frame(sex = parts[, 1], region = parts[, 2], Freq = cells$target)
f <- ~sex + age + region
designs <- list(
  none = des,
  poststratify = postStratify(des, ~sex + region, pspop),
  rake = rake(des, list(~sex, ~age, ~region), margins,
              control = list(maxit = 1000, epsilon = 1e-13)),
  raking = calibrate(des, f, pop, calfun = "raking", epsilon = 1e-13, maxit = 100),
  linear = calibrate(des, f, pop),
  bounded = calibrate(des, f, pop, bounds = c(LOW, HIGH), epsilon = 1e-13, maxit = 100),
  logit = calibrate(des, f, pop, calfun = "logit", bounds = c(LOW, HIGH), epsilon = 1e-13,
                    maxit = 100)
)
designs$trimmed <- trimWeights(designs$linear, lower = TLOW, upper = THIGH)
write.csv(as.data.frame(lapply(designs, weights)), "r_weights.csv", row.names = FALSE)
rows <- list()
add <- function(design, stat, item, by, domain, e, se, deff) {
  rows[[length(rows) + 1]] <<- data.frame(design = design, stat = stat, item = item, by = by,
    domain = domain, estimate = as.vector(e), se = as.vector(se), deff = as.vector(deff))
}
for (name in names(designs)) {
  g <- designs[[name]]
  for (item in c("q1", "q2", "s1")) {
    fm <- as.formula(paste0("~", item))
    r <- svymean(fm, g, na.rm = TRUE, deff = TRUE)
    add(name, "mean", item, "", "", coef(r), SE(r), deff(r))
    b <- svyby(fm, ~region, g, svymean, na.rm = TRUE, deff = TRUE)
    add(name, "mean", item, "region", as.character(b$region), coef(b), SE(b), deff(b))
  }
  r <- svytotal(~q2, g, na.rm = TRUE, deff = TRUE)
  add(name, "total", "q2", "", "", coef(r), SE(r), deff(r))
  b <- svyby(~q2, ~sex, g, svytotal, na.rm = TRUE, deff = TRUE)
  add(name, "total", "q2", "sex", as.character(b$sex), coef(b), SE(b), deff(b))
}
write.csv(do.call(rbind, rows), "r_estimates.csv", row.names = FALSE)
"""


def _close(ours, theirs, rel, label):
    ours = np.asarray(ours, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape, label
    both_nan = np.isnan(ours) & np.isnan(theirs)
    both_inf = np.isinf(ours) & np.isinf(theirs)
    with np.errstate(invalid="ignore"):
        near = np.abs(ours - theirs) <= rel * np.maximum(np.abs(theirs), 1e-300)
    ok = both_nan | (both_inf & (np.sign(ours) == np.sign(theirs))) | near
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise AssertionError(f"{label}: ours {ours[i]!r} vs R {theirs[i]!r} (row {i})")


@pytest.fixture(scope="module", params=SHAPES)
def compared(request, rscript, tmp_path_factory):
    """Our CLI outputs and R's for one data set."""
    shape = make_shape(request.param)
    work = tmp_path_factory.mktemp(shape.name)
    shape.data.to_csv(work / "data.csv", index=False)
    shape.margins.to_csv(work / "margins.csv", index=False)
    shape.cells.to_csv(work / "cells.csv", index=False)
    targets = read_targets(work / "margins.csv")
    base = shape.data[shape.base_weight] if shape.base_weight else None
    linear = calibrate(shape.data, targets, "linear", base)
    # bounds off the weights themselves, so ties at a bound cannot flip between R and us
    trim = tuple(np.quantile(linear.weights, [0.03, 0.9]) * [1.0001, 0.9999])
    low, high = shape.bounds
    script = (
        R_SCRIPT.replace("IDS", f"~{shape.cluster}" if shape.cluster else "~1")
        .replace("WEIGHTS", f"~{shape.base_weight}" if shape.base_weight else "NULL")
        .replace("TLOW", repr(float(trim[0])))
        .replace("THIGH", repr(float(trim[1])))
        .replace("LOW", repr(low))
        .replace("HIGH", repr(high))
    )
    run_r(rscript, script, work)

    design = ["--strata", shape.strata] + (["--cluster", shape.cluster] if shape.cluster else [])
    base_args = ["--base-weight", shape.base_weight] if shape.base_weight else []
    runs = {
        "none": ([], []),
        "poststratify": (["--method", "poststratify", "--targets", "cells.csv"], []),
        "rake": (["--method", "rake", "--targets", "margins.csv"], []),
        "raking": (["--method", "raking", "--targets", "margins.csv"], []),
        "linear": (["--method", "linear", "--targets", "margins.csv"], []),
        "bounded": (["--method", "linear", "--targets", "margins.csv"], [low, high]),
        "logit": (["--method", "logit", "--targets", "margins.csv"], [low, high]),
    }
    ours_w, ours_e = {}, []
    for name, (method, bounds) in runs.items():
        extra = ["--bounds", f"{bounds[0]!r},{bounds[1]!r}"] if bounds else []
        common = ["--data", str(work / "data.csv"), *base_args, *extra]
        common = [str(work / a) if a.endswith("s.csv") else a for a in common + method]
        if method:
            out = work / f"w_{name}.csv"
            assert main(["weight", *common, "--out", str(out)]) == 0, name
            ours_w[name] = pd.read_csv(out)["weight"].to_numpy()
        for stat, items, by, share in (
            ("mean", "q1,q2", "region", None),
            ("mean", "q1", "region", "4,5"),
            ("total", "q2", "sex", None),
        ):
            out = work / f"e_{name}_{stat}_{share}.csv"
            args = ["estimate", *common, *design, "--items", items, "--by", by, "--stat", stat]
            args += ["--share", share] if share else []
            assert main([*args, "--out", str(out)]) == 0, name
            table = pd.read_csv(out, keep_default_na=False, na_values=[""])
            table["design"] = name
            table["stat"] = stat
            if share:
                table["item"] = "s1"
            ours_e.append(table)
    # trimming is a library step after calibration (survey's trimWeights)
    trimmed = trim_result(linear, *trim)
    ours_w["trimmed"] = trimmed.weights
    strata = shape.data[shape.strata]
    cluster = shape.data[shape.cluster] if shape.cluster else None
    trimmed_design = Design.build(trimmed.weights, strata, cluster, trimmed.calibration)
    for stat, items, by, share in (
        ("mean", ["q1", "q2"], ["region"], None),
        ("mean", ["q1"], ["region"], [4, 5]),
        ("total", ["q2"], ["sex"], None),
    ):
        table = estimate(shape.data, items, trimmed_design, by, share, stat)
        table["design"] = "trimmed"
        table["stat"] = stat
        if share:
            table["item"] = "s1"
        ours_e.append(table)
    theirs_w = pd.read_csv(work / "r_weights.csv")
    theirs_e = pd.read_csv(work / "r_estimates.csv", keep_default_na=False, na_values=["", "NA"])
    return shape, ours_w, pd.concat(ours_e, ignore_index=True), theirs_w, theirs_e


@pytest.mark.parametrize(
    "method", ["poststratify", "rake", "raking", "linear", "bounded", "logit", "trimmed"]
)
def test_weights_match_r(compared, method):
    shape, ours_w, _, theirs_w, _ = compared
    _close(ours_w[method], theirs_w[method], 1e-8, f"{shape.name} {method} weights")


@pytest.mark.parametrize(
    "method", ["none", "poststratify", "rake", "raking", "linear", "bounded", "logit", "trimmed"]
)
def test_estimates_match_r(compared, method):
    shape, _, ours_e, _, theirs_e = compared
    key = ["stat", "item", "by", "domain"]
    # after raking our errors are calibrate(calfun = "raking")'s exact residuals; R's rake()
    # keeps only an iterative approximation to them (compared loosely below)
    reference = "raking" if method == "rake" else method
    ours = ours_e[ours_e.design == method].copy()
    theirs = theirs_e[theirs_e.design == reference].copy()
    approx = theirs_e[theirs_e.design == method].copy()
    for frame in (ours, theirs, approx):
        frame["by"] = frame["by"].fillna("").astype(str)
        frame["domain"] = frame["domain"].fillna("").astype(str)
    merged = theirs.merge(ours, on=key, suffixes=("_r", ""), how="left", validate="1:1")
    assert len(merged) == len(theirs) and merged["estimate"].notna().sum() > 0
    label = f"{shape.name} {method}"
    _close(merged["estimate"], merged["estimate_r"], 1e-8, f"{label} estimate")
    _close(merged["se"], merged["se_r"], 1e-6, f"{label} SE")
    _close(merged["deff"], merged["deff_r"], 1e-6, f"{label} deff")
    if method == "rake":
        loose = approx.merge(ours, on=key, suffixes=("_r", ""), validate="1:1")
        _close(loose["estimate"], loose["estimate_r"], 1e-8, f"{label} estimate vs rake()")
        _close(loose["se"], loose["se_r"], 0.1, f"{label} SE vs rake()")


def test_bounds_bind(compared):
    """The bounded fits differ from the unbounded one, so the bounds are really exercised."""
    shape, ours_w, *_ = compared
    assert np.max(np.abs(ours_w["bounded"] / ours_w["linear"] - 1)) > 1e-3, shape.name
