"""A wave answered on the 2017-shaped citizen questionnaire (questionnaires/earlier) after the 2022
shape is loaded as its next version: its answers keep their columns and labels in every export,
and par2022_sipas2017.yaml scores them, on the page and by `score-wave`, as the rules say."""

from __future__ import annotations

import io
import shutil

import pandas as pd
import pytest
from app_support import ROOT, make_app, reset_database
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, QuestionnaireVersion, Response
from survey_app.questionnaire.store import sync_questionnaires

#: The 2017 shape's elements and items (earlier/citizen.yaml), written out here.
ELEMENTS_2017 = {
    "access": ["acc_1", "acc_2", "acc_3", "acc_4", "acc_sat"],
    "procedures": ["proc_1", "proc_2", "proc_3", "proc_4", "proc_sat"],
    "staff": ["staff_1", "staff_2", "staff_3", "staff_4", "staff_5", "staff_sat"],
    "result": ["result_1", "result_2", "result_3", "result_on_time", "result_sat"],
    "feedback": ["fb_1", "fb_2", "fb_3", "fb_4", "fb_sat"],
}


@pytest.fixture
def app(database_url, tmp_path):
    """Citizens answered version 1 (the 2017 shape); then the 2022 shape was loaded."""
    from survey_app.commands.demo_data import seed_demo

    folder = tmp_path / "questionnaires"
    shutil.copytree(ROOT / "questionnaires", folder)
    shutil.copy(folder / "earlier" / "citizen.yaml", folder / "citizen.yaml")
    app = make_app(database_url, RUN_QUEUE="in-process", QUESTIONNAIRE_DIR=str(folder))
    reset_database(app)
    with app.app_context(), db.transaction() as session:
        seed_demo(session, 150)
    shutil.copy(ROOT / "questionnaires" / "citizen.yaml", folder / "citizen.yaml")
    with app.app_context(), db.transaction() as session:
        done = {r.code: (r.version, r.action) for r in sync_questionnaires(session, folder)}
    assert done["citizen"] == (2, "new version")
    yield app
    db.engine_of(app).dispose()


def download(client, path: str) -> pd.DataFrame:
    response = client.get(path)
    assert response.status_code == 200, path
    return pd.read_csv(
        io.BytesIO(response.get_data()), dtype=str, keep_default_na=False, na_values=[""]
    )


def stored(app, item: str) -> dict[int, str]:
    with app.app_context():
        found = db.session.execute(
            select(Answer.response_id, Answer.value)
            .join(Response, Response.id == Answer.response_id)
            .join(
                QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_version_id
            )
            .where(Answer.item_code == item, QuestionnaireVersion.version == 1)
        ).all()
    return dict(found)


def test_answers_on_the_earlier_version_keep_their_columns_and_labels(app, client, auth):
    auth.login("statistician")
    codes = download(client, "/en/stats/waves/demo/responses/citizen.csv")
    assert len(codes) == 150 and set(codes["questionnaire_version"]) == {"1"}
    assert {"acc_1", "result_on_time", "exp_payment", "acc_signs", "unofficial_payment"} <= set(
        codes.columns
    )
    assert codes["acc_signs"].isna().all()  # nobody was asked the 2022 items
    given = stored(app, "acc_1")
    assert given
    for _, row in codes.iterrows():
        answer = given.get(int(row["response_id"]))
        expected = None if answer in (None, "9") else answer
        assert (None if pd.isna(row["acc_1"]) else row["acc_1"]) == expected
    for lang, satisfied in (("en", "Satisfied"), ("vi", "Hài lòng")):
        labelled = download(client, f"/en/stats/waves/demo/responses/citizen.csv?labels={lang}")
        assert satisfied in set(labelled["acc_1"].dropna())
        assert not set(labelled["acc_1"].dropna()) & {"1", "2", "3", "4", "5"}
        assert set(labelled["result_on_time"].dropna()) <= {"Yes", "No", "Có", "Không"}
    book = download(client, "/en/stats/waves/demo/codebook/citizen.csv")
    assert {"acc_1", "acc_signs", "exp_payment"} <= set(book["variable"])
    first = book[book["variable"] == "acc_1"].iloc[0]
    assert first["label_en"].startswith("The place where applications are received")
    html = client.get("/vi/stats/waves/demo/codebook/citizen.html").get_data(as_text=True)
    assert "acc_1" in html and "acc_signs" in html


def sipas_2017_by_hand(citizens: pd.DataFrame) -> float:
    """Unweighted (no targets): the mean over elements of the mean of their items' shares, 4 or
    5 satisfied, yes (1) for the result on time; don't know left out."""
    elements = []
    for items in ELEMENTS_2017.values():
        shares = []
        for item in items:
            answers = pd.to_numeric(citizens[item]).dropna()
            positive = [1] if item == "result_on_time" else [4, 5]
            shares.append(answers.isin(positive).mean())
        elements.append(100 * sum(shares) / len(shares))
    return sum(elements) / len(elements)


def test_the_earlier_versions_scheme_scores_the_wave(app, client, auth, tmp_path):
    auth.login("statistician")
    citizens = download(client, "/en/stats/waves/demo/responses/citizen.csv")
    expected = sipas_2017_by_hand(citizens)
    runner = app.test_cli_runner()
    scheme = app.config["QUESTIONNAIRE_DIR"] + "/scoring/par2022_sipas2017.yaml"
    out = tmp_path / "out"
    result = runner.invoke(args=["score-wave", "--wave", "demo", "--scheme", scheme, "--out", out])
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out / "scores.csv", dtype={"code": str})
    sipas = scores[scores["kind"] == "sipas"].iloc[0]
    assert sipas["estimate"] == pytest.approx(expected, abs=1e-9)
    points = scores[(scores["kind"] == "criterion") & (scores["code"] == "8.8")].iloc[0]
    assert points["estimate"] == pytest.approx(expected / 10, abs=1e-9)
    # the 2022 scheme finds no answers to its items here: SIPAS has no value, never 0
    current = app.config["QUESTIONNAIRE_DIR"] + "/scoring/par2022.yaml"
    result = runner.invoke(
        args=["score-wave", "--wave", "demo", "--scheme", current, "--out", tmp_path / "new"]
    )
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(tmp_path / "new" / "scores.csv", dtype={"code": str})
    assert scores[scores["kind"] == "sipas"]["estimate"].isna().all()
