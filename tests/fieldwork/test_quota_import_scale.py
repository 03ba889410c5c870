"""Quota files of national shape (commune x sex x age group), 5,000 cells: imported whole with
their targets, refused whole over one bad row deep in the file, and replaced keeping the counts."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from app_support import ROOT
from sqlalchemy import func, select, update

from survey_app.extensions import db
from survey_app.models import AuditEvent, Quota, QuotaCell, Wave, WaveQuestionnaire

COMMUNES = [f"x{i:03d}" for i in range(625)]
SEXES = ["male", "female"]
AGE_GROUPS = ["age18_30", "age31_45", "age46_60", "age61_plus"]
KEYS = [f"{c}|{s}|{a}" for c in COMMUNES for s in SEXES for a in AGE_GROUPS]
HEADER = "commune,sex,age_group,target"

FORM = """\
code: national
group: citizen
access: open
title: {vi: Phiếu toàn quốc, en: National form}
intro: {vi: Giới thiệu, en: Introduction}
lists:
  communes:
COMMUNES
pages:
  - code: profile
    title: {vi: Thông tin, en: Profile}
    items:
      - {code: commune, type: dropdown, list: communes, required: true, profile: true,
         label: {vi: Xã, en: Commune}}
      - code: sex
        type: single
        required: true
        profile: true
        label: {vi: Giới tính, en: Sex}
        options:
          - {value: male, label: {vi: Nam, en: Male}}
          - {value: female, label: {vi: Nữ, en: Female}}
      - code: age_group
        type: single
        required: true
        profile: true
        label: {vi: Độ tuổi, en: Age group}
        options:
          - {value: age18_30, label: {vi: Từ 18 đến 30 tuổi, en: 18 to 30}}
          - {value: age31_45, label: {vi: Từ 31 đến 45 tuổi, en: 31 to 45}}
          - {value: age46_60, label: {vi: Từ 46 đến 60 tuổi, en: 46 to 60}}
          - {value: age61_plus, label: {vi: Trên 60 tuổi, en: Over 60}}
