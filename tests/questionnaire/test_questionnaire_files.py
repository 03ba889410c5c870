"""Questionnaire files: the real ones are valid; broken ones are reported by file, line and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from app_support import ROOT
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import QuestionnaireVersion, Response
from survey_app.questionnaire import load_directory
from survey_app.questionnaire.store import latest_version, sync_questionnaires

SOURCE = ROOT / "questionnaires"

MINIMAL = """\
code: mini
group: citizen
access: open
title: {vi: Phiếu nhỏ, en: Small form}
intro: {vi: Giới thiệu, en: Introduction}
pages:
  - code: p1
    title: {vi: Trang 1, en: Page 1}
    items:
      - code: q1
        type: single
        scale: yes_no
        label: {vi: Câu 1, en: Question 1}
      - code: q2
        type: integer
        min: 0
        max: 5
        label: {vi: Câu 2, en: Question 2}
  - code: p2
    title: {vi: Trang 2, en: Page 2}
    items:
      - code: q3
        type: text
        relevant: q1 = 1
        label: {vi: Câu 3, en: Question 3}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(SOURCE / "shared.yaml", tmp_path / "shared.yaml")
    (tmp_path / "mini.yaml").write_text(MINIMAL, encoding="utf-8")
    return tmp_path


def problems_of(folder: Path) -> list[str]:
    _questionnaires, problems = load_directory(folder)
    return [str(p) for p in problems]


def test_the_real_questionnaires_are_valid_and_complete():
    questionnaires, problems = load_directory(SOURCE)
    assert [str(p) for p in problems] == []
    by_code = {q.code: q for q in questionnaires}
    assert set(by_code) == {"citizen", "leader", "delegate"}
    citizen = by_code["citizen"]
    assert citizen.access == "open"
    assert {"district", "sex", "age_group"} <= {q.code for q in citizen.profile_items}
    # the quota cells' variables come first: a respondent whose cell is full hears it after one page
    assert [q.code for q in citizen.pages[0].questions] == ["district", "sex", "age_group"]
    districts = citizen.by_code["district"]
    assert len(districts.options) == 13
    for code in ("leader", "delegate"):
        assert by_code[code].access == "invitation"
        scales = {tuple(o.key for o in q.options) for q in by_code[code].questions if q.grid}
        assert scales, f"{code} has Likert grids"
        for questionnaire in questionnaires:
            for question in questionnaire.questions:
                for lang in ("vi", "en"):
                    assert question.label[lang].strip()
                    for option in question.options:
                        assert option.label[lang].strip()


def test_minimal_file_is_valid(folder):
    assert problems_of(folder) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "        type: integer\n",
            "        type: integr\n",
            "mini.yaml:15: pages[0].items[1].type:",
        ),
        (
            "title: {vi: Phiếu nhỏ, en: Small form}",
            "title: {vi: Phiếu nhỏ}",
            "mini.yaml:4: title: the en text is missing or empty",
        ),
        (
            "        relevant: q1 = 1\n",
            "        relevant: q1 == 1\n",
            "mini.yaml:24: pages[1].items[0].relevant: invalid expression",
        ),
        (
            "        relevant: q1 = 1\n",
            "        relevant: q9 = 1\n",
            "mini.yaml:24: pages[1].items[0].relevant: unknown item q9",
        ),
        (
            "      - code: q3\n",
            "      - code: q1\n",
            "mini.yaml:22: pages[1].items[0].code: duplicate item code q1 (first at line 10)",
        ),
        (
            "        max: 5\n",
            "        max: -1\n",
            "mini.yaml:16: pages[0].items[1].min: min is greater",
        ),
        (
            "        scale: yes_no\n",
            "        scale: yes_noo\n",
            "mini.yaml:12: pages[0].items[0].scale: unknown scale yes_noo",
        ),
        (
            "  - code: p2\n",
            "  - code: p2\n    colour: red\n",
            "mini.yaml:20: pages[1].colour: unknown key",
        ),
        (
            "    title: {vi: Trang 2, en: Page 2}\n",
            "    title: {vi: Trang 2, en: Page 2\n",
            "mini.yaml:21: (file): not valid YAML",
        ),
        (
            "        label: {vi: Câu 1, en: Question 1}\n",
            "        label: {vi: Câu 1, en: Question 1}\n        label: {vi: x, en: y}\n",
            "mini.yaml:14: pages[0].items[0].label: duplicate key",
        ),
        ("      - code: q3\n", "      - code: data\n", "data is a reserved word"),
    ],
)
def test_a_broken_line_is_named(folder, old, new, expected):
    path = folder / "mini.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    found = problems_of(folder)
    assert any(expected in problem for problem in found), found


def test_relevance_may_not_look_at_its_own_page(folder):
    path = folder / "mini.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "        min: 0\n", "        min: 0\n        relevant: q1 = 1\n"
    )
    path.write_text(text, encoding="utf-8")
    assert any("earlier pages" in p and "mini.yaml:17" in p for p in problems_of(folder))


