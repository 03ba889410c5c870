"""SIPAS as par2022.yaml scores it since 2022, on the items of citizen.yaml, against R's survey.

Every item of the five elements is rated on the 1-5 satisfaction scale; an item's share is the
weighted share answering 4 or 5 among those who answered ("don't know" left out), an element the
mean of its items' shares, SIPAS the mean of the five elements. R's references, on a stratified
sample with unequal weights: each item's share is ``svymean`` of its satisfied indicator
(``na.rm = TRUE``), an element is the mean of those, and the SEs of elements and of SIPAS are
``svycontrast`` of the linearised ratios of totals. The scheme file is the real one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hand_scoring import QUESTIONNAIRES
from r_support import run_r
from test_example_schemes import SCHEMES

from analysis.scheme import load_scheme
from analysis.scoring import score

pytestmark = pytest.mark.r

#: The items of each element, written out from the issue's lists (not read from the scheme).
ELEMENTS = {
    "access": ["acc_signs", "acc_seats", "acc_equipment"],
    "procedures": ["proc_posted", "proc_documents", "proc_fees", "proc_time"],
    "staff": ["staff_polite", "staff_explain", "staff_rules"],
    "result": ["result_on_schedule", "result_accurate", "result_fair"],
    "feedback": ["fb_easy", "fb_handled", "fb_informed"],
}

R_SCRIPT = r"""
suppressMessages(library(survey))
d <- read.csv("citizen.csv", stringsAsFactors = FALSE)
elements <- list(
  access = c("acc_signs", "acc_seats", "acc_equipment"),
  procedures = c("proc_posted", "proc_documents", "proc_fees", "proc_time"),
  staff = c("staff_polite", "staff_explain", "staff_rules"),
  result = c("result_on_schedule", "result_accurate", "result_fair"),
  feedback = c("fb_easy", "fb_handled", "fb_informed"))
items <- unname(unlist(elements))
for (v in items) {
  d[[paste0("s_", v)]] <- ifelse(is.na(d[[v]]), NA, as.numeric(d[[v]] %in% 4:5))
  d[[paste0("a_", v)]] <- ifelse(is.na(d[[v]]), 0, as.numeric(d[[v]] %in% 4:5))
  d[[paste0("v_", v)]] <- as.numeric(!is.na(d[[v]]))
}
des <- svydesign(ids = ~1, strata = ~district, weights = ~weight, data = d)
rows <- list()
add <- function(name, est, se) rows[[length(rows) + 1]] <<- data.frame(
  name = name, estimate = est, se = se)
# the satisfied share of every item: svymean of its indicator, don't know left out
share <- sapply(items, function(v) {
  m <- svymean(as.formula(paste0("~s_", v)), des, na.rm = TRUE)
  add(v, 100 * as.vector(coef(m)), 100 * as.vector(SE(m)))
  as.vector(coef(m))
})
t <- svytotal(as.formula(paste("~", paste(c(paste0("a_", items), paste0("v_", items)),
                                          collapse = " + "))), des)
ratio <- function(vs) paste0("(", paste0("a_", vs, " / v_", vs, collapse = " + "), ") / ",
                             length(vs))
for (e in names(elements)) {
  estimate <- 100 * mean(share[elements[[e]]])
  contrast <- svycontrast(t, parse(text = paste0("100 * ", ratio(elements[[e]])))[[1]])
  add(e, estimate, as.vector(SE(contrast)))
}
overall <- paste0("100 * (", paste0("(", sapply(elements, ratio), ")", collapse = " + "), ") / ",
                  length(elements))
contrast <- svycontrast(t, parse(text = overall)[[1]])
add("overall", 100 * mean(sapply(elements, function(vs) mean(share[vs]))),
    as.vector(SE(contrast)))
write.csv(do.call(rbind, rows), "r_sipas.csv", row.names = FALSE)
"""


def citizens(seed: int = 2022) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 700
    district = rng.choice(["ky_anh_town", "can_loc", "vu_quang"], n, p=[0.5, 0.3, 0.2])
    weight = np.where(district == "vu_quang", 40.0, np.where(district == "can_loc", 15.0, 8.0))
    weight = weight * rng.uniform(0.6, 1.6, n)
    mood = rng.normal(3.7, 0.8, n) + (district == "vu_quang") * 0.3
    data = {"district": district, "weight": weight}
    for number, item in enumerate(i for items in ELEMENTS.values() for i in items):
        x = np.clip(np.round(mood + rng.normal(0.1 * (number % 4) - 0.15, 0.9, n)), 1, 5)
        # don't know: more often about feedback (fewer gave any)
        x[rng.random(n) < (0.35 if item.startswith("fb_") else 0.06)] = np.nan
        data[item] = x
    return pd.DataFrame(data)


def test_sipas_since_2022_matches_r(rscript, tmp_path):
    data = citizens()
    data.to_csv(tmp_path / "citizen.csv", index=False)
    run_r(rscript, R_SCRIPT, tmp_path)
    theirs = pd.read_csv(tmp_path / "r_sipas.csv").set_index("name")

    scheme = load_scheme(SCHEMES / "par2022.yaml", QUESTIONNAIRES)
    assert {e.code: [r.item for r in e.items] for e in scheme.sipas.elements} == ELEMENTS
    table = score(scheme, {"citizen": data}, strata="district").table
    sipas = table[table.group == "citizen"]
    for element in ELEMENTS:
        ours = sipas[(sipas.kind == "sipas_element") & (sipas.code == element)].iloc[0]
        assert ours.estimate == pytest.approx(theirs.loc[element, "estimate"], rel=1e-10), element
        assert ours.se == pytest.approx(theirs.loc[element, "se"], rel=1e-8), element
    overall = sipas[sipas.kind == "sipas"].iloc[0]
    assert overall.estimate == pytest.approx(theirs.loc["overall", "estimate"], rel=1e-10)
    assert overall.se == pytest.approx(theirs.loc["overall", "se"], rel=1e-8)
    # the items' shares, in [0, 1] in the scores table, against svymean
    for item in (i for items in ELEMENTS.values() for i in items):
        ours = sipas[(sipas.kind == "item") & (sipas.code == item)].iloc[0]
        assert 100 * ours.estimate == pytest.approx(theirs.loc[item, "estimate"], rel=1e-10)
        assert 100 * ours.se == pytest.approx(theirs.loc[item, "se"], rel=1e-8)
    # the citizens' 10 points of par2022: 10 x SIPAS / 100
    points = table[(table.kind == "criterion") & (table.code == "8.8")].iloc[0]
    assert points.estimate == pytest.approx(theirs.loc["overall", "estimate"] / 10, rel=1e-10)
