"""A block's results from two final rounds, checked against values worked out by hand: ranks,
field ranks, changes against last year, bands, criteria at 0 and the generated accounts, in
English and Vietnamese."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
from app_support import ROOT
from appraisal_support import make_units, scope
from html_client import csrf_token
from sqlalchemy import select
from test_cli import run

from analysis.index import SurveyPoints, build_index, check_appraisal
from survey_app import storage
from survey_app.appraisal import criteria as criteria_mod
from survey_app.appraisal import operations as ops
from survey_app.extensions import db
from survey_app.models import AnalysisRun, AppraisalRound, RatedUnit, Wave
from survey_app.stats import services as stats_services

SCHEME = "departments_appraisal_example.yaml"
#: unit: the share of each criterion's maximum it gets, per year (hand-picked: see below)
SHARES = {
    2024: {"P": 0.6, "Q": 0.8, "R": 0.7},
    2025: {"P": 1.0, "Q": 0.8, "R": 0.9},
}


def _final_round(app, year: int) -> int:
    """A final round of the year, the council's points being the shares above (in 2025, P's
    initiatives 1.4 at 0)."""
    with app.app_context(), db.transaction() as tx:
        appraisal_round = ops.open_round(
            tx, year, "departments", SCHEME, dt.datetime(year, 12, 1), points_step=0.05
        )
        for unit in tx.scalars(select(RatedUnit).order_by(RatedUnit.code)):
            unit_return = ops.unit_return(tx, appraisal_round, unit)
            entries = {}
            for c in criteria_mod.of_round(appraisal_round):
                share = SHARES[year][unit.code]
                if year == 2025 and unit.code == "P" and c.code == "1.4":
                    share = 0
                entries[c.code] = ops.PointsEntry(round(c.max_points * share, 2), "not submitted")
            ops.save_appraisal(tx, appraisal_round, unit_return, entries, "council@example.vn")
        ops.finalise(tx, appraisal_round)
        return appraisal_round.id


def test_results_worked_out_by_hand(app, client, auth, tmp_path):
    units = make_units(app, units={"P": "Department P", "Q": "Department Q", "R": "Department R"})
    _final_round(app, 2024)
    round_id = _final_round(app, 2025)
    auth.ensure_user("officer", "p@example.vn")
    scope(app, "p@example.vn", unit_id=units["P"])
    auth.login(email="p@example.vn")
    page = client.get(f"/en/appraisal/rounds/{round_id}/results")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # 2024: Q 56 (80 %), R 49 (70 %), P 42 (60 %); 2025: P 68.5 (97.86 %), R 63 (90 %), Q 56 (80 %)
    row_p = text.split('id="unit-P"')[1].split("</tr>")[0]
    assert "<td>1/3</td>" in row_p and "68.5/70" in row_p and "97.86" in row_p
    assert "+2" in row_p and "+37.86" in row_p and "Group A" in row_p
    # P's direction of reform: 8.5 of 10 (85 %), second in the block after R's 90 %
    assert "<td>8.5 (85.00)</td><td>2</td>" in row_p
    row_q = text.split('id="unit-Q"')[1].split("</tr>")[0]
    assert "<td>3/3</td>" in row_q and "<td>-2</td>" in row_q and "Group B" in row_q
    assert "up 2 places, from rank 3 to rank 1: 6 of 7 fields at their maximum" in text
    assert (
        "the same rank as last year, 2: 7 of 7 fields near their maximum, Direction of reform "
        "ranked 1 in the block"
    ) in text
    assert "down 2 places, from rank 1 to rank 3: 7 of 7 fields ranked 3 in the block" in text
    assert "Initiatives 0/1.5" in text
    vi = client.get(f"/vi/appraisal/rounds/{round_id}/results").get_data(as_text=True)
    assert "Sáng kiến, giải pháp mới 0/1,5" in vi and "97,86" in vi and "Loại A" in vi
    auth.logout()

    # the exported appraisal file gives the same index through python -m analysis index
    auth.login("admin")
    exported = client.get(f"/en/appraisal/rounds/{round_id}/appraisal.csv")
    (tmp_path / "appraisal.csv").write_bytes(exported.data)
    done = run(
        tmp_path,
        "index",
        "--scheme",
        str(ROOT / "questionnaires" / "scoring" / SCHEME),
        "--appraisal",
        "appraisal.csv",
        "--out",
        "index.csv",
    )
    assert done.returncode == 0, done.stderr
    index = pd.read_csv(tmp_path / "index.csv").set_index("unit_code")
    assert index["rank"].to_dict() == {"P": 1, "R": 2, "Q": 3}
    assert index["published_percent"].to_dict() == {"P": 97.86, "R": 90.0, "Q": 80.0}
    assert index["total_points"].to_dict() == {"P": 68.5, "R": 63.0, "Q": 56.0}
    assert index.loc["P", "field_1_rank"] == 2 and index.loc["P", "band"] == "A"


def test_results_wait_for_the_final_round_and_stay_in_the_block(app, client, auth):
    units = make_units(app, units={"P": "Department P"})
    other = make_units(app, block="districts", units={"X": "District X"})
    with app.app_context(), db.transaction() as tx:
        round_id = ops.open_round(tx, 2025, "departments", SCHEME, dt.datetime(2030, 1, 1)).id
    auth.ensure_user("officer", "p@example.vn")
    scope(app, "p@example.vn", unit_id=units["P"])
    auth.login(email="p@example.vn")
    early = client.get(f"/en/appraisal/rounds/{round_id}/results")
    assert early.status_code == 409
    assert "The results come when the round is final." in early.get_data(as_text=True)
    auth.logout()
    auth.ensure_user("officer", "x@example.vn")
    scope(app, "x@example.vn", unit_id=other["X"])
    auth.login(email="x@example.vn")
    assert client.get(f"/en/appraisal/rounds/{round_id}/results").status_code == 404


def _survey_round(app, year: int, shares: dict[str, float]) -> int:
    """A final round of departments_example (survey criteria too), the council giving each unit
    its share of every appraisal criterion's maximum."""
    with app.app_context(), db.transaction() as tx:
        appraisal_round = ops.open_round(
            tx, year, "departments", "departments_example.yaml", dt.datetime(year, 12, 1)
        )
        for unit in tx.scalars(select(RatedUnit).order_by(RatedUnit.code)):
            unit_return = ops.unit_return(tx, appraisal_round, unit)
            entries = {
                c.code: ops.PointsEntry(c.max_points * shares[unit.code], "council")
                for c in criteria_mod.of_round(appraisal_round)
            }
            ops.save_appraisal(tx, appraisal_round, unit_return, entries, "council@example.vn")
        ops.finalise(tx, appraisal_round)
        return appraisal_round.id


