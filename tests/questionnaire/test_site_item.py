"""`site_item`: the question a site link answers, checked when the file is loaded (file, line,
key), kept in the stored version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from app_support import ROOT

from survey_app.questionnaire import load_directory
from survey_app.questionnaire.validate import from_snapshot

SITED = """\
code: mini
group: citizen
access: open
title: {vi: Phiếu nhỏ, en: Small form}
intro: {vi: Giới thiệu, en: Introduction}
site_item: district
pages:
  - code: p1
    title: {vi: Trang 1, en: Page 1}
    items:
      - code: q1
        type: single
        scale: yes_no
        label: {vi: Câu 1, en: Question 1}
  - code: p2
    title: {vi: Trang 2, en: Page 2}
    items:
      - code: district
        type: dropdown
        list: districts
        required: true
        label: {vi: Huyện, en: District}
      - code: q2
        type: integer
        relevant: q1 = 1
        label: {vi: Câu 2, en: Question 2}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "questionnaires" / "shared.yaml", tmp_path / "shared.yaml")
    (tmp_path / "mini.yaml").write_text(SITED, encoding="utf-8")
    return tmp_path


def test_a_site_item_is_kept_in_the_stored_version(folder):
    questionnaires, problems = load_directory(folder)
    assert problems == []
    assert questionnaires[0].site_item == "district"
    assert from_snapshot(questionnaires[0].raw).site_item == "district"


def test_the_citizen_questionnaire_names_the_district():
    questionnaires, problems = load_directory(ROOT / "questionnaires")
    assert problems == []
    by_code = {q.code: q for q in questionnaires}
    assert by_code["citizen"].site_item == "district"
    assert by_code["leader"].site_item is None


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("site_item: district", "site_item: nowhere", "mini.yaml:6: site_item: no question has"),
        ("site_item: district", "site_item: q2", "q2 must be a question of type single, dropdown"),
        ("site_item: district", "site_item: [district]", "must be the code of a question"),
        ("access: open", "access: invitation", "only an open questionnaire has site links"),
        (
            "        required: true\n",
            "        required: true\n        relevant: q1 = 1\n",
            "district must be asked of everyone",
        ),
    ],
)
def test_a_wrong_site_item_is_named_with_its_line(folder, old, new, expected):
    path = folder / "mini.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    _questionnaires, problems = load_directory(folder)
    found = [str(p) for p in problems]
    assert any(expected in problem for problem in found), found
