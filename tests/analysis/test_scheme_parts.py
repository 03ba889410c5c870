"""Schemes of any parts, floors and numeric rules: what the file may say, and every mistake
named by file, line and key."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hand_scoring import QUESTIONNAIRES
from test_cli import run
from test_example_schemes import SCHEMES

from analysis.scheme import SchemeError, parse_scheme

EXAMPLES = QUESTIONNAIRES / "examples"

SURVEY_ONLY = """\
code: s
name: {vi: Thử, en: Test}
groups:
  citizen: {questionnaire: papi_citizen, weighted: true}
totals: {survey: 10, total: 10}
rules:
  days: {type: range, worst: 30, best: 1}
  paid: {type: threshold, above: 0}
survey: {combine: {citizen: 1}}
fields:
  - code: one
    name: {vi: Một, en: One}
    floor: 1
    max_points: 10
    criteria:
      - {code: "1", source: survey, max_points: 2, rule: days, items: [certificate_days],
         name: {vi: A, en: A}}
      - {code: "2", source: survey, max_points: 1, rule: paid, items: [bribe_amount],
         name: {vi: B, en: B}}
"""


def problems(text: str, questionnaires=EXAMPLES) -> list[str]:
    with pytest.raises(SchemeError) as caught:
        parse_scheme(text, "s.yaml", questionnaires)
    return [str(p) for p in caught.value.problems]


def test_a_survey_only_scheme_with_a_floor_and_numeric_rules_is_valid():
    scheme = parse_scheme(SURVEY_ONLY, "s.yaml", EXAMPLES)
    assert scheme.parts == ["survey"] and scheme.max_points == 10
    days = scheme.rules["days"].score(np.array([1, 15.5, 30, 45, np.nan]))
    np.testing.assert_allclose(days, [1, 14.5 / 29, 0, 0, np.nan])
    paid = scheme.rules["paid"].score(np.array([0, 1, 250, np.nan]))
    np.testing.assert_array_equal(paid, [0, 1, 1, np.nan])


@pytest.mark.parametrize(
    "change, line, message",
    [
        (
            ("{survey: 10, total: 10}", "{appraisal: 0, survey: 10, total: 10}"),
            5,
            "totals.appraisal: the scheme has no appraisal criteria: leave appraisal out",
        ),
        (("{survey: 10, total: 10}", "{total: 10}"), 5, "the required key survey is missing"),
        (("    floor: 1\n", "    floor: 12\n"), 13, "must be below the field's max_points 10"),
        (("    max_points: 10\n", ""), 11, "a field with a floor needs max_points"),
        (
            ("{type: threshold, above: 0}", "{type: threshold, above: 0, below: 9}"),
            8,
            "exactly one of above, at_least, below, at_most",
        ),
        (("worst: 30, best: 1", "worst: 1, best: 1"), 7, "rules.days.best: must differ from worst"),
        (
            ("items: [certificate_days]", "items: [informed]"),
            16,
            "the item informed is a single question, not an integer one",
        ),
        (
            ("{type: threshold, above: 0}", "{type: share, values: [1, 2], positive: [1]}"),
            18,
            "score it with a range or threshold rule, not the share rule paid",
        ),
        (
            ("max_points: 2, rule: days", "max_points: 2, floor: 1, rule: days"),
            13,
            "have a floor of their own",
        ),
    ],
)
def test_mistakes_are_named_by_line_and_key(change, line, message):
    found = problems(SURVEY_ONLY.replace(*change))
    assert any(p.startswith(f"s.yaml:{line}: ") and message in p for p in found), found


def test_a_criterion_floor_is_for_survey_criteria_and_below_the_maximum():
    appraisal = SURVEY_ONLY.replace(
        '      - {code: "2"',
        '      - {code: "3", source: appraisal, max_points: 1, floor: 0.5, name: {vi: C, en: C}}\n'
        '      - {code: "2"',
    ).replace("    floor: 1\n    max_points: 10\n", "")
    found = problems(
        appraisal.replace("{survey: 10, total: 10}", "{appraisal: 1, survey: 3, total: 4}")
    )
    assert any(
        "an appraisal criterion takes its points from the appraisal file" in p for p in found
    )


def test_an_appraisal_only_scheme_needs_no_groups_and_indexes_from_the_file(tmp_path):
    scheme = """\
code: a
name: {vi: Thẩm định, en: Appraisal}
totals: {appraisal: 10, total: 10}
bands: [{code: high, min: 60}, {code: low, min: 0}]
fields:
  - code: f
    name: {vi: F, en: F}
    floor: 2
    max_points: 10
    criteria:
      - {code: "1", source: appraisal, max_points: 4, name: {vi: A, en: A}}
