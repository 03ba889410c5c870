"""Scoring scheme files: the shipped scheme, and problems named by file, line and key."""

from __future__ import annotations

import pytest
from hand_scoring import QUESTIONNAIRES, ROOT, SCHEME

from analysis.scheme import SchemeError, load_scheme, parse_scheme

PAR2022 = ROOT / "questionnaires" / "scoring" / "par2022.yaml"


def problems(text: str, questionnaires=QUESTIONNAIRES) -> list[str]:
    with pytest.raises(SchemeError) as caught:
        parse_scheme(text, "s.yaml", questionnaires)
    return [str(p) for p in caught.value.problems]


def test_the_2022_scheme_is_valid_and_adds_up():
    scheme = load_scheme(PAR2022, QUESTIONNAIRES)
    assert len(scheme.fields) == 8
    kinds = {"appraisal": 0.0, "survey": 0.0, "sipas": 0.0}
    for criterion in scheme.criteria.values():
        kinds[criterion.survey_kind or "appraisal"] += criterion.max_points
    assert kinds == {"appraisal": 68, "survey": 22, "sipas": 10}
    assert sum(f.max_points for f in scheme.fields) == 100
    assert [b.code for b in scheme.bands] == ["A", "B", "C", "D"]
    assert (scheme.band(90), scheme.band(89.99), scheme.band(70), scheme.band(12)) == (
        "A",
        "B",
        "C",
        "D",
    )
    # every survey criterion is rated by both groups, with items that exist for each
    for criterion in scheme.criteria.values():
        if criterion.survey_kind == "survey":
            assert set(criterion.items) == {"leader", "delegate"}
    assert scheme.sipas.overall == "elements" and len(scheme.sipas.elements) == 5


def test_points_that_do_not_add_up_name_the_line():
    text = SCHEME.replace("totals: {appraisal: 3,", "totals: {appraisal: 4,")
    found = problems(text)
    assert found == ["s.yaml:8: totals.appraisal: is 4 but the appraisal criteria add up to 3"]


def test_an_item_missing_from_the_questionnaire():
    text = SCHEME.replace("items: [f1_1, f1_2]", "items: [f1_1, f1_5]")
    found = problems(text)
    assert found == [
        "s.yaml:45: fields[0].criteria[1].items.delegate: the item f1_5 is not in the "
        "questionnaire delegate"
    ]
    # without a questionnaire folder the file alone is valid
    parse_scheme(text, "s.yaml")


def test_a_rule_that_does_not_fit_the_item_s_answers():
    text = SCHEME.replace("quality: {type: mean, values: [1, 2, 3, 4]}", "quality: {type: mean, "
                          "values: [1, 2, 3, 4, 5]}")  # fmt: skip
    found = problems(text)
    assert any("the rule quality values answers 5, which the item f1_1 does not have" in p
               for p in found)  # fmt: skip


def test_structure_problems_are_all_listed_with_lines():
    text = (
        SCHEME.replace('code: "1.2"', "code: 1.2")
        .replace("{code: A, min: 90}", "{code: A, min: 90, colour: red}")
        .replace("combine: {leader: 0.6, delegate: 0.4}", "combine: {leader: 0.6, delegate: 0.3}")
        .replace("name: {vi: Lĩnh vực hai, en: Field two}", "name: {vi: Lĩnh vực hai}")
        .replace("sipas: overall,", "sipas: everything,")
        .replace("  said_yes:", "  said_yes: {type: share, values: [1, 2]}\n  unused:")
    )
    found = problems(text, None)
    expected = [
        "s.yaml:12: rules.said_yes: a share needs positive: the answer codes counted",
        "s.yaml:16: survey.combine: the group weights add up to 0.9, not 1",
        "s.yaml:29: bands[0].colour: unknown key (known keys: code, min, name)",
        "s.yaml:42: fields[0].criteria[1].code: must be a code written as text; put it in "
        "quotes ('1.2'), or YAML reads 1.10 as the number 1.1",
        "s.yaml:54: fields[1].name: the en text is missing",
        "s.yaml:56: fields[1].criteria[0].sipas: must be one of overall, access, result",
    ]
    assert found == expected


def test_yaml_errors_and_duplicates():
    assert problems("code: [unclosed\n", None)[0].startswith("s.yaml:2: (file): not valid YAML")
    found = problems(SCHEME.replace("year: 2024\n", "year: 2024\nyear: 2025\n"), None)
    assert found == ["s.yaml:3: year: this key is given twice"]


def test_pooled_needs_items_per_group():
    text = SCHEME.replace("items: {leader: [f1_3], delegate: [f1_3]}", "items: [f1_3]")
    found = problems(text)
    assert found == [
        "s.yaml:51: fields[0].criteria[2].items: a plain list of items needs group weights in "
        "combine (here or under survey); with pooled, map each group to its items"
    ]


def test_missing_file():
    with pytest.raises(SchemeError, match="cannot read the file"):
        load_scheme(ROOT / "nowhere.yaml")