def _give_to_wave(client, round_id: int, wave_code: str) -> None:
    """The admin's "Use in the index" on the round's page."""
    page = client.get(f"/en/appraisal/rounds/{round_id}").get_data(as_text=True)
    sent = client.post(
        f"/en/appraisal/rounds/{round_id}/index-input",
        data={"csrf_token": csrf_token(page), "wave": wave_code},
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)


def _finished_run(app, wave_code: str, survey_shares: dict[str, float]) -> int:
    """A finished run of the wave as the statisticians' page starts it (its parameters from the
    wave's inputs, the appraisal file included), its index built as the chain builds it from the
    wave's appraisal file and these survey points."""
    from analysis import pipeline

    with app.app_context(), db.transaction() as tx:
        wave = tx.scalars(select(Wave).where(Wave.code == wave_code)).one()
        params = stats_services.run_parameters(
            tx, wave, "departments_example.yaml", pipeline.Parameters(), True, False
        )
        scheme = criteria_mod.load("departments_example.yaml")
        content = storage.get(tx, f"inputs/{wave.id}/{params.appraisal}")
        table = pd.read_csv(io.BytesIO(content), dtype=str)
        survey = pd.DataFrame(
            [
                {
                    "unit": unit,
                    "code": c.code,
                    "estimate": c.max_points * share,
                    "se": 0.1,
                    "low_n": False,
                }
                for unit, share in survey_shares.items()
                for c in scheme.criteria.values()
                if c.source == "survey"
            ]
        )
        index = build_index(scheme, check_appraisal(scheme, table), SurveyPoints(survey, {}))
        run = AnalysisRun(
            wave_id=wave.id,
            status="done",
            parameters=params.as_json(),
            created_by="statistician@example.vn",
        )
        tx.add(run)
        tx.flush()
        for name, frame in (("index", index.table), ("weak", index.weak)):
            storage.put(tx, f"runs/{run.id}/out/{name}.csv", frame.to_csv(index=False).encode())
        return run.id


def _ranks(text: str) -> dict[str, tuple[str, str]]:
    """unit: (rank, total) of a results page."""
    found = {}
    for unit in ("D1", "D2", "D3"):
        row = text.split(f'id="unit-{unit}"')[1].split("</tr>")[0]
        cells = row.split("<td>")
        found[unit] = (cells[1].split("</td>")[0], row.split("/100")[0].rsplit(">", 1)[-1])
    return found


