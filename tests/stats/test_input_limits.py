"""The statistician's uploads of an appraisal file and of last year's index, and score-wave's
files: a number that is not finite, a file of too many rows or a workbook of too many cells is
refused with the file, row and column or the limit, and nothing is kept."""

from __future__ import annotations

import io

from hostile_files import sparse_workbook
from sqlalchemy import func, select
from test_stats import PREVIOUS, app, appraisal_csv, stats_app, token  # noqa: F401 - fixtures

from analysis.file_limits import MAX_COLUMNS, MAX_WORKBOOK_CELLS
from analysis.index import MAX_PREVIOUS_ROWS
from survey_app.extensions import db
from survey_app.models import StoredFile

#: What float() reads as a number that is not finite: 1e400 is inf.
NOT_FINITE = ["inf", "-inf", "nan", "1e400"]


def upload(client, kind: str, name: str, content: bytes):
    return client.post(
        "/en/stats/waves/demo/inputs",
        data={"csrf_token": token(client), "kind": kind, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def refused(response) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code == 400, body[:2000]
    assert "The file was not accepted" in body
    return body


def stored(flask_app) -> int:
    with flask_app.app_context():
        return db.session.scalar(select(func.count()).select_from(StoredFile))


def test_numbers_that_are_not_finite_are_refused_with_row_and_column(client, auth):
    auth.login("statistician")
    before = stored(client.application)
    lines = appraisal_csv().splitlines()
    for spelling in NOT_FINITE:
        bad = [*lines[:2], lines[2].rsplit(",", 1)[0] + "," + spelling, *lines[3:]]
        body = refused(upload(client, "appraisal", "a.csv", "\n".join(bad).encode()))
        assert f"a.csv:3: appraised_points &#39;{spelling}&#39; is not a number" in body
        for column, row in (("rank", f"ha_tinh,{spelling},80.5"), ("percent", f"u2,1,{spelling}")):
            previous = f"{PREVIOUS}{row}\n".encode()
            body = refused(upload(client, "previous", "p.csv", previous))
            assert f"p.csv:3: {column} &#39;{spelling}&#39; is not a number" in body
    assert stored(client.application) == before
    # the same files, finite, are taken
    assert upload(client, "previous", "p.csv", PREVIOUS.encode()).status_code == 302
    assert stored(client.application) == before + 1


def test_too_many_rows_or_cells_are_refused_with_the_limit(client, auth):
    auth.login("statistician")
    before = stored(client.application)
    rows = "".join(f"u{n},{n + 1},50\n" for n in range(MAX_PREVIOUS_ROWS + 1))
    long = f"unit_code,rank,percent\n{rows}".encode()
    assert len(long) < 512 * 1024  # under the upload limit: only the row limit refuses it
    body = refused(upload(client, "previous", "long.csv", long))
    assert (
        "the previous index long.csv has more than 20,000 rows under its header; at most "
        "20,000 are read" in body
    )
    wide = sparse_workbook(MAX_WORKBOOK_CELLS // MAX_COLUMNS + 1)
    body = refused(upload(client, "appraisal", "wide.xlsx", wide))
    assert "more than 2,000,000 cells" in body and "wide.xlsx" in body
    assert stored(client.application) == before


def test_score_wave_refuses_a_previous_index_that_is_not_finite(client, tmp_path):
    (tmp_path / "a.csv").write_text(appraisal_csv())
    (tmp_path / "p.csv").write_text("unit_code,rank,percent\nha_tinh,3,1e400\n")
    runner = client.application.test_cli_runner()
    out = tmp_path / "out"
    result = runner.invoke(
        args=["score-wave", "--wave", "demo", "--appraisal", str(tmp_path / "a.csv"),
              "--previous", str(tmp_path / "p.csv"), "--out", str(out)]
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'p.csv'}:2: percent '1e400' is not a number" in result.output
    assert not out.exists()
