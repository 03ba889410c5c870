"""Lonely PSUs, finite population corrections, degrees of freedom and intervals, against R.

One generated stratified cluster sample: a stratum with a single PSU (s4), a stratum that is a
census once an fpc is given (s6), missing answers, and domains of which one ("south") misses the
lonely stratum and one ("island") lies in it alone. One Rscript run computes, for every
``survey.lonely.psu`` rule, without fpc and with fpc as population counts and as fractions, with
and without raking calibration: ``svymean``, ``svytotal`` and ``svyby`` SEs and design effects,
``degf``, ``confint(..., df = degf(design))`` (Wald with t) and ``svyciprop(method = "logit")``
with ``df = Inf`` and ``df = degf(design)``. Estimates must agree to 1e-8 relative; SEs, design
effects and interval bounds to 1e-6.

The tests after the R ones need no R.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from r_support import run_r

from analysis.estimate import Design, EstimationError, estimate
from analysis.intervals import IntervalError, check_level, interval
from analysis.targets import targets_from_rows
from analysis.weights import calibrate

pytestmark = pytest.mark.r

#: PSUs sampled per stratum
SAMPLED = {"s1": 8, "s2": 5, "s3": 3, "s4": 1, "s5": 2, "s6": 4}
#: population numbers of PSUs: s6 is a census
POPULATION = {"s1": 20, "s2": 11, "s3": 9, "s4": 6, "s5": 5, "s6": 4}
#: sampling fractions of the fraction variant (its own numbers, so it is not the count one again)
FRACTION = {"s1": 0.25, "s2": 0.5, "s3": 0.3, "s4": 0.2, "s5": 0.4, "s6": 1.0}
RULES = ("remove", "certainty", "adjust", "average")
#: fpc variants: R column name and ours; "census" makes the lonely stratum a census too
FPCS = {"none": None, "count": "N", "fraction": "frac", "census": "Ncensus"}
#: Absolute slack for SEs and design effects that are 0 up to rounding: under "adjust" the mean
#: of a domain inside the lonely PSU alone has an uncentred PSU total of 0 (R: SE 4e-16)
NOISE = 1e-12

R_SCRIPT = r"""
suppressMessages(library(survey))
d <- read.csv("data.csv", stringsAsFactors = FALSE)
for (v in c("stratum", "sex", "age", "region")) d[[v]] <- factor(d[[v]])
d$s <- ifelse(is.na(d$q), NA, as.numeric(d$q %in% c(4, 5)))
m <- read.csv("margins.csv", stringsAsFactors = FALSE)
pop <- c(`(Intercept)` = sum(m$target[m$variable == "sex"]))
for (v in c("sex", "age")) for (l in levels(d[[v]])[-1])
  pop[paste0(v, l)] <- m$target[m$variable == v & m$level == l]
