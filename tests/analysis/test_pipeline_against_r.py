"""The whole chain (`analysis.pipeline.run`, as the CLI and the web call it) against R's survey.

Each test generates its data with fixed seeds, writes it as CSV and runs one Rscript:

- calibrated citizens (design weights N_h / n_h from the district targets, then raking or linear
  calibration): SIPAS elements, overall SIPAS (mean of elements, or the overall item), the
  citizens' points and the items of the estimates table, with their logit intervals under normal
  and design (t with ``degf``) quantiles;
- leaders as a census per unit with a finite population correction (one unit fully answered);
- a unit rated by leaders only, beside one rated by leaders and delegates;
- clustered citizens with a lonely PSU under each ``survey.lonely.psu`` option.

Estimates are compared within 1e-8 relative, SEs and interval bounds within 1e-6.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hand_scoring import QUESTIONNAIRES, SCHEME
from r_support import run_r
from scipy import special

from analysis.pipeline import Parameters, run
from analysis.scheme import parse_scheme
from analysis.targets import read_targets

pytestmark = pytest.mark.r

EST, SE, CI = 1e-8, 1e-6, 1e-6

BY_ELEMENTS = parse_scheme(SCHEME, "hand.yaml", QUESTIONNAIRES)
BY_ITEM = parse_scheme(
    SCHEME.replace("overall: elements", "overall: item\n  overall_item: overall_satisfaction"),
    "hand_item.yaml",
    QUESTIONNAIRES,
)
#: the share items of the scheme and their positive answers
SHARES = {
    "acc_1": (4, 5),
    "acc_sat": (4, 5),
    "result_1": (4, 5),
    "result_on_time": (1,),
    "overall_satisfaction": (4, 5),
}

# The share indicators of the citizens' items: s_ (NA for don't know), a_ (0 for don't know) and
# v_ (answered), for svymean / svyciprop and for ratios of totals in svycontrast.
R_SHARES = r"""
pos <- list(acc_1 = 4:5, acc_sat = 4:5, result_1 = 4:5, result_on_time = 1,
            overall_satisfaction = 4:5)
for (v in names(pos)) {
  d[[paste0("s_", v)]] <- ifelse(is.na(d[[v]]), NA, as.numeric(d[[v]] %in% pos[[v]]))
  d[[paste0("a_", v)]] <- ifelse(is.na(d[[v]]), 0, as.numeric(d[[v]] %in% pos[[v]]))
  d[[paste0("v_", v)]] <- as.numeric(!is.na(d[[v]]))
}
totals <- as.formula(paste("~", paste(c(paste0("a_", names(pos)), paste0("v_", names(pos))),
                                      collapse = " + ")))
access <- quote(100 * (a_acc_1 / v_acc_1 + a_acc_sat / v_acc_sat) / 2)
result <- quote(100 * (a_result_1 / v_result_1 + a_result_on_time / v_result_on_time) / 2)
elements <- quote(100 * ((a_acc_1 / v_acc_1 + a_acc_sat / v_acc_sat) / 2 +
  (a_result_1 / v_result_1 + a_result_on_time / v_result_on_time) / 2) / 2)
points <- quote(4 * ((a_acc_1 / v_acc_1 + a_acc_sat / v_acc_sat) / 2 +
  (a_result_1 / v_result_1 + a_result_on_time / v_result_on_time) / 2) / 2)
"""

R_CALIBRATED = (
    r"""
suppressMessages(library(survey))
d <- read.csv("citizen.csv", stringsAsFactors = FALSE)
for (v in c("sex", "age", "district")) d[[v]] <- factor(d[[v]])
m <- read.csv("margins.csv", stringsAsFactors = FALSE)
big_n <- setNames(m$target[m$variable == "district"], m$level[m$variable == "district"])
small_n <- table(as.character(d$district))
d$w0 <- as.vector(big_n[as.character(d$district)] / small_n[as.character(d$district)])
"""
    + R_SHARES
    + r"""
des <- svydesign(ids = ~1, strata = ~district, weights = ~w0, data = d)
pop <- c(`(Intercept)` = sum(big_n))
for (v in c("sex", "age", "district")) for (l in levels(d[[v]])[-1])
  pop[paste0(v, l)] <- m$target[m$variable == v & m$level == l]
cal <- calibrate(des, ~sex + age + district, pop, calfun = "CALFUN", epsilon = 1e-13,
                 maxit = 100)
