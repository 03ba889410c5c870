"""Weights and estimates without R: identities every implementation must satisfy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.estimate import Design, EstimationError, estimate
from analysis.targets import TargetError, read_targets, targets_from_mapping
from analysis.weights import (
    WeightingError,
    calibrate,
    design_weights,
    nonresponse_adjust,
    poststratify,
    rake,
    trim_weights,
)


@pytest.fixture
def sample():
    rng = np.random.default_rng(3)
    n = 400
    return pd.DataFrame(
        {
            "sex": rng.choice(["f", "m"], n, p=[0.6, 0.4]),
            "age": rng.choice([1, 2, 3], n, p=[0.5, 0.3, 0.2]),
            "w0": rng.uniform(1, 4, n),
            "q": rng.integers(1, 6, n).astype(float),
        }
    )


TARGETS = targets_from_mapping({"sex": {"f": 500, "m": 500}, "age": {1: 300, 2: 400, 3: 300}})


def test_rake_equals_raking_calibration_and_hits_margins(sample):
    ipf = rake(sample, TARGETS, base_weight=sample.w0)
    newton = calibrate(sample, TARGETS, "raking", base_weight=sample.w0)
    assert ipf.converged and newton.converged
    np.testing.assert_allclose(ipf.weights, newton.weights, rtol=1e-9)
    fit = ipf.margin_fit()
    assert fit["rel_error"].abs().max() < 1e-10
    assert ipf.weights.sum() == pytest.approx(1000, rel=1e-12)


def test_poststratify_reproduces_crossed_cells(sample):
    counts = sample.groupby(["sex", "age"]).size()
    cells = {f"{s}:{a}": 10.0 * c for (s, a), c in counts.items()}
    result = poststratify(sample, targets_from_mapping({"sex:age": cells}), sample.w0)
    got = pd.Series(result.weights).groupby([sample.sex, sample.age]).sum()
    for (s, a), value in got.items():
        assert value == pytest.approx(cells[f"{s}:{a}"], rel=1e-12)


def test_logit_weights_stay_within_bounds(sample):
    result = calibrate(sample, TARGETS, "logit", sample.w0, bounds=(0.5, 2.5))
    g = result.weights / sample.w0
    assert result.converged and g.min() >= 0.5 and g.max() <= 2.5


def test_bad_targets_are_refused(sample):
    with pytest.raises(WeightingError, match="same total"):
        rake(sample, targets_from_mapping({"sex": {"f": 1, "m": 1}, "age": {1: 1, 2: 1, 3: 1}}))
    with pytest.raises(WeightingError, match="no target"):
        rake(sample, targets_from_mapping({"sex": {"f": 2}, "age": {1: 1, 2: 1}}))
    with pytest.raises(WeightingError, match="empty cells"):
        rake(sample.assign(sex=sample.sex.where(sample.index > 0)), TARGETS)
    with pytest.raises(WeightingError, match="positive"):
        rake(sample, TARGETS, base_weight=sample.w0 - 2)


def test_read_targets_refuses_a_column_given_twice(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("variable,level,target,target\nsex,male,10,99\nsex,female,10,1\n")
    with pytest.raises(TargetError, match="the column target appears twice"):
        read_targets(path)


def test_read_targets_checks_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("variable,level,target\nsex,f,abc\n")
    with pytest.raises(TargetError, match="not a number"):
        read_targets(path)
    path.write_text("variable,level,target\nsex:age,f,3\n")
    with pytest.raises(TargetError, match="2 parts"):
        read_targets(path)


def test_read_targets_reads_at_most_100000_rows(tmp_path):
    path = tmp_path / "t.csv"
    rows = [f"district,d{n},1" for n in range(100_000)]
    path.write_text("\n".join(["variable,level,target", *rows]) + "\n")
    assert len(read_targets(path).margins[0].levels) == 100_000
    path.write_text("\n".join(["variable,level,target", *rows, "district,extra,1"]) + "\n")
    with pytest.raises(TargetError, match="t.csv has more than 100,000 rows under its header"):
        read_targets(path)


def test_trim_keeps_total_and_spreads_equally():
    w = np.array([1.0, 2.0, 3.0, 10.0])
    trimmed, count = trim_weights(w, upper=6)
    assert count == 1 and trimmed.sum() == pytest.approx(w.sum())
    np.testing.assert_allclose(trimmed, [1 + 4 / 3, 2 + 4 / 3, 3 + 4 / 3, 6])
    strict, _ = trim_weights([1.0, 1.0, 1.0, 1.0, 30.0], upper=8, strict=True)
    assert strict.max() <= 8 + 1e-12 and strict.sum() == pytest.approx(34)
    with pytest.raises(WeightingError, match="widen"):
        trim_weights([1.0, 1.0, 1.0, 30.0], upper=8, strict=True)


def test_design_weights_and_nonresponse():
    w = design_weights(["a", "a", "b"], {"a": 100, "b": 30})
    np.testing.assert_allclose(w, [50, 50, 30])
    adjusted = nonresponse_adjust([10, 10, 10, 5], ["x", "x", "x", "y"], [1, 1, 0, 1])
    np.testing.assert_allclose(adjusted, [15, 15, 0, 5])
    with pytest.raises(WeightingError, match="no respondents"):
        nonresponse_adjust([1, 1], ["x", "y"], [1, 0])


def test_srs_mean_se_is_s_over_root_n(sample):
    design = Design.build(np.ones(len(sample)))
    row = estimate(sample, ["q"], design).iloc[0]
    q = sample.q.to_numpy()
    assert row.estimate == pytest.approx(q.mean(), rel=1e-14)
    assert row.se == pytest.approx(q.std(ddof=1) / math.sqrt(len(q)), rel=1e-12)
    assert row.ci_high - row.estimate == pytest.approx(1.959963984540054 * row.se, rel=1e-12)


def test_lonely_psu_fails_like_survey():
    with pytest.raises(EstimationError, match="only one PSU"):
        Design.build(np.ones(3), strata=["a", "a", "b"])
    design = Design.build(np.ones(3), strata=["a", "a", "b"], lonely_psu="remove")
    assert design.psu_scale[2] == 0
