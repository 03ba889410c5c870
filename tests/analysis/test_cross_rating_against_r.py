"""Cross-rating: standard errors clustered by respondent, compared live with R's survey package.

Delegates and commune leaders each rate several departments (one row per rating). R's reference
is one design per group, ``svydesign(ids = ~respondent)``: a respondent's rows are one PSU. A
department's criterion points for a group are ``svyby(~z, ~department, svymean, na.rm = TRUE)``
times the maximum; its survey total is ``svycontrast`` of the ratios of ``svytotal``s of the
department's items (the covariance of items answered by the same people counted); the groups are
independent, so the combined variance is 0.6^2 V_delegate + 0.4^2 V_commune_leader. The same
figures under ``ids = ~1`` (every row its own respondent) are written too, to show that the
clustering is what we match: they differ from ours by more than the tolerance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from r_support import run_r
from test_cli import run
from test_example_schemes import SCHEMES, SURVEY_MAX, cross_ratings

pytestmark = pytest.mark.r

#: Estimates agree to rounding; SEs to this relative tolerance.
SE_TOLERANCE = 1e-8

R_SCRIPT = r"""
suppressMessages(library(survey))
maxima <- c(5, 5, 4, 4, 4, 4, 4)
design <- function(d, ids) suppressWarnings(
  if (ids == "respondent") svydesign(ids = ~respondent, data = d)
  else svydesign(ids = ~1, data = d))
rows <- list()
for (group in c("delegate", "commune_leader")) {
  d <- read.csv(paste0(group, ".csv"))
  d$z1 <- (d$d1 - 1) / 3
  for (ids in c("respondent", "row")) {
    by <- svyby(~z1, ~department, design(d, ids), svymean, na.rm = TRUE)
    for (dep in unique(d$department)) {
      vars <- c()
      for (k in 1:7) {
        x <- d[[paste0("d", k)]]
        inside <- d$department == dep & !is.na(x)
        d[[paste0("a", k)]] <- ifelse(inside, (x - 1) / 3, 0)
        d[[paste0("v", k)]] <- as.numeric(inside)
        vars <- c(vars, paste0("a", k), paste0("v", k))
      }
      t <- svytotal(as.formula(paste("~", paste(vars, collapse = "+"))), design(d, ids))
      expr <- parse(text = paste(sprintf("%g * a%d / v%d", maxima, 1:7, 1:7),
                                 collapse = " + "))[[1]]
      total <- svycontrast(t, expr)
      rows[[length(rows) + 1]] <- data.frame(
        group = group, ids = ids, department = dep,
        crit = 5 * by[by$department == dep, "z1"], crit_se = 5 * by[by$department == dep, "se"],
        total = as.vector(coef(total)), total_se = as.vector(SE(total)))
    }
  }
}
write.csv(do.call(rbind, rows), "r_cross.csv", row.names = FALSE)
"""


def test_cross_rated_standard_errors_match_svydesign_ids_respondent(rscript, tmp_path):
    files = {
        "delegate": cross_ratings("delegate", 25, 31),
        "commune_leader": cross_ratings("commune_leader", 45, 32),
    }
    for name, table in files.items():
        table.to_csv(tmp_path / f"{name}.csv", index=False)
        assert table["respondent"].nunique() < len(table)  # people rate several departments
    done = run(
        tmp_path,
        "score",
        "--scheme",
        str(SCHEMES / "departments_example.yaml"),
        "--data",
        "delegate=delegate.csv",
        "--data",
        "commune_leader=commune_leader.csv",
        "--unit",
        "department",
        "--respondent",
        "respondent",
        "--out",
        "scores.csv",
    )
    assert done.returncode == 0, done.stderr
    run_r(rscript, R_SCRIPT, tmp_path)
    theirs = pd.read_csv(tmp_path / "r_cross.csv")
    ours = pd.read_csv(tmp_path / "scores.csv", dtype={"code": str})
    ours["group"] = ours["group"].fillna("")
    assert sum(SURVEY_MAX.values()) == 30
    checked = 0
    for department, r in theirs[theirs.ids == "respondent"].groupby("department"):
        mine = ours[ours.unit == department]
        by_group = r.set_index("group")
        for group in ("delegate", "commune_leader"):
            crit = mine[(mine.kind == "criterion") & (mine.code == "1.2") & (mine.group == group)]
            assert crit.iloc[0].estimate == pytest.approx(by_group.loc[group, "crit"], abs=1e-10)
            assert crit.iloc[0].se == pytest.approx(
                by_group.loc[group, "crit_se"], rel=SE_TOLERANCE
            )
        combined = mine[(mine.kind == "criterion") & (mine.code == "1.2") & (mine.group == "")]
        se = np.sqrt(
            0.36 * by_group.loc["delegate", "crit_se"] ** 2
            + 0.16 * by_group.loc["commune_leader", "crit_se"] ** 2
        )
        assert combined.iloc[0].se == pytest.approx(se, rel=SE_TOLERANCE)
        total = mine[(mine.kind == "total") & (mine.code == "all")].iloc[0]
        expected = (
            0.6 * by_group.loc["delegate", "total"] + 0.4 * by_group.loc["commune_leader", "total"]
        )
        total_se = np.sqrt(
            0.36 * by_group.loc["delegate", "total_se"] ** 2
            + 0.16 * by_group.loc["commune_leader", "total_se"] ** 2
        )
        assert total.estimate == pytest.approx(expected, abs=1e-10)
        assert total.se == pytest.approx(total_se, rel=SE_TOLERANCE)
        # the same figure with every row its own respondent is another number
        rows = theirs[(theirs.ids == "row") & (theirs.department == department)]
        unclustered = np.sqrt(0.36 * rows.total_se.iloc[0] ** 2 + 0.16 * rows.total_se.iloc[1] ** 2)
        assert abs(total.se / unclustered - 1) > 1e-4
        checked += 1
    assert checked == 6