dfs <- c(normal = Inf, design = degf(cal))
write.csv(data.frame(degf = degf(cal), q_normal = qnorm(0.975), q_design = qt(0.975, degf(cal))),
          "r_degf.csv", row.names = FALSE)
# expit(logit(p) +/- q se / (p (1 - p))) on the scale of the figure (1, 100 or 4 points)
logit_ci <- function(est, se, scale, df) {
  p <- est / scale
  q <- if (is.finite(df)) qt(0.975, df) else qnorm(0.975)
  as.vector(scale * plogis(qlogis(p) + c(-1, 1) * q * (se / scale) / (p * (1 - p))))
}
rows <- list()
add <- function(name, est, se, ci) rows[[length(rows) + 1]] <<- data.frame(
  name = name, estimate = est, se = se, low_normal = ci[1], high_normal = ci[2],
  low_design = ci[3], high_design = ci[4])
t <- svytotal(totals, cal)
for (name in c("access", "result", "elements", "points")) {
  scale <- if (name == "points") 4 else 100
  e <- svycontrast(t, get(name))
  est <- as.vector(coef(e)); se <- as.vector(SE(e))
  add(name, est, se, c(logit_ci(est, se, scale, dfs[["normal"]]),
                       logit_ci(est, se, scale, dfs[["design"]])))
}
# the shares themselves: svymean, and svyciprop's logit interval with df = Inf and degf(cal).
# svyglm cannot drop the don't-knows of a calibrated design itself (survey 4.1.1 stops in the
# calibration residuals with "NA/NaN/Inf in foreign function call"), so svyciprop gets the
# answered subset (the others kept with weight 0) with their NA set to 0, which weight 0 ignores.
for (v in names(pos)) {
  s <- paste0("s_", v)
  f <- as.formula(paste0("~", s))
  e <- svymean(f, cal, na.rm = TRUE)
  answered <- cal[!is.na(d[[s]]), ]
  answered$variables[[s]][is.na(answered$variables[[s]])] <- 0
  ci <- unlist(lapply(dfs, function(df) attr(suppressWarnings(
    svyciprop(f, answered, method = "logit", df = df)), "ci")))
  add(v, as.vector(coef(e)), as.vector(SE(e)), ci)
  if (v == "overall_satisfaction") {
    add("overall", 100 * as.vector(coef(e)), 100 * as.vector(SE(e)), 100 * ci)
    add("overall_points", 4 * as.vector(coef(e)), 4 * as.vector(SE(e)), 4 * ci)
  }
}
write.csv(do.call(rbind, rows), "r_figures.csv", row.names = FALSE)
"""
)

R_CENSUS = r"""
suppressMessages(library(survey))
d <- read.csv("leader.csv", stringsAsFactors = FALSE)
for (v in c("f1_1", "f1_2", "f1_3")) {
  z <- (d[[v]] - 1) / 3
  d[[paste0("z_", v)]] <- z
  d[[paste0("a_", v)]] <- ifelse(is.na(z), 0, z)
  d[[paste0("v_", v)]] <- as.numeric(!is.na(z))
}
des <- svydesign(ids = ~1, strata = ~unit, fpc = ~invited, data = d)
rows <- list()
add <- function(unit, name, est, se) rows[[length(rows) + 1]] <<- data.frame(
  unit = unit, name = name, estimate = as.vector(est), se = as.vector(se))
