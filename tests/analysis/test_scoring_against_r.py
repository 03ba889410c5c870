"""Weighted SIPAS figures and their SEs, compared live with R's survey package.

A stratified citizen sample with unequal weights and "don't know" answers. R's references:
the overall share is ``svymean`` of the share indicator (``na.rm = TRUE``: "don't know" is a
domain); an element index, a mean of item shares over different valid answers, is ``svycontrast``
of the linearised ratio of totals; the mean of the elements likewise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hand_scoring import QUESTIONNAIRES, SCHEME
from r_support import run_r

from analysis.scheme import parse_scheme
from analysis.scoring import score

pytestmark = pytest.mark.r

R_SCRIPT = r"""
suppressMessages(library(survey))
d <- read.csv("citizen.csv")
ind <- function(x, pos) ifelse(is.na(x), NA, as.numeric(x %in% pos))
d$s_overall <- ind(d$overall_satisfaction, 4:5)
for (v in c("acc_1", "acc_sat", "result_1", "result_on_time")) {
  pos <- if (v == "result_on_time") 1 else 4:5
  d[[paste0("a_", v)]] <- ifelse(is.na(d[[v]]), 0, as.numeric(d[[v]] %in% pos))
  d[[paste0("v_", v)]] <- as.numeric(!is.na(d[[v]]))
}
des <- svydesign(ids = ~1, strata = ~district, weights = ~weight, data = d)
rows <- list()
add <- function(name, e) rows[[length(rows) + 1]] <<- data.frame(
  name = name, estimate = as.vector(coef(e)), se = as.vector(SE(e)))
m <- svymean(~s_overall, des, na.rm = TRUE)
rows[[1]] <- data.frame(name = "overall", estimate = 100 * as.vector(coef(m)),
  se = 100 * as.vector(SE(m)))
t <- svytotal(~a_acc_1 + v_acc_1 + a_acc_sat + v_acc_sat + a_result_1 + v_result_1 +
  a_result_on_time + v_result_on_time, des)
access <- quote(100 * (a_acc_1 / v_acc_1 + a_acc_sat / v_acc_sat) / 2)
result <- quote(100 * (a_result_1 / v_result_1 + a_result_on_time / v_result_on_time) / 2)
both <- quote(100 * ((a_acc_1 / v_acc_1 + a_acc_sat / v_acc_sat) / 2 +
  (a_result_1 / v_result_1 + a_result_on_time / v_result_on_time) / 2) / 2)
add("access", svycontrast(t, access))
add("result", svycontrast(t, result))
add("elements", svycontrast(t, both))
write.csv(do.call(rbind, rows), "r_sipas.csv", row.names = FALSE)
"""


def _citizens(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 600
    district = rng.choice(["ky_anh_town", "can_loc", "vu_quang"], n, p=[0.5, 0.3, 0.2])
    weight = np.where(district == "vu_quang", 40.0, np.where(district == "can_loc", 15.0, 8.0))
    weight = weight * rng.uniform(0.6, 1.6, n)
    base = rng.normal(3.6, 1.0, n) + (district == "vu_quang") * 0.4

    def answers(shift, missing):
        x = np.clip(np.round(base + shift + rng.normal(0, 0.9, n)), 1, 5)
        x[rng.random(n) < missing] = np.nan
        return x

    on_time = np.where(rng.random(n) < 0.8, 1.0, 2.0)
    on_time[rng.random(n) < 0.07] = np.nan
    return pd.DataFrame(
        {
            "district": district,
            "weight": weight,
            "acc_1": answers(0.2, 0.05),
            "acc_sat": answers(0.0, 0.02),
            "result_1": answers(-0.3, 0.12),
            "result_on_time": on_time,
            "overall_satisfaction": answers(0.1, 0.04),
        }
    )


def test_weighted_sipas_matches_r(rscript, tmp_path):
    data = _citizens()
    data.to_csv(tmp_path / "citizen.csv", index=False)
    run_r(rscript, R_SCRIPT, tmp_path)
    theirs = pd.read_csv(tmp_path / "r_sipas.csv").set_index("name")

    by_elements = parse_scheme(SCHEME, "hand.yaml", QUESTIONNAIRES)
    by_item = parse_scheme(
        SCHEME.replace("overall: elements", "overall: item\n  overall_item: overall_satisfaction"),
        "hand_item.yaml",
        QUESTIONNAIRES,
    )
    ours = {}
    for name, scheme in (("elements", by_elements), ("overall", by_item)):
        table = score(scheme, {"citizen": data}, strata="district").table
        ours[name] = table[table.kind == "sipas"].iloc[0]
        for element in ("access", "result"):
            ours[element] = table[(table.kind == "sipas_element") & (table.code == element)].iloc[0]
    for name in ("overall", "access", "result", "elements"):
        assert ours[name].estimate == pytest.approx(theirs.loc[name, "estimate"], rel=1e-10), name
        assert ours[name].se == pytest.approx(theirs.loc[name, "se"], rel=1e-8), name
