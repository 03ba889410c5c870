"""Per-unit scoring in one pass: the batched domain variances equal those done unit by unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hand_scoring import QUESTIONNAIRES
from r_support import SHAPES, make_shape

import analysis.scoring as scoring
from analysis.estimate import Design
from analysis.questionnaire import read_questionnaire, variables
from analysis.scheme import load_scheme
from analysis.targets import targets_from_mapping
from analysis.weights import calibrate

RTOL = 1e-12


def one_by_one(design: Design, x: np.ndarray, domain: np.ndarray, n_domains: int) -> np.ndarray:
    """Each domain on its own: its variable (x times its indicator) over the full design."""
    return np.stack([design.variance(x * (domain == d)[:, None]) for d in range(n_domains)])


def shape_design(name: str, method: str | None) -> Design:
    shape = make_shape(name)
    data = shape.data
    base = data[shape.base_weight].to_numpy() if shape.base_weight else None
    cluster = data[shape.cluster] if shape.cluster else None
    if method is None:
        weights = base if base is not None else np.ones(len(data))
        return Design.build(weights, data[shape.strata], cluster)
    margins = {
        v: dict(zip(g.level, g.target, strict=True)) for v, g in shape.margins.groupby("variable")
    }
    result = calibrate(data, targets_from_mapping(margins), method, base)
    return Design.build(result.weights, data[shape.strata], cluster, result.calibration)


@pytest.mark.parametrize("method", [None, "linear", "raking"])
@pytest.mark.parametrize("name", SHAPES)
def test_domain_variance_equals_each_domain_on_its_own(name, method):
    design = shape_design(name, method)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(design.n, 4)) * rng.uniform(0.5, 3, design.n)[:, None]
    # seven domains, the last empty, and respondents in none
    domain = rng.integers(-1, 6, design.n)
    batched = design.domain_variance(x, domain, 7)
    assert batched.shape == (7, 4)
    np.testing.assert_allclose(batched, one_by_one(design, x, domain, 7), rtol=RTOL, atol=0)
    assert (batched[6] == 0).all() and (batched[:6] > 0).all()


def test_domains_crossing_strata_and_lonely_psus():
    """Domains that cut across strata and clusters; a stratum with one PSU left out."""
    rng = np.random.default_rng(3)
    n = 3000
    strata = rng.integers(0, 40, n)
    strata[strata == 39] = 38
    strata[:5] = 39  # one cluster only: a lonely PSU
    cluster = rng.integers(0, 6, n)
    cluster[:5] = 0
    design = Design.build(rng.uniform(1, 9, n), strata, cluster, lonely_psu="remove")
    x = rng.normal(size=(n, 3))
    domain = rng.integers(0, 25, n)
    batched = design.domain_variance(x, domain, 25)
    np.testing.assert_allclose(batched, one_by_one(design, x, domain, 25), rtol=RTOL, atol=0)


def test_a_missing_value_spreads_as_unit_by_unit():
    design = shape_design("clusters", None)
    x = np.random.default_rng(1).normal(size=(design.n, 2))
    x[10, 1] = np.nan
    domain = np.arange(design.n) % 3
    batched = design.domain_variance(x, domain, 3)
    np.testing.assert_array_equal(np.isnan(batched[:, 1]), True)
    np.testing.assert_allclose(batched, one_by_one(design, x, domain, 3), rtol=RTOL, atol=0)


def national(seed: int = 2, provinces: int = 7) -> dict[str, pd.DataFrame]:
    """Export-shaped responses for a few provinces; citizens' strata cut across provinces."""
    rng = np.random.default_rng(seed)
    tables = {}
    for group, n in (("leader", 400), ("delegate", 150), ("citizen", 1200)):
        columns = {}
        for v in variables(read_questionnaire(QUESTIONNAIRES, group)):
            if v.values and all(isinstance(x, int) for x in v.values):
                answers = rng.choice(v.values, n).astype(float)
                answers[rng.random(n) < 0.15] = np.nan  # don't know
                columns[v.name] = answers
        table = pd.DataFrame(columns)
        # the last province has no citizens
        rated = provinces - (group == "citizen")
        table["province"] = [f"p{i}" for i in rng.integers(0, rated, n)]
        tables[group] = table
    citizen = tables["citizen"]
    citizen["district"] = [f"d{i}" for i in rng.integers(0, 12, len(citizen))]
    citizen["commune"] = rng.integers(0, 5, len(citizen))
    citizen["weight"] = rng.uniform(20, 300, len(citizen))
    return tables


def unit_by_unit(estimates, samples, d):
    """The variances as computed before batching: one full-design variance per unit."""
    variance = np.zeros((len(estimates), d))
    for g, sample in samples.items():
        which = [i for i, e in enumerate(estimates) if g in e.influence]
        if not which:
            continue
        matrix = np.nan_to_num(np.column_stack([estimates[i].influence[g] for i in which]))
        for u in range(d):
            inside = sample.unit == u
            if inside.any():
                variance[which, u] += sample.design.variance(matrix * inside[:, None])
    return variance


@pytest.fixture(scope="module")
def scheme():
    return load_scheme(QUESTIONNAIRES / "scoring" / "par2022.yaml", QUESTIONNAIRES)


@pytest.mark.parametrize("design", [{}, {"strata": "district", "cluster": "commune"}])
def test_per_unit_scores_equal_those_done_unit_by_unit(scheme, monkeypatch, design):
    data = national()
    batched = scoring.score(scheme, data, unit="province", **design).table
    monkeypatch.setattr(scoring, "_variances", unit_by_unit)
    reference = scoring.score(scheme, data, unit="province", **design).table
    assert batched.shape == reference.shape and len(batched.unit.unique()) == 7
    numbers = ["estimate", "se", "ci_low", "ci_high", "max_points"]
    pd.testing.assert_frame_equal(batched.drop(columns=numbers), reference.drop(columns=numbers))
    for column in numbers:
        np.testing.assert_allclose(batched[column], reference[column], rtol=RTOL, atol=0)
    assert batched.se.notna().sum() > 0.9 * len(batched)


def test_per_unit_scoring_takes_one_pass_per_group(scheme, monkeypatch):
    """No unit-by-unit design variance: 63 units cost one batched call per group."""
    data = national(provinces=63)

    def refuse(self, influence):
        raise AssertionError("a design variance per unit")

    monkeypatch.setattr(Design, "variance", refuse)
    table = scoring.score(scheme, data, unit="province", strata="district").table
    assert table.unit.nunique() == 63
