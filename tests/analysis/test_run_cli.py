"""``python -m analysis run``: the whole chain on the hand-worked data, in the cases that once
gave a traceback or a point a unit did not earn (expected values from hand_scoring.py)."""

from __future__ import annotations

import json

import hand_scoring as hand
import numpy as np
import pandas as pd
import pytest
from hand_scoring import QUESTIONNAIRES, write_files
from test_cli import run

#: criterion 1.3 pooled over the leaders alone: f1_3 3, 3, 4, - -> 2/3, 2/3, 1: mean 7/9
LEADERS_1_3 = 7 / 9


def appraisal(units: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """Appraisal rows: unit -> (points of 1.1 of 2, points of 2.2 of 1)."""
    rows = []
    for code, (a11, a22) in units.items():
        for field, criterion, maximum, points in (("1", "1.1", 2, a11), ("2", "2.2", 1, a22)):
            rows.append(
                [code, f"Unit {code}", "provinces", field, criterion, maximum, maximum, points]
            )
    columns = ["unit_code", "unit_name", "block", "field", "criterion", "max_points"]
    return pd.DataFrame(rows, columns=[*columns, "self_points", "appraised_points"])


def chain(folder, *extra, groups=("leader", "delegate", "citizen")):
    data = [f"--data={g}={g}.csv" for g in groups]
    args = ["run", *data, "--scheme", "hand.yaml", "--questionnaires", str(QUESTIONNAIRES)]
    return run(folder, *args, *extra)


def read(folder, name) -> pd.DataFrame:
    text = {c: str for c in ("code", "group", "no_data", "weak_criteria")}
    table = pd.read_csv(folder / name, dtype=text)
    for column in ("group", "no_data", "weak_criteria"):
        if column in table:
            table[column] = table[column].fillna("")
    return table


def pick(scores, unit, kind, code, group=""):
    rows = scores[
        (scores.unit == unit)
        & (scores.kind == kind)
        & (scores.code == code)
        & (scores.group == group)
    ]
    assert len(rows) == 1, (unit, kind, code, group)
    return rows.iloc[0]


def test_a_province_with_no_weak_criterion(tmp_path):
    # every appraisal criterion at its maximum and every survey criterion above half: the
    # normal case of a province doing well, which once ended in a pandas traceback
    write_files(tmp_path)
    appraisal({"ha_tinh": (2, 1)}).to_csv(tmp_path / "appraisal.csv", index=False)
    done = chain(tmp_path, "--appraisal", "appraisal.csv", "--out", "out")
    assert done.returncode == 0, done.stderr
    index = read(tmp_path / "out", "index.csv")
    assert len(index) == 1 and index.loc[0, "weak_criteria"] == ""
    assert index.loc[0, "total_points"] == pytest.approx(3 + hand.ALL_TOTAL, abs=1e-12)
    assert index.loc[0, "rank"] == 1 and index.loc[0, "no_data"] == ""
    assert read(tmp_path / "out", "weak.csv").empty
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["unit_code"] == "ha_tinh" and summary["no_data"] == []
    assert {"weights.csv", "scores.csv", "index.csv", "weak.csv", "results.xlsx"} <= set(
        summary["files"]
    )


@pytest.fixture
def two_units(tmp_path):
    """u1 is rated by every group (the hand data); u2 by its leaders only."""
    write_files(tmp_path)
    leader = pd.concat([hand.LEADER.assign(unit="u1"), hand.LEADER.assign(unit="u2")])
    leader.to_csv(tmp_path / "leader.csv", index=False)
    hand.DELEGATE.assign(unit="u1").to_csv(tmp_path / "delegate.csv", index=False)
    hand.CITIZEN.assign(unit="u1").to_csv(tmp_path / "citizen.csv", index=False)
    appraisal({"u1": (2, 1), "u2": (2, 1)}).to_csv(tmp_path / "appraisal.csv", index=False)
    return tmp_path


def test_a_unit_without_delegates_gets_its_leaders_points(two_units):
    done = chain(two_units, "--unit", "unit", "--appraisal", "appraisal.csv", "--out", "out")
    assert done.returncode == 0, done.stderr
    scores = read(two_units / "out", "scores.csv")
    # u1: the hand-worked combination 0.6 leaders + 0.4 delegates
    assert pick(scores, "u1", "criterion", "1.2").estimate == pytest.approx(hand.CRITERION_1_2)
    # u2 has no delegates: the leaders' points alone (weights rescaled), not 0.6 x leaders
    u2 = pick(scores, "u2", "criterion", "1.2")
    assert u2.estimate == pytest.approx(hand.LEADER_1_2)
    # u2 is a domain of the 8 leaders' design (svyby): n / (n - 1) is 8/7, not 4/3 as alone
    assert u2.se == pytest.approx(3 * np.sqrt(hand.LEADER_MEAN_VAR * (8 / 7) / (4 / 3)))
    assert pick(scores, "u2", "criterion", "1.3").estimate == pytest.approx(LEADERS_1_3)


def test_a_unit_without_citizens_has_no_sipas_and_no_rank(two_units):
    done = chain(two_units, "--unit", "unit", "--appraisal", "appraisal.csv", "--out", "out")
    assert done.returncode == 0, done.stderr
    scores = read(two_units / "out", "scores.csv")
    for kind, code, group in (("sipas", "overall", "citizen"), ("criterion", "2.1", "")):
        row = pick(scores, "u2", kind, code, group)
        assert np.isnan(row.estimate) and np.isnan(row.se) and row.n == 0
        assert row.no_data == "True" and row.low_n
    assert np.isnan(pick(scores, "u2", "total", "all").estimate)
    survey = pick(scores, "u2", "total", "survey").estimate
    assert survey == pytest.approx(hand.LEADER_1_2 + LEADERS_1_3)
    assert pick(scores, "u1", "sipas", "overall", "citizen").estimate == pytest.approx(hand.SIPAS)

    index = read(two_units / "out", "index.csv").set_index("unit_code")
    assert index.loc["u2", "no_data"] == "2.1"
    assert np.isnan(index.loc["u2", "total_points"]) and np.isnan(index.loc["u2", "rank"])
    assert index.loc["u1", "rank"] == 1 and index.loc["u1", "units_in_block"] == 1
    assert index.loc["u2", "field_1_points"] == pytest.approx(2 + hand.LEADER_1_2 + LEADERS_1_3)
    summary = json.loads((two_units / "out" / "summary.json").read_text())
    assert "u2: 2.1" in summary["no_data"] and summary["unranked"] == 1


def test_a_group_missing_from_the_whole_wave(tmp_path):
    write_files(tmp_path)
    done = chain(tmp_path, "--unit-code", "ha_tinh", "--out", "out", groups=("leader", "citizen"))
    assert done.returncode == 0, done.stderr
    scores = read(tmp_path / "out", "scores.csv")
    assert pick(scores, "ha_tinh", "criterion", "1.2").estimate == pytest.approx(hand.LEADER_1_2)
    assert pick(scores, "ha_tinh", "criterion", "1.3").estimate == pytest.approx(LEADERS_1_3)
    assert not (scores.group == "delegate").any()
    total = pick(scores, "ha_tinh", "total", "all").estimate
    assert total == pytest.approx(hand.LEADER_1_2 + LEADERS_1_3 + hand.CRITERION_2_1)


def test_the_logit_interval_stays_inside_and_wald_on_request(tmp_path):
    write_files(tmp_path)
    for interval in ("logit", "wald"):
        done = chain(tmp_path, "--interval", interval, "--out", interval)
        assert done.returncode == 0, done.stderr
    logit = pick(read(tmp_path / "logit", "scores.csv"), "all", "sipas", "overall", "citizen")
    wald = pick(read(tmp_path / "wald", "scores.csv"), "all", "sipas", "overall", "citizen")
    assert logit.estimate == wald.estimate and logit.se == wald.se
    assert wald.ci_low == pytest.approx(wald.estimate - 1.959963984540054 * wald.se)
    # logit bounds: expit(logit(p) -/+ q se / (p (1 - p))) on the share, times 100
    p, s = logit.estimate / 100, logit.se / 100
    half = 1.959963984540054 * s / (p * (1 - p))
    logit_p = np.log(p / (1 - p))
    assert logit.ci_low == pytest.approx(100 / (1 + np.exp(-(logit_p - half))), rel=1e-12)
    assert logit.ci_high == pytest.approx(100 / (1 + np.exp(-(logit_p + half))), rel=1e-12)
    assert 0 <= logit.ci_low < logit.estimate < logit.ci_high <= 100


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--level", "95"], "confidence level must be between 0 and 1"),
        (["--level", "0"], "confidence level must be between 0 and 1"),
        (["--previous", "appraisal.csv"], "--previous needs --appraisal"),
        (["--method", "rake"], "needs population targets"),
        (["--appraisal", "other.csv"], "none of the appraisal file's units"),
        (["--fpc", "invited"], "no group's responses have the fpc column 'invited'"),
        (["--strata", "district", "--lonely-psu", "fail"], "has only one PSU"),
        (["--appraisal", "missing.csv"], "no such file"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(tmp_path, extra, message):
    write_files(tmp_path)
    citizen = hand.CITIZEN.assign(district=["a", "a", "b", "b", "c"])  # c is a lonely stratum
    citizen.to_csv(tmp_path / "citizen.csv", index=False)
    appraisal({"somewhere_else": (1, 1)}).to_csv(tmp_path / "other.csv", index=False)
    appraisal({"ha_tinh": (1, 1)}).to_csv(tmp_path / "appraisal.csv", index=False)
    done = chain(tmp_path, "--unit-code", "ha_tinh", *extra, "--out", "out")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert not (tmp_path / "out").exists()  # nothing half-written