for (v in c("f1_1", "f1_2", "f1_3")) {
  b <- svyby(as.formula(paste0("~z_", v)), ~unit, des, svymean, na.rm = TRUE)
  add(as.character(b$unit), v, coef(b), SE(b))
}
for (u in sort(unique(d$unit))) {
  t <- svytotal(~a_f1_1 + v_f1_1 + a_f1_2 + v_f1_2 + a_f1_3 + v_f1_3,
                subset(des, unit == u))
  e <- svycontrast(t, list(
    c1_2 = quote(3 * (a_f1_1 / v_f1_1 + a_f1_2 / v_f1_2) / 2),
    c1_3 = quote(a_f1_3 / v_f1_3),
    field = quote(3 * (a_f1_1 / v_f1_1 + a_f1_2 / v_f1_2) / 2 + a_f1_3 / v_f1_3)))
  add(u, names(coef(e)), coef(e), SE(e))
}
write.csv(do.call(rbind, rows), "r_figures.csv", row.names = FALSE)
"""

R_MISSING_GROUP = r"""
suppressMessages(library(survey))
lead <- read.csv("leader.csv", stringsAsFactors = FALSE)
dele <- read.csv("delegate.csv", stringsAsFactors = FALSE)
lead$group <- "leader"
dele$group <- "delegate"
d <- rbind(lead, dele)
for (v in c("f1_1", "f1_2", "f1_3")) {
  z <- (d[[v]] - 1) / 3
  for (g in c("leader", "delegate")) {
    d[[paste0("a_", g, "_", v)]] <- ifelse(is.na(z) | d$group != g, 0, z)
    d[[paste0("v_", g, "_", v)]] <- as.numeric(!is.na(z) & d$group == g)
  }
  d[[paste0("a_", v)]] <- ifelse(is.na(z), 0, z)
  d[[paste0("v_", v)]] <- as.numeric(!is.na(z))
}
rows <- list()
add <- function(unit, e) rows[[length(rows) + 1]] <<- data.frame(
  unit = unit, name = names(coef(e)), estimate = as.vector(coef(e)), se = as.vector(SE(e)))
# unit b: the leaders' design alone (a census, one respondent per PSU)
leaders <- svydesign(ids = ~1, data = d[d$group == "leader", ])
t <- svytotal(~a_f1_1 + v_f1_1 + a_f1_2 + v_f1_2 + a_f1_3 + v_f1_3,
              subset(leaders, unit == "b"))
add("b", svycontrast(t, list(
  c1_2 = quote(3 * (a_f1_1 / v_f1_1 + a_f1_2 / v_f1_2) / 2),
  c1_3 = quote(a_f1_3 / v_f1_3),
  field = quote(3 * (a_f1_1 / v_f1_1 + a_f1_2 / v_f1_2) / 2 + a_f1_3 / v_f1_3))))
# unit a: both groups, independent samples = strata of one design
both <- svydesign(ids = ~1, strata = ~group, data = d)
t <- svytotal(~a_leader_f1_1 + v_leader_f1_1 + a_leader_f1_2 + v_leader_f1_2 +
              a_delegate_f1_1 + v_delegate_f1_1 + a_delegate_f1_2 + v_delegate_f1_2 +
              a_f1_3 + v_f1_3, subset(both, unit == "a"))
leader <- quote(3 * (a_leader_f1_1 / v_leader_f1_1 + a_leader_f1_2 / v_leader_f1_2) / 2)
delegate <- quote(3 * (a_delegate_f1_1 / v_delegate_f1_1 +
                       a_delegate_f1_2 / v_delegate_f1_2) / 2)
add("a", svycontrast(t, list(
  c1_2 = bquote(0.6 * .(leader) + 0.4 * .(delegate)),
  c1_3 = quote(a_f1_3 / v_f1_3),
  field = bquote(0.6 * .(leader) + 0.4 * .(delegate) + a_f1_3 / v_f1_3))))
write.csv(do.call(rbind, rows), "r_figures.csv", row.names = FALSE)
"""

R_LONELY = (
    r"""
suppressMessages(library(survey))
d <- read.csv("citizen.csv", stringsAsFactors = FALSE)
"""
    + R_SHARES
    + r"""
