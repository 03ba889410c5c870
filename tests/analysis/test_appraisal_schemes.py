"""The shipped appraisal examples: a departments block of 7 fields and a districts block of 8,
appraisal criteria only, each field's maximum the sum of its criteria's."""

from __future__ import annotations

import pytest
from app_support import ROOT

from analysis.scheme import SchemeError, load_scheme, parse_scheme


@pytest.mark.parametrize(
    ("name", "block", "fields", "criteria", "total"),
    [
        ("departments_appraisal_example.yaml", "departments", 7, 20, 70),
        ("districts_appraisal_example.yaml", "districts", 8, 17, 68),
    ],
)
def test_appraisal_examples(name, block, fields, criteria, total):
    scheme = load_scheme(ROOT / "questionnaires" / "scoring" / name)
    assert scheme.example is True
    assert [b.code for b in scheme.blocks] == [block]
    assert len(scheme.fields) == fields and len(scheme.criteria) == criteria
    assert {c.source for c in scheme.criteria.values()} == {"appraisal"}
    assert scheme.max_points == total
    for f in scheme.fields:
        assert set(f.name) == {"vi", "en"}
        for c in f.criteria:
            assert set(c.name) == {"vi", "en"} and c.max_points > 0


def test_examples_give_some_criteria_a_step_and_guidance():
    scheme = load_scheme(ROOT / "questionnaires" / "scoring" / "departments_appraisal_example.yaml")
    steps = {c.code: c.step for c in scheme.criteria.values() if c.step is not None}
    assert steps == {"4.1": 0.5, "4.2": 0.5}
    initiatives = scheme.criteria["1.4"]
    assert set(initiatives.evidence) == set(initiatives.guidance) == {"vi", "en"}
    assert "example" in initiatives.guidance["en"]
    assert scheme.criteria["1.2"].guidance is None and scheme.criteria["1.2"].step is None


APPRAISAL_ONLY = """\
code: a
year: 2025
name: {vi: A, en: A}
totals: {appraisal: 3, total: 3}
fields:
  - code: "1"
    name: {vi: Một, en: One}
    criteria:
      - code: "1.1"
        source: appraisal
        max_points: 2
        name: {vi: Một một, en: One one}
        step: STEP
        evidence: {vi: Kế hoạch, en: The plan}
        guidance: GUIDANCE
      - {code: "1.2", source: appraisal, max_points: 1, name: {vi: Hai, en: Two}}
"""


def test_a_step_and_guidance_are_read():
    text = APPRAISAL_ONLY.replace("STEP", "0.5").replace("GUIDANCE", "{vi: Đủ, en: Full}")
    scheme = parse_scheme(text, "a.yaml")
    one = scheme.criteria["1.1"]
    assert (one.step, one.evidence, one.guidance) == (
        0.5,
        {"vi": "Kế hoạch", "en": "The plan"},
        {"vi": "Đủ", "en": "Full"},
    )


FULL = "{vi: Đủ, en: Full}"


@pytest.mark.parametrize(
    ("step", "guidance", "says"),
    [
        ("0", FULL, "a.yaml:13: fields[0].criteria[0].step: must be greater than 0"),
        ("three", FULL, "a.yaml:13: fields[0].criteria[0].step: must be a number"),
        (
            "2.5",
            "{vi: Đủ, en: Full}",
            "a.yaml:13: fields[0].criteria[0].step: is 2.5, which must not be above max_points 2",
        ),
        ("0.5", "{vi: Đủ}", "a.yaml:15: fields[0].criteria[0].guidance: the en text is missing"),
        (
            "0.5",
            "Full points",
            "a.yaml:15: fields[0].criteria[0].guidance: must give the text in every language: "
            "vi, en",
        ),
    ],
)
def test_a_bad_step_or_guidance_names_its_line(step, guidance, says):
    text = APPRAISAL_ONLY.replace("STEP", step).replace("GUIDANCE", guidance)
    with pytest.raises(SchemeError) as caught:
        parse_scheme(text, "a.yaml")
    assert [str(p) for p in caught.value.problems] == [says]


def test_a_survey_criterion_takes_no_step():
    path = ROOT / "questionnaires" / "scoring" / "departments_example.yaml"
    text = path.read_text("utf-8")
    survey_line = next(line for line in text.splitlines() if "source: survey" in line)
    with pytest.raises(SchemeError) as caught:
        parse_scheme(
            text.replace(survey_line, survey_line.replace("survey,", "survey, step: 1,", 1)),
            str(path),
        )
    said = [str(p) for p in caught.value.problems]
    only = "only an appraisal criterion has a step, evidence or guidance"
    assert len(said) == 1 and said[0].endswith(f":55: fields[0].criteria[1].step: {only}"), said