def test_every_problem_is_reported_not_only_the_first(folder):
    path = folder / "mini.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("type: integer", "type: number").replace("group: citizen", "group: X")
    path.write_text(text, encoding="utf-8")
    found = problems_of(folder)
    assert len(found) >= 2
    assert any("group" in p for p in found) and any("type" in p for p in found)


@pytest.mark.parametrize(
    "group, problem",
    [
        ("commune_leader", None),
        ("Commune leader", "must be an identifier"),
        ("provincial_department_leader", "at most 16 characters"),
    ],
)
def test_a_group_is_any_short_identifier(folder, group, problem):
    path = folder / "mini.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("group: citizen", f"group: {group!r}"),
        encoding="utf-8",
    )
    found = [p for p in problems_of(folder) if "group" in p]
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0] and "mini.yaml:" in found[0], found


def test_check_command_names_file_and_line_and_fails(runner, folder):
    path = folder / "mini.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("type: integer", "type: integr"), encoding="utf-8"
    )
    result = runner.invoke(args=["check-questionnaires", str(folder)], env={"PAR_LANG": "en"})
    assert result.exit_code == 1
    assert "mini.yaml:15: pages[0].items[1].type: unknown item type" in result.output
    ok = runner.invoke(args=["check-questionnaires", str(SOURCE)], env={"PAR_LANG": "en"})
    assert ok.exit_code == 0, ok.output
    assert "citizen" in ok.output
    assert "citizen: the optional section policy is switched off (enabled: false)" in ok.output


def test_the_app_refuses_an_invalid_folder_and_stores_nothing(app, folder):
    path = folder / "mini.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("type: integer", "type: integr"), encoding="utf-8"
    )
    from survey_app.questionnaire import QuestionnaireInvalid

    with app.app_context():
        before = db.session.scalar(select(func.count(QuestionnaireVersion.id)))
        with pytest.raises(QuestionnaireInvalid), db.transaction() as session:
            sync_questionnaires(session, folder)
        assert db.session.scalar(select(func.count(QuestionnaireVersion.id))) == before
        assert latest_version(db.session, "mini") is None


def test_editing_an_answered_questionnaire_makes_a_new_version(app, client, folder):
    from html_client import walk

    with app.app_context():
        with db.transaction() as session:
            assert [r.action for r in sync_questionnaires(session, folder)] == ["created"]
        from survey_app.models import Wave, WaveQuestionnaire

        wave = db.session.scalars(select(Wave)).first()
        db.session.add(WaveQuestionnaire(wave_id=wave.id, questionnaire_code="mini"))
        db.session.commit()
        # An edit before anybody answered replaces the version in place.
        path = folder / "mini.yaml"
        path.write_text(
            path.read_text(encoding="utf-8").replace("Câu 1", "Câu một"), encoding="utf-8"
        )
        with db.transaction() as session:
            assert [r.action for r in sync_questionnaires(session, folder)] == ["updated"]
            assert latest_version(session, "mini").version == 1
    walk(client, "/en/s/mini")
    path.write_text(
        path.read_text(encoding="utf-8").replace("Question 2", "Question two"), encoding="utf-8"
    )
    with app.app_context():
        with db.transaction() as session:
            results = sync_questionnaires(session, folder)
            assert [(r.version, r.action) for r in results] == [(2, "new version")]
        response = db.session.scalars(select(Response)).one()
        old = db.session.get(QuestionnaireVersion, response.questionnaire_version_id)
        assert old.version == 1
        assert "Câu một" in str(old.definition)
        with db.transaction() as session:
            assert [r.action for r in sync_questionnaires(session, folder)] == ["unchanged"]


def test_the_citizen_questionnaire_has_the_2022_sipas_items_and_the_2017_one_is_kept():
    """Since 2022 every item of the five elements is rated on the satisfaction scale, on the
    published lists (DOMAIN.md): 3, 4, 3, 3 and 3 items; payments and harassment on three levels."""
    questionnaires, problems = load_directory(SOURCE)
    assert problems == []
    citizen = next(q for q in questionnaires if q.code == "citizen")
    satisfaction = [o.key for o in citizen.by_code["acc_signs"].options]
    assert satisfaction == ["1", "2", "3", "4", "5", "9"]
    elements = {"access": 3, "procedures": 4, "staff": 3, "result": 3, "feedback_handling": 3}
    for page in citizen.pages:
        if page.code in elements:
            rated = [q for q in page.questions if [o.key for o in q.options] == satisfaction]
            assert len(rated) == elements.pop(page.code), page.code
    assert elements == {}
    for code in ("unofficial_payment", "harassment"):
        levels = [o for o in citizen.by_code[code].options if not o.missing]
        assert [o.label["en"] for o in levels] == [
            "Many civil servants",
            "Some civil servants",
            "No civil servant",
        ]
    # the policy section is switched off in the shipped file: neither asked nor exported
    assert not [q for q in citizen.questions if q.code.startswith("pol_")]
    earlier, problems = load_directory(SOURCE / "earlier")
    assert problems == [] and [q.code for q in earlier] == ["citizen"]
    old = earlier[0]
    assert {"acc_1", "acc_sat", "result_on_time", "exp_payment"} <= set(old.by_code)
    # an item code of the earlier version is never reused for another question
    assert not set(old.by_code) & {"acc_signs", "unofficial_payment", "harassment"}
    shared = set(old.by_code) & set(citizen.by_code)
    for code in shared:
        assert old.by_code[code].label == citizen.by_code[code].label, code