rows <- list()
for (lonely in c("remove", "certainty", "adjust", "average")) {
  options(survey.lonely.psu = lonely)
  des <- svydesign(ids = ~commune, strata = ~district, weights = ~weight, data = d, nest = TRUE)
  t <- svytotal(totals, des)
  for (name in c("access", "result", "elements", "points")) {
    e <- svycontrast(t, get(name))
    rows[[length(rows) + 1]] <- data.frame(lonely = lonely, name = name,
      estimate = as.vector(coef(e)), se = as.vector(SE(e)))
  }
  for (v in names(pos)) {
    e <- svymean(as.formula(paste0("~s_", v)), des, na.rm = TRUE)
    rows[[length(rows) + 1]] <- data.frame(lonely = lonely, name = v,
      estimate = as.vector(coef(e)), se = as.vector(SE(e)))
  }
}
write.csv(do.call(rbind, rows), "r_figures.csv", row.names = FALSE)
"""
)


def _close(ours, theirs, rel, label, atol=0.0):
    ours = np.atleast_1d(np.asarray(ours, dtype=float))
    theirs = np.atleast_1d(np.asarray(theirs, dtype=float))
    assert ours.shape == theirs.shape, label
    both_nan = np.isnan(ours) & np.isnan(theirs)
    with np.errstate(invalid="ignore"):
        near = np.abs(ours - theirs) <= np.maximum(rel * np.abs(theirs), atol)
    ok = both_nan | near
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise AssertionError(f"{label}: ours {ours[i]!r} vs R {theirs[i]!r} (row {i})")


def _one(table: pd.DataFrame, **where) -> pd.Series:
    rows = table
    for column, value in where.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, f"{len(rows)} rows for {where}"
    return rows.iloc[0]


def _answers(rng, n, base, shift, missing, top=5):
    x = np.clip(np.round(base + shift + rng.normal(0, 0.9, n)), 1, top)
    x[rng.random(n) < missing] = np.nan
    return x


def _citizen_items(rng, n, base) -> dict[str, np.ndarray]:
    on_time = np.where(rng.random(n) < 0.8, 1.0, 2.0)
    on_time[rng.random(n) < 0.07] = np.nan
    return {
        "acc_1": _answers(rng, n, base, 0.2, 0.05),
        "acc_sat": _answers(rng, n, base, 0.0, 0.03),
        "result_1": _answers(rng, n, base, -0.3, 0.12),
        "result_on_time": on_time,
        "overall_satisfaction": _answers(rng, n, base, 0.1, 0.04),
    }


# ---------------------------------------------------------------------------------------------
# 1. Calibrated citizens


#: what a share of 1 is on the scale of each figure of the calibrated test
SCALES = {"access": 100.0, "result": 100.0, "elements": 100.0, "overall": 100.0}
SCALES |= {"points": 4.0, "overall_points": 4.0}
POPULATION = {"ky_anh_town": 41000.0, "can_loc": 37000.0, "vu_quang": 12000.0}
AGES = ["18-29", "30-44", "45-59", "60+"]


def _calibrated_citizens(seed: int = 23) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Citizens of three districts and targets for district (N_h), sex and age."""
    rng = np.random.default_rng(seed)
    n = 520
    district = rng.choice(list(POPULATION), n, p=[0.45, 0.35, 0.2])
    sex = rng.choice(["female", "male"], n, p=[0.6, 0.4])
    age = rng.choice(AGES, n, p=[0.15, 0.3, 0.35, 0.2])
    base = (
        rng.normal(3.5, 1.0, n)
        + 0.4 * (district == "vu_quang")
        - 0.3 * (sex == "male")
        + 0.15 * pd.Series(age).map({a: i for i, a in enumerate(AGES)}).to_numpy()
    )
    data = pd.DataFrame({"district": district, "sex": sex, "age": age})
    for item, values in _citizen_items(rng, n, base).items():
        data[item] = values
    total = sum(POPULATION.values())
    rows = [("district", d, size) for d, size in POPULATION.items()]
    counts = data["district"].value_counts()
    w0 = data["district"].map({d: POPULATION[d] / counts[d] for d in POPULATION})
    for variable in ("sex", "age"):
        sums = w0.groupby(data[variable]).sum()
        share = sums / sums.sum() * (1 + 0.2 * rng.uniform(-1, 1, len(sums)))
        share = share / share.sum()
        rows += [(variable, level, total * s) for level, s in share.items()]
    return data, pd.DataFrame(rows, columns=["variable", "level", "target"])