"""
    (tmp_path / "a.yaml").write_text(scheme)
    pd.DataFrame(
        {
            "unit_code": ["u1", "u2"],
            "unit_name": ["One", "Two"],
            "block": ["all", "all"],
            "field": ["f", "f"],
            "criterion": ["1", "1"],
            "max_points": [4, 4],
            "self_points": [4, 4],
            "appraised_points": [3, 1],
        }
    ).to_csv(tmp_path / "appraisal.csv", index=False)
    done = run(
        tmp_path, "index", "--scheme", "a.yaml", "--appraisal", "appraisal.csv", "--out", "i.csv"
    )
    assert done.returncode == 0, done.stderr
    index = pd.read_csv(tmp_path / "i.csv").set_index("unit_code")
    # floor 2 + (10 - 2) x points / 4
    assert index.loc["u1", "total_points"] == pytest.approx(2 + 8 * 3 / 4)
    assert index.loc["u2", "total_points"] == pytest.approx(2 + 8 * 1 / 4)
    assert list(index["band"]) == ["high", "low"] and list(index["rank"]) == [1, 2]
    assert np.isnan(index.loc["u1", "survey_points"])
    done = run(tmp_path, "run", "--scheme", "a.yaml", "--appraisal", "appraisal.csv", "--out", "o")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o" / "index.csv").exists() and not (tmp_path / "o" / "scores.csv").exists()
    done = run(tmp_path, "index", "--scheme", "a.yaml", "--out", "i.csv")
    assert done.returncode == 2
    assert "has appraisal criteria: give --appraisal" in done.stderr


def test_check_scheme_checks_the_questionnaires_score_checks(tmp_path):
    folder = tmp_path / "questionnaires"
    (folder / "scoring").mkdir(parents=True)
    for name in ("citizen.yaml", "shared.yaml"):
        (folder / name).write_text((QUESTIONNAIRES / name).read_text())
    text = (SCHEMES / "sipas_example.yaml").read_text().replace("acc_equipment]", "acc_equipmnt]")
    (folder / "scoring" / "s.yaml").write_text(text)
    done = run(tmp_path, "check-scheme", "questionnaires/scoring/s.yaml")
    assert done.returncode == 2
    assert (
        "s.yaml:" in done.stderr
        and "the item acc_equipmnt is not in the questionnaire citizen" in done.stderr
    )
    (folder / "scoring" / "s.yaml").write_text(text.replace("acc_equipmnt]", "acc_equipment]"))
    done = run(tmp_path, "check-scheme", "questionnaires/scoring/s.yaml")
    assert done.returncode == 0, done.stderr
    assert "items checked against the questionnaires of" in done.stdout
    assert "an example, not official numbers" in done.stdout


def test_a_group_names_the_folder_of_its_questionnaires_earlier_version(tmp_path):
    """par2022_sipas2017.yaml scores the 2017-shaped citizens (questionnaires/earlier) and the
    current leaders and delegates: each group's items against its own folder."""
    done = run(tmp_path, "check-scheme", str(SCHEMES / "par2022_sipas2017.yaml"))
    assert done.returncode == 0, done.stderr
    assert "the citizen group's against those of" in done.stdout
    assert done.stdout.rstrip().split("those of ")[-1].rstrip(")").endswith("earlier")
    text = (SCHEMES / "par2022_sipas2017.yaml").read_text()
    # an item of the 2022 shape is not in the earlier version
    (tmp_path / "old.yaml").write_text(
        text.replace("../earlier", str(QUESTIONNAIRES / "earlier")).replace(
            "items: [acc_1,", "items: [acc_signs, acc_1,"
        )
    )
    done = run(tmp_path, "check-scheme", "old.yaml", "--questionnaires", str(QUESTIONNAIRES))
    assert done.returncode == 2
    assert "the item acc_signs is not in the questionnaire citizen" in done.stderr
    # and the group's folder must exist
    (tmp_path / "gone.yaml").write_text(text.replace("../earlier", "../nowhere"))
    done = run(tmp_path, "check-scheme", "gone.yaml", "--questionnaires", str(QUESTIONNAIRES))
    assert done.returncode == 2
    assert "groups.citizen.questionnaires: the folder" in done.stderr
    assert "does not exist" in done.stderr
    # the 2022-shaped par2022.yaml names none of the earlier items
    current = (SCHEMES / "par2022.yaml").read_text()
    assert "acc_1" not in current and "acc_signs" in current


def test_a_numeric_rule_reads_its_missing_codes_as_dont_know():
    text = SURVEY_ONLY.replace(
        "{type: threshold, above: 0}", "{type: threshold, at_least: 3, missing: [99]}"
    )
    rule = parse_scheme(text, "s.yaml", EXAMPLES).rules["paid"]
    np.testing.assert_array_equal(rule.score(np.array([1, 3, 99, np.nan])), [0, 1, np.nan, np.nan])
    assert not rule.unknown(np.array([99.0, 1e6, -4])).any()


def test_an_appraisal_only_scheme_ranks_in_named_blocks_without_raters(tmp_path):
    scheme = """\
code: a
name: {vi: Thẩm định, en: Appraisal}
totals: {appraisal: 4, total: 4}
blocks:
  - {code: departments, name: {vi: Sở, en: Departments}}
  - {code: districts, name: {vi: Huyện, en: Districts}}
fields:
  - code: f
    name: {vi: F, en: F}
    criteria:
      - {code: "1", source: appraisal, max_points: 4, name: {vi: A, en: A}}
"""
    (tmp_path / "a.yaml").write_text(scheme)
    appraised = {"d1": ("departments", 1), "d2": ("departments", 3), "h1": ("districts", 2)}
    pd.DataFrame(
        {
            "unit_code": list(appraised),
            "unit_name": list(appraised),
            "block": [block for block, _points in appraised.values()],
            "field": "f",
            "criterion": "1",
            "max_points": 4,
            "self_points": 4,
            "appraised_points": [points for _block, points in appraised.values()],
        }
    ).to_csv(tmp_path / "appraisal.csv", index=False)
    done = run(tmp_path, "check-scheme", "a.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    done = run(
        tmp_path, "index", "--scheme", "a.yaml", "--appraisal", "appraisal.csv", "--out", "i.csv"
    )
    assert done.returncode == 0, done.stderr
    index = pd.read_csv(tmp_path / "i.csv").set_index("unit_code")
    # Each block ranks its own units: d2 first and d1 second among departments, h1 alone.
    assert index.loc[["d2", "d1", "h1"], "rank"].tolist() == [1, 2, 1]
    assert index.loc[["d2", "d1", "h1"], "units_in_block"].tolist() == [2, 2, 1]
