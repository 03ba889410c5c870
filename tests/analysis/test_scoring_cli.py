"""``python -m analysis score|index|check-scheme`` on the hand-worked data set."""

from __future__ import annotations

import hand_scoring as hand
import pandas as pd
import pytest
from hand_scoring import QUESTIONNAIRES, write_files
from test_cli import run


@pytest.fixture
def files(tmp_path):
    write_files(tmp_path)
    appraisal = pd.DataFrame(
        {
            "unit_code": ["ha_tinh", "ha_tinh"],
            "unit_name": ["Hà Tĩnh", "Hà Tĩnh"],
            "block": ["provinces", "provinces"],
            "field": ["1", "2"],
            "criterion": ["1.1", "2.2"],
            "max_points": [2, 1],
            "self_points": [2, 1],
            "appraised_points": [1.5, 0],
        }
    )
    appraisal.to_csv(tmp_path / "appraisal.csv", index=False)
    return tmp_path


def score_args(files, *extra):
    return [
        "score",
        "--data",
        "leader=leader.csv",
        "--data",
        "delegate=delegate.csv",
        "--data",
        "citizen=citizen.csv",
        "--scheme",
        "hand.yaml",
        "--questionnaires",
        str(QUESTIONNAIRES),
        "--unit-code",
        "ha_tinh",
        *extra,
    ]


def test_score_then_index(files):
    done = run(files, *score_args(files), "--out", "scores.csv")
    assert done.returncode == 0, done.stderr
    scores = pd.read_csv(files / "scores.csv", dtype={"code": str, "group": str})
    scores["group"] = scores["group"].fillna("")
    total = scores[(scores.kind == "total") & (scores.code == "all")].iloc[0]
    assert total.unit == "ha_tinh" and total.block == "provinces"
    assert total.estimate == pytest.approx(hand.ALL_TOTAL, abs=1e-12)
    crit = scores[(scores.kind == "criterion") & (scores.code == "1.2") & (scores.group == "")]
    assert crit.iloc[0].se == pytest.approx(hand.CRITERION_1_2_SE, abs=1e-12)

    done = run(
        files,
        "index",
        "--scheme",
        "hand.yaml",
        "--survey",
        "scores.csv",
        "--appraisal",
        "appraisal.csv",
        "--out",
        "index.csv",
        "--weak",
        "weak.csv",
    )
    assert done.returncode == 0, done.stderr
    index = pd.read_csv(files / "index.csv").iloc[0]
    # 1.5 + 0 appraised, plus 5.159524 survey points, of 11
    assert index.total_points == pytest.approx(1.5 + hand.ALL_TOTAL, abs=1e-12)
    assert index.percent == pytest.approx(100 * (1.5 + hand.ALL_TOTAL) / 11)
    assert index["rank"] == 1 and index.band == "D"
    assert index.survey_se == pytest.approx(total.se)
    weak = pd.read_csv(files / "weak.csv", dtype={"criterion": str})
    assert weak.criterion.tolist() == ["2.2"]  # 0 of 1; 1.3 (0.73/1) and 2.1 (2.52/4) are not

    # last year's file gives the changes
    (files / "last.csv").write_text("unit_code,rank,percent\nha_tinh,3,40\n")
    done = run(
        files,
        "index",
        "--scheme",
        "hand.yaml",
        "--survey",
        "scores.csv",
        "--appraisal",
        "appraisal.csv",
        "--previous",
        "last.csv",
        "--out",
        "index2.csv",
    )
    assert done.returncode == 0, done.stderr
    again = pd.read_csv(files / "index2.csv").iloc[0]
    assert again.rank_change == 2 and again.percent_change == pytest.approx(index.percent - 40)


def test_one_file_with_a_group_column(files):
    stacked = pd.concat(
        [
            hand.LEADER.assign(group="leader"),
            hand.DELEGATE.assign(group="delegate"),
            hand.CITIZEN.assign(group="citizen"),
        ]
    )
    stacked.to_csv(files / "all.csv", index=False)
    done = run(files, "score", "--data", "all.csv", "--scheme", "hand.yaml", "--out", "s.csv")
    assert done.returncode == 0, done.stderr
    scores = pd.read_csv(files / "s.csv")
    assert scores[scores.code == "all"].estimate.iloc[0] == pytest.approx(hand.ALL_TOTAL)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "leader=missing.csv"], "cannot read data missing.csv: no such file"),
        (["--data", "leader=leader.csv", "--data", "citizen.csv"], "name each one's group"),
        (["--data", "mayor=leader.csv"], "the group 'mayor', which the scheme hand does not know"),
        (["--data", "citizen=leader.csv"], "no weight column 'weight'"),
    ],
)
def test_score_bad_input_is_one_line(files, args, message):
    done = run(files, "score", *args, "--scheme", "hand.yaml", "--out", "s.csv")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert not (files / "s.csv").exists()


def test_bad_scheme_is_one_line_and_check_scheme_lists_all(files):
    text = (files / "hand.yaml").read_text()
    text = text.replace("totals: {appraisal: 3,", "totals: {appraisal: 4,").replace(
        "{code: A, min: 90}", "{code: A, min: 90, colour: red}"
    )
    (files / "bad.yaml").write_text(text)
    done = run(
        files, *score_args(files, "--out", "s.csv")[:-4], "--scheme", "bad.yaml", "--out", "s.csv"
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: bad.yaml:8: totals.appraisal: is 4 but")
    assert "(and 1 more; python -m analysis check-scheme bad.yaml lists them)" in done.stderr
    assert not (files / "s.csv").exists()
    listed = run(files, "check-scheme", "bad.yaml")
    assert listed.returncode == 2 and listed.stderr.count("\n") == 2
    fine = run(files, "check-scheme", "hand.yaml", "--questionnaires", str(QUESTIONNAIRES))
    assert fine.returncode == 0 and "no problems" in fine.stdout


def test_index_bad_appraisal_is_one_line(files):
    assert run(files, *score_args(files), "--out", "scores.csv").returncode == 0
    text = (files / "appraisal.csv").read_text().replace(",1.5\n", ",2.5\n")
    (files / "bad.csv").write_text(text)
    done = run(
        files,
        "index",
        "--scheme",
        "hand.yaml",
        "--survey",
        "scores.csv",
        "--appraisal",
        "bad.csv",
        "--out",
        "index.csv",
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "appraisal file:2: appraised_points 2.5 is outside 0 to the maximum 2" in done.stderr
    assert not (files / "index.csv").exists()


@pytest.mark.parametrize("spelling", ["inf", "-inf", "nan", "1e400"])
def test_a_scores_file_with_a_number_that_is_not_finite_is_refused(files, spelling):
    assert run(files, *score_args(files), "--out", "scores.csv").returncode == 0
    lines = (files / "scores.csv").read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[3].split(",")
    cells[header.index("estimate")] = spelling
    lines[3] = ",".join(cells)
    (files / "scores.csv").write_text("\n".join(lines) + "\n")
    done = run(
        files,
        *("index", "--scheme", "hand.yaml", "--survey", "scores.csv"),
        *("--appraisal", "appraisal.csv", "--out", "i.csv"),
    )
    assert done.returncode == 2, done.stderr
    assert f"scores.csv:4: estimate '{spelling}' is not a number" in done.stderr
    assert not (files / "i.csv").exists()