@pytest.mark.parametrize("method", ["raking", "linear"])
def test_calibrated_sipas_and_intervals_match_r(rscript, tmp_path, method):
    data, margins = _calibrated_citizens()
    data.to_csv(tmp_path / "citizen.csv", index=False)
    margins.to_csv(tmp_path / "margins.csv", index=False)
    run_r(rscript, R_CALIBRATED.replace("CALFUN", method), tmp_path)
    theirs = pd.read_csv(tmp_path / "r_figures.csv").set_index("name")
    freedom = pd.read_csv(tmp_path / "r_degf.csv").iloc[0]
    assert freedom["degf"] == len(data) - len(POPULATION)
    targets = read_targets(tmp_path / "margins.csv")

    for df in ("normal", "design"):
        params = Parameters(strata="district", method=method, df=df)
        by_elements = run(BY_ELEMENTS, {"citizen": data}, params, targets=targets)
        by_item = run(BY_ITEM, {"citizen": data}, params, targets=targets)
        scores, item_scores = by_elements.tables["scores"], by_item.tables["scores"]
        ours = {
            "access": _one(scores, kind="sipas_element", code="access"),
            "result": _one(scores, kind="sipas_element", code="result"),
            "elements": _one(scores, kind="sipas"),
            "points": _one(scores, kind="criterion", code="2.1", group=""),
            "overall": _one(item_scores, kind="sipas"),
            "overall_points": _one(item_scores, kind="criterion", code="2.1", group=""),
        }
        estimates = by_item.tables["estimates"]
        for item in SHARES:
            ours[item] = _one(estimates, group="citizen", item=item)
        for name, row in ours.items():
            r = theirs.loc[name]
            label = f"{method} df={df} {name}"
            _close(row["estimate"], r["estimate"], EST, f"{label} estimate")
            _close(row["se"], r["se"], SE, f"{label} SE")
            _close(row["ci_low"], r[f"low_{df}"], CI, f"{label} lower bound")
            _close(row["ci_high"], r[f"high_{df}"], CI, f"{label} upper bound")
            # the quantile behind our bounds, finer than the bounds show it: t with 517 or 518
            # degrees of freedom differ by 5e-6 in q but by only 2e-7 in the bounds
            scale = SCALES.get(name, 1.0)
            p, s = row["estimate"] / scale, row["se"] / scale
            q = (special.logit(row["ci_high"] / scale) - special.logit(p)) * p * (1 - p) / s
            _close(q, freedom[f"q_{df}"], 1e-9, f"{label} quantile")


# ---------------------------------------------------------------------------------------------
# 2. Leaders: a census per unit with a finite population correction

#: unit -> (respondents, invited); u2 answered in full, so its figures have no sampling error
LEADER_UNITS = {"u1": (14, 25), "u2": (9, 9), "u3": (17, 40)}
#: the group label of an item pooled over leaders and delegates (criterion 1.3)
POOLED = "leader+delegate"


def _leaders(units: dict[str, int], seed: int, invited: dict[str, int] | None = None):
    rng = np.random.default_rng(seed)
    parts = []
    for shift, (unit, n) in enumerate(units.items()):
        base = rng.normal(2.6 + 0.3 * shift, 0.8, n)
        part = pd.DataFrame(
            {
                "unit": [unit] * n,
                "f1_1": _answers(rng, n, base, 0.0, 0.12, top=4),
                "f1_2": _answers(rng, n, base, 0.4, 0.08, top=4),
                "f1_3": _answers(rng, n, base, -0.3, 0.15, top=4),
            }
        )
        if invited is not None:
            part.insert(1, "invited", invited[unit])
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def test_leader_census_with_fpc_matches_r(rscript, tmp_path):
    leaders = _leaders(
        {u: n for u, (n, _) in LEADER_UNITS.items()},
        seed=5,
        invited={u: m for u, (_, m) in LEADER_UNITS.items()},
    )
    leaders.to_csv(tmp_path / "leader.csv", index=False)
    run_r(rscript, R_CENSUS, tmp_path)
    theirs = pd.read_csv(tmp_path / "r_figures.csv").set_index(["unit", "name"])

    result = run(BY_ELEMENTS, {"leader": leaders}, Parameters(unit="unit", fpc="invited"))
    scores = result.tables["scores"]
    for unit in LEADER_UNITS:
        ours = {
            item: _one(scores, unit=unit, kind="item", code=item, group=group)
            for item, group in (("f1_1", "leader"), ("f1_2", "leader"), ("f1_3", POOLED))
        }
        ours["c1_2"] = _one(scores, unit=unit, kind="criterion", code="1.2", group="")
        ours["c1_3"] = _one(scores, unit=unit, kind="criterion", code="1.3", group="")
        ours["field"] = _one(scores, unit=unit, kind="field", code="1")
        for name, row in ours.items():
            r = theirs.loc[(unit, name)]
            _close(row["estimate"], r["estimate"], EST, f"{unit} {name} estimate")
            _close(row["se"], r["se"], SE, f"{unit} {name} SE", atol=1e-14)
    # the unit answered in full is a census: no sampling error at all
    figures = scores[scores.kind.isin(["item", "criterion", "field"]) & ~scores.no_data]
    u2 = figures[figures.unit == "u2"]
    assert len(u2) == 3 + 2 + 1 + 2  # items; 1.2 and 1.3 by leaders and combined; field 1
    assert (u2["se"] == 0).all()
    assert (theirs.loc["u2", "se"] == 0).all()
    for unit in ("u1", "u3"):
        assert (figures[figures.unit == unit]["se"] > 0).all()