"""


@pytest.fixture
def national_app(app, tmp_path: Path):
    from survey_app.questionnaire.store import sync_questionnaires

    folder = tmp_path / "questionnaires"
    folder.mkdir()
    shutil.copy(ROOT / "questionnaires" / "shared.yaml", folder / "shared.yaml")
    communes = "\n".join(
        f"    - {{value: {c}, label: {{vi: Xã {c}, en: Commune {c}}}}}" for c in COMMUNES
    )
    text = FORM.replace("COMMUNES", communes)
    (folder / "national.yaml").write_text(text, encoding="utf-8")
    app.config["QUESTIONNAIRE_DIR"] = str(folder)
    with app.app_context(), db.transaction() as tx:
        sync_questionnaires(tx, folder)
        wave = tx.scalars(select(Wave)).first()
        tx.add(WaveQuestionnaire(wave_id=wave.id, questionnaire_code="national"))
    return app


def file_of(targets: dict[str, int | str]) -> str:
    lines = [HEADER] + [f"{key.replace('|', ',')},{target}" for key, target in targets.items()]
    return "\n".join(lines) + "\n"


def import_file(runner, tmp_path: Path, text: str):
    path = tmp_path / "national_quota.csv"
    path.write_text(text, encoding="utf-8")
    with runner.app.app_context():
        wave = db.session.scalars(select(Wave)).first().code
    return runner.invoke(
        args=["quotas", "import", str(path), "--wave", wave, "--questionnaire", "national"],
        env={"PAR_LANG": "en"},
    )


def stored(app) -> dict[str, tuple[int, int]]:
    """{cell_key: (target, complete)} of every cell stored."""
    with app.app_context():
        rows = db.session.execute(
            select(QuotaCell.cell_key, QuotaCell.target, QuotaCell.complete)
        ).all()
    return {key: (target, complete) for key, target, complete in rows}


def test_a_5000_row_file_imports_every_cell_with_its_target(national_app, runner, tmp_path):
    rng = random.Random(10)
    targets = {key: rng.randint(0, 9_999_999) for key in KEYS}
    result = import_file(runner, tmp_path, file_of(targets))
    assert result.exit_code == 0, result.output
    assert "5000 cells imported into the quota main." in result.output
    assert stored(national_app) == {key: (target, 0) for key, target in targets.items()}
    with national_app.app_context():
        quota = db.session.scalars(select(Quota)).one()
        assert quota.variables == ["commune", "sex", "age_group"]
        assert [len(c.cell_key) for c in quota.cells] == [len(k) for k in KEYS]
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "quota_imported")
        ).one()
        assert event.details["cells"] == 5000
        assert event.details["file"] == "national_quota.csv"


def test_bad_rows_deep_in_a_big_file_are_named_and_nothing_is_stored(
    national_app, runner, tmp_path
):
    lines = file_of(dict.fromkeys(KEYS, 40)).splitlines()
    # Row numbers as a spreadsheet shows them: the header is row 1, KEYS[i] is row i + 2.
    lines[4990 - 1] = "nowhere,female,age18_30,40"
    lines[4995 - 1] = lines[4995 - 1].rsplit(",", 1)[0] + ",forty"
    lines.append(lines[2 - 1])  # the first cell again, as row 5002
    result = import_file(runner, tmp_path, "\n".join(lines) + "\n")
    assert result.exit_code == 2
    assert "national_quota.csv:4990: nowhere is not an answer of commune." in result.output
    assert (
        "national_quota.csv:4995: the target must be a whole number of 0 or more, not forty."
        in result.output
    )
    assert "national_quota.csv:5002: this cell appears twice." in result.output
    assert "Nothing was imported." in result.output
    problems = [line for line in result.output.splitlines() if line.startswith("national_quota")]
    assert len(problems) == 3, problems
    with national_app.app_context():
        assert db.session.scalar(select(func.count(Quota.id))) == 0
        assert db.session.scalar(select(func.count(QuotaCell.id))) == 0
        assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


def test_an_answer_that_defines_no_cell_is_refused_with_its_row(national_app, runner, tmp_path):
    from survey_app.questionnaire.store import sync_questionnaires

    # The last age group made a "no answer": like "don't know", it defines no cell.
    folder = Path(national_app.config["QUESTIONNAIRE_DIR"])
    path = folder / "national.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "age61_plus, label: {vi: Trên 60 tuổi, en: Over 60}",
            "age61_plus, missing: true, label: {vi: Không trả lời, en: No answer}",
        ),
        encoding="utf-8",
    )
    with national_app.app_context(), db.transaction() as tx:
        sync_questionnaires(tx, folder)
    result = import_file(runner, tmp_path, file_of(dict.fromkeys(KEYS[:8], 5)))
    assert result.exit_code == 2
    # KEYS[3] and KEYS[7] are the x000 cells of the last age group: rows 5 and 9.
    assert "national_quota.csv:5: age61_plus is not an answer of age_group." in result.output
    assert "national_quota.csv:9: age61_plus is not an answer of age_group." in result.output
    assert stored(national_app) == {}


def test_replacing_a_big_quota_keeps_its_counts(national_app, runner, tmp_path):
    first = {key: 50 for key in KEYS[:4990]}
    assert import_file(runner, tmp_path, file_of(first)).exit_code == 0
    with national_app.app_context(), db.transaction() as tx:
        # Responses counted in every seventh cell while fieldwork runs.
        tx.execute(update(QuotaCell).where(QuotaCell.id % 7 == 0).values(complete=30))
    counted = {key: complete for key, (_t, complete) in stored(national_app).items()}
    assert 600 < sum(1 for c in counted.values() if c) < 800

    # Targets moved (never below a count), ten new cells, and the first ten cells left out:
    # a replacement sets the cells it names and keeps the others as they were.
    second = {key: 30 + i % 40 for i, key in enumerate(KEYS[10:])}
    result = import_file(runner, tmp_path, file_of(second))
    assert result.exit_code == 0, result.output
    assert "4990 cells imported" in result.output
    expected = {key: (50, counted[key]) for key in KEYS[:10]}
    expected |= {key: (target, counted.get(key, 0)) for key, target in second.items()}
    assert stored(national_app) == expected
    with national_app.app_context():
        assert db.session.scalar(select(func.count(Quota.id))) == 1

    # Two counted cells set below their counts: both named, nothing changed.
    low = [key for key in KEYS[10:4990] if counted[key]][-2:]
    third = second | dict.fromkeys(low, 29)
    result = import_file(runner, tmp_path, file_of(third))
    assert result.exit_code == 2
    for key in low:
        commune, sex, age = key.split("|")
        assert (
            f"The cell {commune} × {sex} × {age} has 30 complete responses already; its target "
            "cannot be lower."
        ) in result.output
    assert stored(national_app) == expected


def test_cells_the_session_holds_show_the_imported_targets(national_app):
    from survey_app.fieldwork.quota_file import import_quota
    from survey_app.questionnaire.store import definition, latest_version

    data = file_of(dict.fromkeys(KEYS, 5)).encode()
    with national_app.app_context(), db.transaction() as tx:
        wave = tx.scalars(select(Wave)).one()
        questionnaire = definition(latest_version(tx, "national"))
        quota, count = import_quota(tx, wave, questionnaire, "main", "flag", data, "a.csv")
        assert count == 5000
        held = quota.cells[:3]
        assert [cell.target for cell in held] == [5, 5, 5]
        quota, _count = import_quota(
            tx, wave, questionnaire, "main", "flag", file_of(dict.fromkeys(KEYS, 6)).encode(), ""
        )
        assert [cell.target for cell in held] == [6, 6, 6]
        assert {cell.target for cell in quota.cells} == {6}


def test_the_cell_limit_and_the_header_limit_hold(national_app, runner, tmp_path, monkeypatch):
    from survey_app.fieldwork import quota_file

    monkeypatch.setattr(quota_file, "MAX_CELLS", len(KEYS) - 1)
    result = import_file(runner, tmp_path, file_of(dict.fromkeys(KEYS, 5)))
    assert result.exit_code == 2
    assert "national_quota.csv: At most 4999 cells." in result.output
    wide = ",".join(f"c{i}" for i in range(300)) + ",target\n"
    result = import_file(runner, tmp_path, wide + ",".join(["1"] * 301) + "\n")
    assert result.exit_code == 2
    assert "national_quota.csv:1: The file is too large to read: the first line has 301" in (
        result.output
    )
    assert stored(national_app) == {}
