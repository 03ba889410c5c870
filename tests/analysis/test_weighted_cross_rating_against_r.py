"""Cross-rating in a weighted sample, with a floor and a numeric rule, compared live with R.

Citizens of a stratified sample (districts; communes as clusters) each rate one to three public
service centres, one row per rating. R's reference is ``svydesign(ids = ~person, strata =
~district, weights = ~weight)`` (a respondent's rows are one PSU), and with ``--cluster`` the
commune, in which respondents nest: ``ids = ~commune``. Per centre: a 1-5 quality item rescaled
to [0, 1] on a criterion with ``floor: 1`` (points = 1 + 9 x the mean), minutes waited scored by
``{type: range, worst: 60, best: 5}`` (clipped), and their sum (``svycontrast`` of ratios of
``svytotal``s, so the covariance of two items answered by the same people counts). ``n`` is
counted here from the data as people, not rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from r_support import run_r
from test_cli import run

pytestmark = pytest.mark.r

SE_TOLERANCE = 1e-8

SCHEME = """\
code: centres
name: {vi: Trung tâm phục vụ hành chính công, en: Public service centres}
groups:
  citizen: {questionnaire: centre_citizen, weighted: true, minimum_answers: 2}
totals: {survey: 20, total: 20}
rules:
  quality: {type: mean, values: [1, 2, 3, 4, 5]}
  waited: {type: range, worst: 60, best: 5}
survey:
  rule: quality
  combine: {citizen: 1}
fields:
  - code: "1"
    name: {vi: Trung tâm, en: Centre}
    criteria:
      - {code: "1.1", source: survey, max_points: 10, floor: 1, items: [q1], name: {vi: a, en: a}}
      - {code: "1.2", source: survey, max_points: 10, rule: waited, items: [minutes],
         name: {vi: b, en: b}}
"""

R_SCRIPT = r"""
suppressMessages(library(survey))
d <- read.csv("citizen.csv")
d$z1 <- (d$q1 - 1) / 4
d$z2 <- pmin(pmax((d$minutes - 60) / (5 - 60), 0), 1)
rows <- list()
for (ids in c("person", "commune")) {
  des <- if (ids == "person") {
    svydesign(ids = ~person, strata = ~district, weights = ~weight, data = d)
  } else {
    svydesign(ids = ~commune, strata = ~district, weights = ~weight, data = d)
  }
  b1 <- svyby(~z1, ~centre, des, svymean, na.rm = TRUE)
  b2 <- svyby(~z2, ~centre, des, svymean, na.rm = TRUE)
  for (u in unique(d$centre)) {
    in1 <- d$centre == u & !is.na(d$z1)
    in2 <- d$centre == u & !is.na(d$z2)
    dd <- d
    dd$a1 <- ifelse(in1, d$z1, 0); dd$v1 <- as.numeric(in1)
    dd$a2 <- ifelse(in2, d$z2, 0); dd$v2 <- as.numeric(in2)
    des2 <- update(des, a1 = dd$a1, v1 = dd$v1, a2 = dd$a2, v2 = dd$v2)
    t <- svytotal(~a1 + v1 + a2 + v2, des2)
    total <- svycontrast(t, quote(1 + 9 * a1 / v1 + 10 * a2 / v2))
    rows[[length(rows) + 1]] <- data.frame(
      ids = ids, centre = u,
      c1 = 1 + 9 * b1[b1$centre == u, "z1"], c1_se = 9 * b1[b1$centre == u, "se"],
      c2 = 10 * b2[b2$centre == u, "z2"], c2_se = 10 * b2[b2$centre == u, "se"],
      total = as.vector(coef(total)), total_se = as.vector(SE(total)))
  }
}
write.csv(do.call(rbind, rows), "r_weighted_cross.csv", row.names = FALSE)
"""


def ratings(seed: int) -> pd.DataFrame:
    """3 districts x 4 communes x 5 people; each person rates 1-3 of 4 centres."""
    rng = np.random.default_rng(seed)
    rows = []
    for district in range(3):
        for commune in range(4):
            for person in range(5):
                who = f"p{district}{commune}{person}"
                weight = float(rng.uniform(1, 6))
                for centre in rng.choice(4, size=int(rng.integers(1, 4)), replace=False):
                    q1 = float(rng.integers(1, 6)) if rng.random() > 0.1 else np.nan
                    minutes = float(rng.integers(1, 91)) if rng.random() > 0.15 else np.nan
                    rows.append(
                        {
                            "person": who,
                            "district": f"d{district}",
                            "commune": f"d{district}c{commune}",
                            "centre": f"centre_{centre}",
                            "weight": weight,
                            "q1": q1,
                            "minutes": minutes,
                        }
                    )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("cluster", [None, "commune"])
def test_weighted_cross_rating_matches_svydesign(rscript, tmp_path, cluster):
    data = ratings(14)
    assert data["person"].nunique() < len(data)  # people rate several centres
    data.to_csv(tmp_path / "citizen.csv", index=False)
    scheme = tmp_path / "schemes" / "scoring" / "centres.yaml"
    scheme.parent.mkdir(parents=True)
    scheme.write_text(SCHEME)
    args = ["score", "--scheme", str(scheme), "--data", "citizen=citizen.csv", "--unit", "centre"]
    args += ["--respondent", "person", "--strata", "district", "--out", "scores.csv"]
    if cluster:
        args += ["--cluster", cluster]
    done = run(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    run_r(rscript, R_SCRIPT, tmp_path)
    both = pd.read_csv(tmp_path / "r_weighted_cross.csv")
    theirs = both[both.ids == (cluster or "person")].set_index("centre")
    other = both[both.ids != (cluster or "person")].set_index("centre")
    # the two designs give other SEs, so matching one is matching its clustering
    assert (abs(other.total_se / theirs.total_se - 1) > 1e-3).all()
    ours = pd.read_csv(tmp_path / "scores.csv", dtype={"code": str, "group": str})
    ours["group"] = ours["group"].fillna("")
    for centre, r in theirs.iterrows():
        mine = ours[(ours.unit == centre) & (ours.group == "")]
        c1 = mine[(mine.kind == "criterion") & (mine.code == "1.1")].iloc[0]
        c2 = mine[(mine.kind == "criterion") & (mine.code == "1.2")].iloc[0]
        total = mine[(mine.kind == "total") & (mine.code == "all")].iloc[0]
        assert c1.estimate == pytest.approx(r.c1, abs=1e-10)
        assert c1.se == pytest.approx(r.c1_se, rel=SE_TOLERANCE)
        assert c2.estimate == pytest.approx(r.c2, abs=1e-10)
        assert c2.se == pytest.approx(r.c2_se, rel=SE_TOLERANCE)
        assert total.estimate == pytest.approx(r.total, abs=1e-10)
        assert total.se == pytest.approx(r.total_se, rel=SE_TOLERANCE)
        rated = data[data.centre == centre]
        assert c1.n == rated.loc[rated.q1.notna(), "person"].nunique()
        assert c2.n == rated.loc[rated.minutes.notna(), "person"].nunique()
    assert len(theirs) == 4