# ---------------------------------------------------------------------------------------------
# 3. A unit without delegates


def test_unit_without_delegates_takes_leaders_points(rscript, tmp_path):
    leaders = _leaders({"a": 11, "b": 9}, seed=8)
    delegates = _leaders({"a": 7}, seed=9)
    leaders.to_csv(tmp_path / "leader.csv", index=False)
    delegates.to_csv(tmp_path / "delegate.csv", index=False)
    run_r(rscript, R_MISSING_GROUP, tmp_path)
    theirs = pd.read_csv(tmp_path / "r_figures.csv").set_index(["unit", "name"])

    result = run(BY_ELEMENTS, {"leader": leaders, "delegate": delegates}, Parameters(unit="unit"))
    scores = result.tables["scores"]
    assert _one(scores, unit="b", kind="criterion", code="1.2", group="delegate")["no_data"]
    for unit in ("a", "b"):
        ours = {
            "c1_2": _one(scores, unit=unit, kind="criterion", code="1.2", group=""),
            "c1_3": _one(scores, unit=unit, kind="criterion", code="1.3", group=""),
            "field": _one(scores, unit=unit, kind="field", code="1"),
        }
        for name, row in ours.items():
            r = theirs.loc[(unit, name)]
            _close(row["estimate"], r["estimate"], EST, f"{unit} {name} estimate")
            _close(row["se"], r["se"], SE, f"{unit} {name} SE")
    # b's combined points are the leaders' own, value and SE
    alone = _one(scores, unit="b", kind="criterion", code="1.2", group="leader")
    combined = _one(scores, unit="b", kind="criterion", code="1.2", group="")
    _close(combined["estimate"], alone["estimate"], 1e-12, "b 1.2 combined vs leaders")
    _close(combined["se"], alone["se"], 1e-12, "b 1.2 combined SE vs leaders")


# ---------------------------------------------------------------------------------------------
# 4. Lonely PSUs


def _clustered_citizens(seed: int = 31) -> pd.DataFrame:
    """Communes nested in districts (numbered 1.. in each); d3 has a single commune."""
    rng = np.random.default_rng(seed)
    communes = {"d1": 5, "d2": 4, "d3": 1}
    parts = []
    for shift, (district, k) in enumerate(communes.items()):
        for commune in range(1, k + 1):
            n = int(rng.integers(25, 45))
            effect = rng.normal(0, 0.4)
            base = rng.normal(3.4 + 0.2 * shift + effect, 1.0, n)
            part = pd.DataFrame(
                {
                    "district": district,
                    "commune": commune,
                    "weight": (10.0 + 15 * shift) * rng.uniform(0.7, 1.4, n),
                }
            )
            for item, values in _citizen_items(rng, n, base).items():
                part[item] = values
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def test_lonely_psu_options_match_r(rscript, tmp_path):
    data = _clustered_citizens()
    data.to_csv(tmp_path / "citizen.csv", index=False)
    run_r(rscript, R_LONELY, tmp_path)
    theirs = pd.read_csv(tmp_path / "r_figures.csv").set_index(["lonely", "name"])

    ses = {}
    for lonely in ("remove", "certainty", "adjust", "average"):
        params = Parameters(strata="district", cluster="commune", lonely_psu=lonely)
        result = run(BY_ELEMENTS, {"citizen": data}, params)
        scores, estimates = result.tables["scores"], result.tables["estimates"]
        ours = {
            "access": _one(scores, kind="sipas_element", code="access"),
            "result": _one(scores, kind="sipas_element", code="result"),
            "elements": _one(scores, kind="sipas"),
            "points": _one(scores, kind="criterion", code="2.1", group=""),
        }
        for item in SHARES:
            if item != "overall_satisfaction":  # not in the estimates without an overall item
                ours[item] = _one(estimates, group="citizen", item=item)
        for name, row in ours.items():
            r = theirs.loc[(lonely, name)]
            _close(row["estimate"], r["estimate"], EST, f"{lonely} {name} estimate")
            _close(row["se"], r["se"], SE, f"{lonely} {name} SE")
        ses[lonely] = ours["elements"]["se"]
    # the options do differ here, so each comparison above is a real one
    assert ses["adjust"] > ses["remove"]
    assert ses["average"] > ses["remove"]