def test_each_round_shows_the_run_of_its_own_points(app, client, auth):
    """Two rounds of departments_example (it has survey criteria), each given to the wave and
    run: each round's results are its own run's, though the other round's run is newer and of
    the same scheme; a round whose points no run used yet says so, and where to start one."""
    make_units(app)
    with app.app_context():
        wave_code = db.session.scalars(select(Wave.code).order_by(Wave.id)).first()
    # appraisal 70 points, survey 30: 2024 D3 56+15, D1 70+0, D2 35+30
    first = _survey_round(app, 2024, {"D1": 1.0, "D2": 0.5, "D3": 0.8})
    auth.login("admin")
    none_yet = client.get(f"/en/appraisal/rounds/{first}/results")
    assert none_yet.status_code == 409
    text = none_yet.get_data(as_text=True)
    assert "No statistics run has used this round&#39;s points yet." in text
    assert f'href="/en/appraisal/rounds/{first}#send-form"' in text
    _give_to_wave(client, first, wave_code)
    # given, not run: the link starts a run of the wave
    text = client.get(f"/en/appraisal/rounds/{first}/results").get_data(as_text=True)
    assert "No statistics run has used this round&#39;s points yet." in text
    assert f'href="/en/stats/waves/{wave_code}#run-heading"' in text
    first_run = _finished_run(app, wave_code, {"D1": 0.0, "D2": 1.0, "D3": 0.5})

    # 2025: D1 35+30, D2 70+0, D3 35+6
    second = _survey_round(app, 2025, {"D1": 0.5, "D2": 1.0, "D3": 0.5})
    waiting = client.get(f"/en/appraisal/rounds/{second}/results")
    assert waiting.status_code == 409  # the 2024 run is newer than the round, not of its points
    assert "No statistics run has used this round&#39;s points yet." in waiting.get_data(True)
    _give_to_wave(client, second, wave_code)
    second_run = _finished_run(app, wave_code, {"D1": 1.0, "D2": 0.0, "D3": 0.2})
    assert second_run > first_run

    text = client.get(f"/en/appraisal/rounds/{first}/results").get_data(as_text=True)
    assert f"Survey points from run {first_run}." in text
    assert _ranks(text) == {"D3": ("1/3", "71"), "D1": ("2/3", "70"), "D2": ("3/3", "65")}
    text = client.get(f"/en/appraisal/rounds/{second}/results").get_data(as_text=True)
    assert f"Survey points from run {second_run}." in text
    assert _ranks(text) == {"D2": ("1/3", "70"), "D1": ("2/3", "65"), "D3": ("3/3", "41")}
    with app.app_context():
        recorded = db.session.get(AnalysisRun, second_run).parameters["appraisal_round"]
        assert recorded["id"] == second

    # reopened and final again: the run of the points before is not taken
    page = client.get(f"/en/appraisal/rounds/{second}").get_data(as_text=True)
    reopened = client.post(
        f"/en/appraisal/rounds/{second}/reopen",
        data={"csrf_token": csrf_token(page), "reason": "D3 complained"},
    )
    assert reopened.status_code == 302
    with app.app_context(), db.transaction() as tx:
        ops.finalise(tx, tx.get(AppraisalRound, second))
    stale = client.get(f"/en/appraisal/rounds/{second}/results")
    assert stale.status_code == 409
    assert (
        f"Run {second_run} used this round&#39;s points as they were before it was reopened"
        in stale.get_data(as_text=True)
    )
    # a file the statisticians upload comes from no round: the wave's runs record none
    with app.app_context(), db.transaction() as tx:
        wave = tx.scalars(select(Wave).where(Wave.code == wave_code)).one()
        content = storage.get(tx, f"inputs/{wave.id}/appraisal.csv")
        stats_services.save_input(
            tx, wave, "appraisal", "appraisal.csv", content, "departments_example.yaml"
        )
        assert stats_services.appraisal_round_of(tx, wave) is None
    uploaded_run = _finished_run(app, wave_code, {"D1": 1.0, "D2": 0.0, "D3": 0.2})
    with app.app_context():
        assert "appraisal_round" not in db.session.get(AnalysisRun, uploaded_run).parameters
    assert client.get(f"/en/appraisal/rounds/{second}/results").status_code == 409
    text = client.get(f"/en/appraisal/rounds/{first}/results").get_data(as_text=True)
    assert f"Survey points from run {first_run}." in text
