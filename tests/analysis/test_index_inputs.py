"""``python -m analysis index`` refuses an appraisal file or last year's index that is too long,
or that holds a number that is not finite, saying which file, row and column."""

from __future__ import annotations

import pandas as pd
import pytest
from test_cli import ROOT, run

from analysis.index import MAX_APPRAISAL_ROWS, MAX_PREVIOUS_ROWS, AppraisalError, read_previous
from analysis.scheme import load_scheme

SCHEME = ROOT / "questionnaires" / "scoring" / "departments_appraisal_example.yaml"
HEADER = "unit_code,unit_name,block,field,criterion,max_points,self_points,appraised_points"
#: What float() reads as a number that is not finite: 1e400 is inf.
NOT_FINITE = ["inf", "-inf", "nan", "1e400"]


def appraisal_lines(units: list[str]) -> list[str]:
    criteria = load_scheme(SCHEME).criteria.values()
    return [
        f"{unit},Sở {unit},departments,{c.field},{c.code},{c.max_points:g},{c.max_points:g},"
        f"{c.max_points / 2:g}"
        for unit in units
        for c in criteria
    ]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "appraisal.csv").write_text("\n".join([HEADER, *appraisal_lines(["d1", "d2"])]))
    (tmp_path / "last.csv").write_text("unit_code,rank,percent\nd1,2,61.5\nd2,1,70\n")
    return tmp_path


def index(files, *extra: str):
    done = run(files, "index", "--scheme", str(SCHEME), *extra, "--out", "index.csv")
    assert (done.returncode == 0) == (files / "index.csv").exists()
    return done


def test_the_files_as_they_should_be_give_the_changes(files):
    done = index(files, "--appraisal", "appraisal.csv", "--previous", "last.csv")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(files / "index.csv").set_index("unit_code")
    assert table.loc[["d1", "d2"], "previous_rank"].tolist() == [2, 1]
    assert table.loc["d1", "percent_change"] == pytest.approx(50 - 61.5)


@pytest.mark.parametrize("spelling", NOT_FINITE)
def test_a_number_that_is_not_finite_in_the_appraisal_file_is_refused(files, spelling):
    lines = (files / "appraisal.csv").read_text().splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + "," + spelling
    (files / "appraisal.csv").write_text("\n".join(lines) + "\n")
    done = index(files, "--appraisal", "appraisal.csv")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"appraisal file:4: appraised_points '{spelling}' is not a number" in done.stderr


@pytest.mark.parametrize("spelling", NOT_FINITE)
@pytest.mark.parametrize("column", ["rank", "percent"])
def test_a_number_that_is_not_finite_in_last_years_index_is_refused(files, spelling, column):
    last = "unit_code,rank,percent\nd1,2,61.5\n" + (
        f"d2,{spelling},70\n" if column == "rank" else f"d2,1,{spelling}\n"
    )
    (files / "last.csv").write_text(last)
    done = index(files, "--appraisal", "appraisal.csv", "--previous", "last.csv")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"error: last.csv:3: {column} '{spelling}' is not a number" in done.stderr


def test_every_bad_number_of_last_years_index_is_named_and_an_empty_one_is_none(tmp_path):
    path = tmp_path / "last.csv"
    path.write_text("unit_code,rank,percent\nd1,inf,61.5\nd2,,\nd3,1,lots\n")
    with pytest.raises(AppraisalError) as caught:
        read_previous(path)
    assert [(p.line, str(p.message)) for p in caught.value.problems] == [
        (2, "rank 'inf' is not a number"),
        (4, "percent 'lots' is not a number"),
    ]
    path.write_text("unit_code,rank,percent\nd1,2,61.5\nd2,,\n")
    previous = read_previous(path)
    assert previous["previous_rank"].isna().tolist() == [False, True]


def test_last_years_index_of_more_rows_than_the_limit_is_refused(files):
    rows = [f"u{n},{n + 1},50" for n in range(MAX_PREVIOUS_ROWS)]
    (files / "last.csv").write_text("\n".join(["unit_code,rank,percent", *rows]) + "\n")
    read_previous(files / "last.csv")  # the limit itself is read
    (files / "last.csv").write_text(
        "\n".join(["unit_code,rank,percent", *rows, "extra,1,50"]) + "\n"
    )
    done = index(files, "--appraisal", "appraisal.csv", "--previous", "last.csv")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert (
        "the previous index last.csv has more than 20,000 rows under its header; at most "
        "20,000 are read" in done.stderr
    )


def test_an_appraisal_file_of_more_rows_than_the_limit_is_refused(files):
    # 500,001 rows of a national file: the reader stops one row past the limit
    lines = appraisal_lines([f"d{n}" for n in range(MAX_APPRAISAL_ROWS // 20)])
    assert len(lines) == MAX_APPRAISAL_ROWS
    (files / "appraisal.csv").write_text("\n".join([HEADER, *lines, lines[0]]) + "\n")
    done = index(files, "--appraisal", "appraisal.csv")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert (
        "the appraisal file appraisal.csv has more than 500,000 rows under its header; at most "
        "500,000 are read" in done.stderr
    )


def test_whole_ranks_of_last_year_are_written_back_whole(files):
    done = index(files, "--appraisal", "appraisal.csv", "--previous", "last.csv")
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(files / "index.csv", dtype=str).set_index("unit_code")
    assert written.loc[["d1", "d2"], "previous_rank"].tolist() == ["2", "1"]


def test_a_huge_whole_rank_is_kept_as_read_not_wrapped_around_in_int64(tmp_path):
    path = tmp_path / "last.csv"
    path.write_text("unit_code,rank,percent\nd1,1e300,61.5\nd2,2,70\n")
    ranks = read_previous(path)["previous_rank"].tolist()
    assert ranks == [1e300, 2.0]
