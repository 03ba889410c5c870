"""``python -m analysis`` end to end: tables in and out, and one clear line for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]

DATA = """id,sex,age,w0,q1,w_bad
1,female,young,10,4,1
2,female,old,12,5,1
3,male,young,8,,0
4,male,old,9,2,1
5,female,young,11,3,1
6,male,old,10,4,1
7,female,old,9,1,1
8,male,young,12,5,1
"""
TARGETS = """variable,level,target
sex,female,52
sex,male,48
age,young,45
age,old,55
"""


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture
def files(tmp_path):
    (tmp_path / "d.csv").write_text(DATA)
    (tmp_path / "t.csv").write_text(TARGETS)
    return tmp_path


def test_weight_then_estimate(files):
    done = run(
        files, "weight", "--data", "d.csv", "--targets", "t.csv", "--method", "rake",
        "--base-weight", "w0", "--out", "w.csv", "--report", "r.json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    weighted = pd.read_csv(files / "w.csv")
    assert list(weighted.columns) == ["id", "sex", "age", "w0", "q1", "w_bad", "weight"]
    assert weighted.groupby("sex")["weight"].sum()["female"] == pytest.approx(52, rel=1e-10)
    report = json.loads((files / "r.json").read_text())
    assert report["converged"] and report["max_abs_rel_error"] < 1e-10
    assert {m["variable"] for m in report["margins"]} == {"sex", "age"}
    assert report["kish_deff"] >= 1

    done = run(
        files, "estimate", "--data", "w.csv", "--items", "q1", "--weight", "weight",
        "--by", "sex", "--share", "4,5", "--out", "e.csv",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(files / "e.csv", keep_default_na=False)
    assert list(table.columns) == [
        "item", "by", "domain", "n", "estimate", "se", "ci_low", "ci_high", "deff"
    ]  # fmt: skip
    assert list(table["domain"]) == ["", "female", "male"]
    assert list(table["n"]) == [7, 4, 3]  # the missing answer is left out of every count


BAD = {
    "level_without_target": (
        "variable,level,target\nsex,female,52\nage,young,45\nage,old,7\n",
        [],
        "is in the data but has no target",
    ),
    "target_absent_from_data": (
        TARGETS.replace("age,old,55", "age,old,50") + "age,middle,5\n",
        [],
        "has no respondents",
    ),
    "totals_differ": (
        TARGETS.replace("age,old,55", "age,old,60"),
        [],
        "do not add to the same total",
    ),
    "non_positive_weight": (TARGETS, ["--base-weight", "w_bad"], "must be positive"),
    "no_convergence": (TARGETS, ["--method", "logit", "--bounds", "0.99,1.01"], "did not converge"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_one_line_exit_2_nothing_written(files, case):
    targets, extra, message = BAD[case]
    (files / "t.csv").write_text(targets)
    method = [] if "--method" in extra else ["--method", "raking"]
    done = run(
        files, "weight", "--data", "d.csv", "--targets", "t.csv", *method, *extra,
        "--out", "w.csv", "--report", "r.json",
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr
    assert done.stdout == ""
    assert sorted(p.name for p in files.iterdir()) == ["d.csv", "t.csv"]


def test_non_convergence_names_the_margin(files):
    done = run(
        files, "weight", "--data", "d.csv", "--targets", "t.csv", "--method", "logit",
        "--bounds", "0.99,1.01", "--out", "w.csv",
    )  # fmt: skip
    assert "sex=" in done.stderr or "age=" in done.stderr


def test_estimate_bad_item_is_one_line(files):
    done = run(files, "estimate", "--data", "d.csv", "--items", "q9", "--out", "e.csv")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --items column 'q9' is not in the data"
    assert not (files / "e.csv").exists()