fpcs <- list(none = NULL, count = ~N, fraction = ~frac, census = ~Ncensus)
rows <- list()
add <- function(design, stat, domain, e, se = NA, deff = NA, low = NA, high = NA) {
  rows[[length(rows) + 1]] <<- data.frame(design = design, stat = stat, domain = domain,
    estimate = as.vector(e), se = as.vector(se), deff = as.vector(deff),
    low = as.vector(low), high = as.vector(high))
}
run <- function(name, des) {
  df <- degf(des)
  add(name, "degf", "", df)
  r <- svytotal(~x, des)
  add(name, "complete", "", coef(r), SE(r))
  r <- svymean(~q, des, na.rm = TRUE, deff = TRUE)
  ci <- confint(r, df = df)
  add(name, "mean", "", coef(r), SE(r), deff(r), ci[, 1], ci[, 2])
  b <- svyby(~q, ~region, des, svymean, na.rm = TRUE, deff = TRUE)
  ci <- confint(b, df = df)
  add(name, "mean", as.character(b$region), coef(b), SE(b), deff(b), ci[, 1], ci[, 2])
  r <- svytotal(~q, des, na.rm = TRUE, deff = TRUE)
  add(name, "total", "", coef(r), SE(r), deff(r))
  b <- svyby(~q, ~region, des, svytotal, na.rm = TRUE, deff = TRUE)
  add(name, "total", as.character(b$region), coef(b), SE(b), deff(b))
  for (t in c("inf", "degf")) {
    ddf <- if (t == "inf") Inf else df
    r <- svyciprop(~s, des, method = "logit", df = ddf, na.rm = TRUE)
    ci <- attr(r, "ci")
    add(name, paste0("logit_", t), "", coef(r), SE(r), NA, ci[1], ci[2])
    b <- svyby(~s, ~region, des, svyciprop, method = "logit", df = ddf, na.rm = TRUE,
               vartype = c("se", "ci"))
    add(name, paste0("logit_", t), as.character(b$region), coef(b), SE(b), NA, b$ci_l, b$ci_u)
  }
}
designs <- function(fpc, cal) {
  des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w0, fpc = fpcs[[fpc]], data = d,
                   nest = TRUE)
  if (cal) des <- calibrate(des, ~sex + age, pop, calfun = "raking", epsilon = 1e-13,
                            maxit = 100)
  des
}
for (cal in c(FALSE, TRUE)) {
  for (rule in c("remove", "certainty", "adjust", "average")) {
    options(survey.lonely.psu = rule)
    for (fpc in c("none", "count", "fraction")) run(paste(rule, fpc, cal), designs(fpc, cal))
  }
  options(survey.lonely.psu = "fail")
  run(paste("fail census", cal), designs("census", cal))
  failed <- tryCatch({svymean(~q, designs("none", cal), na.rm = TRUE); ""},
                     error = function(e) conditionMessage(e))
  add(paste("fail none", cal), "error", failed, NA)
}
write.csv(do.call(rbind, rows), "r_design.csv", row.names = FALSE)
"""


def make_sample(seed: int = 20240611) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sample (with fpc columns N, frac, Ncensus) and raking margins of sex and age."""
    rng = np.random.default_rng(seed)
    parts = []
    for stratum, clusters in SAMPLED.items():
        for psu in range(1, clusters + 1):
            size = int(rng.integers(4, 15))
            if stratum == "s4":
                # the lonely PSU: the only place with "island", and no "south"
                region = rng.choice(["north", "centre", "island"], size, p=[0.4, 0.3, 0.3])
                region[:3] = "island"
            else:
                region = rng.choice(["north", "centre", "south"], size, p=[0.4, 0.35, 0.25])
            parts.append(pd.DataFrame({"stratum": stratum, "psu": psu, "region": region}))
    data = pd.concat(parts, ignore_index=True)
    n = len(data)
    base = data["stratum"].map({"s1": 30, "s2": 45, "s3": 60, "s4": 80, "s5": 25, "s6": 10})
    data["w0"] = base.to_numpy() * rng.uniform(0.7, 1.4, n)
    data["sex"] = rng.choice(["female", "male"], n, p=[0.55, 0.45])
    data["age"] = rng.choice(["18-34", "35-54", "55+"], n, p=[0.3, 0.4, 0.3])
    # a PSU effect, so clustering matters
    effect = data.groupby(["stratum", "psu"]).ngroup().map(lambda g: rng.normal(0, 0.5))
    q = np.clip(np.round(rng.normal(3.3, 1.0, n) + effect.to_numpy()), 1, 5)
    data["x"] = rng.normal(10, 3, n) + 2 * effect.to_numpy()
    q[rng.random(n) < 0.12] = np.nan
    data["q"] = q
    data["N"] = data["stratum"].map(POPULATION).astype(float)
    data["frac"] = data["stratum"].map(FRACTION)
    data["Ncensus"] = data["N"].where(data["stratum"] != "s4", 1.0)
    total = float(data["w0"].sum()) * 1.1
    rows = []
    for variable in ("sex", "age"):
        shares = data.groupby(variable)["w0"].sum()
        shares = shares / shares.sum() * (1 + 0.2 * rng.uniform(-1, 1, len(shares)))
        shares = shares / shares.sum()
        rows += [(variable, level, total * s) for level, s in shares.items()]
    return data, pd.DataFrame(rows, columns=["variable", "level", "target"])