SECTIONED = MINIMAL.replace(
    "pages:\n",
    "sections:\n  extra: {enabled: false}\npages:\n",
).replace(
    "  - code: p2\n",
    """  - code: extra_page
    section: extra
    title: {vi: Trang thêm, en: Extra page}
    items:
      - code: x1
        type: single
        scale: yes_no
        required: true
        label: {vi: Câu thêm, en: Extra question}
      - code: x2
        type: text
        label: {vi: Câu thêm hai, en: Extra question two}
  - code: p2
""",
)


def write_sectioned(folder: Path, enabled: bool, text: str = SECTIONED) -> None:
    text = text.replace("extra: {enabled: false}", f"extra: {{enabled: {str(enabled).lower()}}}")
    (folder / "mini.yaml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("enabled", [False, True])
def test_an_optional_section_is_asked_only_when_switched_on(folder, enabled):
    write_sectioned(folder, enabled)
    (mini,), problems = load_directory(folder)
    assert problems == []
    codes = [page.code for page in mini.pages]
    if enabled:
        assert codes == ["p1", "extra_page", "p2"]
        assert {"x1", "x2"} <= set(mini.by_code)
    else:
        assert codes == ["p1", "p2"]
        assert "x1" not in mini.by_code and "x2" not in mini.by_code
    # pages are numbered in order of what is asked; the items know their page
    assert [page.index for page in mini.pages] == list(range(len(codes)))
    assert mini.by_code["q3"].page_index == len(codes) - 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    section: extra\n",
            "    section: extar\n",
            "mini.yaml:22: pages[1].section: unknown section extar",
        ),
        (
            "extra: {enabled: false}",
            "extra: {enabled: maybe}",
            "mini.yaml:7: sections.extra.enabled: must be true or false",
        ),
        (
            "extra: {enabled: false}",
            "extra: {}",
            "mini.yaml:7: sections.extra: missing required key enabled",
        ),
        (
            "sections:\n  extra:",
            "sections:\n  other: {enabled: true}\n  extra:",
            "mini.yaml:7: sections.other: no page belongs to the section other",
        ),
        (
            "        relevant: q1 = 1\n",
            "        relevant: x1 = 1\n",
            "pages[2].items[0].relevant: x1 is in the optional section extra: only that section's",
        ),
    ],
)
def test_a_broken_section_is_named(folder, old, new, expected):
    assert old in SECTIONED
    write_sectioned(folder, False, SECTIONED.replace(old, new, 1))
    found = problems_of(folder)
    assert any(expected in problem for problem in found), found


def test_a_section_switched_on_is_answered_over_http_and_exported(app, client, folder):
    """Through the respondent's pages and the export: switched off, the section's page is never
    shown and its columns do not exist; switched on (a new file), it is asked and exported."""
    from html_client import walk

    from survey_app.fieldwork.responses_export import header, rows
    from survey_app.models import Wave, WaveQuestionnaire

    write_sectioned(folder, False)
    with app.app_context():
        with db.transaction() as session:
            sync_questionnaires(session, folder)
        wave = db.session.scalars(select(Wave)).first()
        db.session.add(WaveQuestionnaire(wave_id=wave.id, questionnaire_code="mini"))
        db.session.commit()
    off = walk(client, "/en/s/mini", seed=3)
    assert off.pages == 2 and "x1" not in off.answers
    with app.app_context():
        assert "x1" not in header(db.session, "mini")
    write_sectioned(folder, True)
    with app.app_context(), db.transaction() as session:
        assert [r.action for r in sync_questionnaires(session, folder)] == ["new version"]
    client.get("/en/")  # a fresh respondent: the finished one's session is left behind
    with client.session_transaction() as flask_session:
        flask_session.clear()
    on = walk(client, "/en/s/mini", seed=3)
    assert on.pages == 3 and on.answers["x1"] in (["1"], ["2"], ["9"])
    with app.app_context():
        columns = header(db.session, "mini")
        assert "x1" in columns and "x2" in columns
        exported = [dict(zip(columns, row, strict=True)) for row in rows(db.session, "mini")]
    assert [row["x1"] for row in exported][0] == ""
    stored = on.answers["x1"][0]
    assert exported[1]["x1"] == ("" if stored == "9" else stored)