def _close(ours, theirs, rel, label, floor=0.0):
    """Equal to ``rel`` relative, or ``floor`` absolute, or both NaN."""
    ours = np.asarray(ours, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape, label
    both_nan = np.isnan(ours) & np.isnan(theirs)
    with np.errstate(invalid="ignore"):
        near = np.abs(ours - theirs) <= rel * np.abs(theirs) + floor
    ok = both_nan | near
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise AssertionError(f"{label}: ours {ours[i]!r} vs R {theirs[i]!r} (row {i})")


def _ours(data, design, name) -> pd.DataFrame:
    """Our rows in the layout of R's: one per (stat, domain)."""
    frames = []

    def add(stat, table, low="ci_low", high="ci_high"):
        table = table.assign(design=name, stat=stat, low=table[low], high=table[high])
        frames.append(table)

    add("mean", estimate(data, ["q"], design, ["region"], df="design"))
    add("total", estimate(data, ["q"], design, ["region"], statistic="total"))
    add("logit_inf", estimate(data, ["q"], design, ["region"], share=[4, 5]))
    add("logit_degf", estimate(data, ["q"], design, ["region"], share=[4, 5], df="design"))
    degf = pd.DataFrame({"domain": [""], "estimate": [float(design.degf)]})
    frames.append(degf.assign(design=name, stat="degf"))
    # Design.variance itself (no domain, no missing answers): svytotal of a complete variable
    x = design.weights * data["x"].to_numpy()
    se = np.sqrt(design.variance(x[:, None]))
    frames.append(pd.DataFrame({"domain": [""], "estimate": [x.sum()], "se": se}))
    frames[-1] = frames[-1].assign(design=name, stat="complete")
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def compared(rscript, tmp_path_factory):
    data, margins = make_sample()
    work = tmp_path_factory.mktemp("design")
    data.to_csv(work / "data.csv", index=False)
    margins.to_csv(work / "margins.csv", index=False)
    run_r(rscript, R_SCRIPT, work)
    theirs = pd.read_csv(work / "r_design.csv", keep_default_na=False, na_values=["", "NA"])
    targets = targets_from_rows(margins.itertuples(index=False))
    raked = calibrate(data, targets, "raking", data["w0"])
    ours = []
    for cal in (False, True):
        weights = raked.weights if cal else data["w0"].to_numpy()
        model = raked.calibration if cal else None
        variants = [(rule, fpc) for rule in RULES for fpc in ("none", "count", "fraction")]
        for rule, fpc in [*variants, ("fail", "census")]:
            fpc_column = data[FPCS[fpc]] if FPCS[fpc] else None
            design = Design.build(weights, data["stratum"], data["psu"], model, rule, fpc_column)
            ours.append(_ours(data, design, f"{rule} {fpc} {str(cal).upper()}"))
    return data, pd.concat(ours, ignore_index=True), theirs, raked


def _pair(compared, stat):
    _, ours, theirs, _ = compared
    key = ["design", "stat", "domain"]
    theirs = theirs[theirs.stat == stat].copy()
    theirs["domain"] = theirs["domain"].fillna("").astype(str)
    ours = ours[ours.stat == stat].copy()
    merged = theirs.merge(ours, on=key, suffixes=("_r", ""), how="left", validate="1:1")
    assert len(merged) == len(theirs) > 0 and merged["estimate"].notna().any(), stat
    return merged


@pytest.mark.parametrize("stat", ["mean", "total", "complete"])
def test_means_and_totals_match_r(compared, stat):
    merged = _pair(compared, stat)
    for design, rows in merged.groupby("design"):
        label = f"{design} {stat}"
        _close(rows["estimate"], rows["estimate_r"], 1e-8, f"{label} estimate")
        _close(rows["se"], rows["se_r"], 1e-6, f"{label} SE", NOISE)
        if stat != "complete":
            _close(rows["deff"], rows["deff_r"], 1e-6, f"{label} deff", NOISE)
        if stat == "mean":
            # confint(svymean(...), df = degf(design)): Wald with t
            _close(rows["low"], rows["low_r"], 1e-6, f"{label} t interval low")
            _close(rows["high"], rows["high_r"], 1e-6, f"{label} t interval high")


@pytest.mark.parametrize("stat", ["logit_inf", "logit_degf"])
def test_logit_intervals_match_svyciprop(compared, stat):
    merged = _pair(compared, stat)
    for design, rows in merged.groupby("design"):
        label = f"{design} {stat}"
        # svyciprop's estimate is expit of a glm intercept: the weighted mean to glm's tolerance
        _close(rows["estimate"], rows["estimate_r"], 1e-8, f"{label} estimate")
        _close(rows["se"], rows["se_r"], 1e-6, f"{label} SE", NOISE)
        _close(rows["low"], rows["low_r"], 1e-6, f"{label} low")
        _close(rows["high"], rows["high_r"], 1e-6, f"{label} high")


def test_degf_matches_r(compared):
    merged = _pair(compared, "degf")
    np.testing.assert_array_equal(merged["estimate"], merged["estimate_r"])


def test_the_data_exercise_every_rule(compared):
    """The rules differ where they should, so the comparisons above test each of them."""
    _, ours, _, _ = compared
    se = ours[ours.stat == "mean"].set_index(["design", "domain"])["se"]
    for cal in ("FALSE", "TRUE"):
        remove = se[f"remove none {cal}"]
        assert np.allclose(se[f"certainty none {cal}"], remove, rtol=1e-12, equal_nan=True)
        assert (se[f"adjust none {cal}"] > remove).any()
        assert not np.allclose(se[f"average none {cal}"], remove, equal_nan=True)
        assert se[f"remove count {cal}", ""] < remove[""]
    # R: a domain in the lonely stratum alone has no variance to average over
    assert np.isnan(se["average none FALSE", "island"])
    assert se["remove none FALSE", "island"] == 0


def test_fail_refuses_like_r(compared):
    data, _, theirs, _ = compared
    errors = theirs[theirs.stat == "error"]
    assert len(errors) == 2 and errors["domain"].str.contains("has only one PSU").all()
    with pytest.raises(EstimationError, match="stratum 's4' has only one PSU"):
        Design.build(data["w0"], data["stratum"], data["psu"])


# ---------------------------------------------------------------------------------------------
# Without R


@pytest.mark.parametrize("level", [1.5, 0, 1, -0.2, float("nan"), float("inf"), 95])
def test_bad_level_is_refused(level):
    message = f"the confidence level must be between 0 and 1 (exclusive), not {level}"
    with pytest.raises(IntervalError) as caught:
        check_level(level)
    assert str(caught.value) == message
    with pytest.raises(EstimationError, match="between 0 and 1"):
        estimate(pd.DataFrame({"q": [1.0, 2.0]}), ["q"], Design.build([1.0, 1.0]), level=level)


def test_bad_level_message_for_1_5():
    with pytest.raises(ValueError, match=r"not 1\.5$"):
        interval(0.5, 0.1, level=1.5)


def test_fpc_smaller_than_the_sample_names_the_stratum():
    strata = ["a", "a", "b", "b", "b"]
    with pytest.raises(EstimationError, match="fpc of stratum 'b' is 2, fewer than the 3 PSUs"):
        Design.build(np.ones(5), strata, fpc=[10, 10, 2, 2, 2])


@pytest.mark.parametrize(
    "fpc, message",
    [
        ([10, 10, 5, 6, 5], "fpc varies within stratum 'b'"),
        ([10, 10, 5, None, 5], "missing or not a number .* stratum 'b'"),
        ([10, 10, 5, "many", 5], "missing or not a number .* stratum 'b'"),
        ([10, 10, -5, -5, -5], "fpc of stratum 'b' is negative"),
    ],
)
def test_bad_fpc_is_refused(fpc, message):
    with pytest.raises(EstimationError, match=message):
        Design.build(np.ones(5), ["a", "a", "b", "b", "b"], fpc=fpc)


def test_census_stratum_has_se_zero():
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"q": rng.normal(size=12), "stratum": ["a"] * 6 + ["b"] * 6})
    weights = rng.uniform(1, 3, 12)
    # every unit of stratum a is a PSU of a population of 6: a census; b is sampled
    design = Design.build(weights, data["stratum"], fpc=[6] * 6 + [60] * 6)
    census = data.assign(q=np.where(data["stratum"] == "a", data["q"], np.nan))
    row = estimate(census, ["q"], design, statistic="total").iloc[0]
    assert row.se == 0 and row.ci_low == row.ci_high == row.estimate
    # fractions of 1 are a census as well, and a census stratum with one PSU is not lonely
    lonely = Design.build(np.ones(7), ["a"] * 6 + ["c"], fpc=[0.5] * 6 + [1.0])
    assert lonely.lonely is None and lonely.psu_scale[6] == 0


def test_logit_bounds_stay_in_the_unit_interval():
    p = np.array([1e-9, 1e-4, 0.01, 0.5, 0.99, 1 - 1e-4, 1 - 1e-9, 0.0, 1.0, np.nan])
    se = np.array([1e-6, 0.01, 0.05, 0.3, 0.05, 0.01, 1e-6, 0.0, 0.0, 0.1])
    low, high = interval(p, se, method="logit", df=np.full(10, 7.0))
    finite = ~np.isnan(p)
    assert (low[finite] >= 0).all() and (high[finite] <= 1).all()
    assert (low[finite] <= p[finite]).all() and (p[finite] <= high[finite]).all()
    assert low[7] == high[7] == 0 and low[8] == high[8] == 1
    assert np.isnan(low[9]) and np.isnan(high[9])
    # the Wald interval of the same figures leaves [0, 1]
    wald_low, wald_high = interval(p, se, df=7)
    assert wald_low[1] < 0 and wald_high[5] > 1
    # percentages: the same interval times 100
    pct = interval(100 * p[2:5], 100 * se[2:5], method="logit", scale=100.0)
    plain = interval(p[2:5], se[2:5], method="logit")
    np.testing.assert_allclose(pct, 100 * np.asarray(plain), rtol=1e-12)


def test_interval_options_are_checked():
    data = pd.DataFrame({"q": [1.0, 2.0, 4.0, 5.0]})
    design = Design.build(np.ones(4))
    with pytest.raises(EstimationError, match="interval must be one of logit, wald"):
        estimate(data, ["q"], design, interval="exact")
    with pytest.raises(EstimationError, match="df must be 'normal', 'design' or a"):
        estimate(data, ["q"], design, df="student")
    with pytest.raises(EstimationError, match="positive number, not 0"):
        estimate(data, ["q"], design, df=0)
    with pytest.raises(EstimationError, match="logit intervals are for shares"):
        estimate(data, ["q"], design, share=[4, 5], statistic="total", interval="logit")
    with pytest.raises(EstimationError, match="proportions between 0 and 1, not 3"):
        estimate(data, ["q"], design, interval="logit")
    # the defaults: logit for a share, Wald for a mean; t with a number of df
    share = estimate(data, ["q"], design, share=[4, 5]).iloc[0]
    assert share.ci_low == pytest.approx(interval(0.5, share.se, method="logit")[0])
    mean = estimate(data, ["q"], design, df=3).iloc[0]
    assert mean.ci_high - mean.estimate == pytest.approx(3.182446305284263 * mean.se)
