"""The index on a built example: points, %, ties, bands, changes, weak criteria, bad files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hand_scoring import SCHEME

from analysis.index import (
    AppraisalError,
    build_index,
    check_appraisal,
    competition_rank,
    published,
    read_previous,
    read_table,
    survey_points,
)
from analysis.scheme import SchemeError, parse_scheme

TWO_BLOCKS = SCHEME.replace(
    "    raters: [leader, delegate, citizen]\n",
    "    raters: [leader, delegate, citizen]\n  - code: cities\n"
    "    name: {vi: Thành phố, en: Cities}\n    raters: [leader, delegate, citizen]\n",
)
# unit: block, appraisal 1.1 (max 2), 2.2 (max 1); survey 1.2 (3), 1.3 (1), 2.1 (4); max 11
UNITS = {
    "u1": ("provinces", 2, 1, 3, 1, 4),  # 11 -> 100 %, A, rank 1
    "u2": ("provinces", 2, 1, 2.5, 1, 3.5),  # 10 -> 90.91 %, A, rank 2
    "u3": ("provinces", 1.5, 1, 3, 1, 3.5),  # 10 -> tie, rank 2
    "u4": ("provinces", 0, 1, 3, 1, 3.8),  # 8.8 -> 80 % exactly, B, rank 4; 1.1 at zero
    "u5": ("provinces", 1, 0.4, 1, 0.5, 4),  # 6.9 -> 62.73 %, D, rank 5; 2.2 and 1.2 below half
    "c1": ("cities", 1.1, 1, 2, 0.4, 3.2),  # 7.7 -> 70 %, C, rank 1 of its block; 1.3 below half
    "c2": ("cities", 1.5, 0.5, 1.5, 1, 3.2),  # 7.7 -> tie, rank 1; exactly half is not weak
}


@pytest.fixture(scope="module")
def scheme():
    return parse_scheme(TWO_BLOCKS, "two_blocks.yaml")


def appraisal_table() -> pd.DataFrame:
    rows = []
    for code, (block, a11, a22, *_rest) in UNITS.items():
        for field, criterion, maximum, points in (("1", "1.1", 2, a11), ("2", "2.2", 1, a22)):
            rows.append(
                {
                    "unit_code": code,
                    "unit_name": f"Unit {code}",
                    "block": block,
                    "field": field,
                    "criterion": criterion,
                    "max_points": maximum,
                    "self_points": maximum,
                    "appraised_points": points,
                }
            )
    return pd.DataFrame(rows).astype(str)


def scores_table() -> pd.DataFrame:
    rows = []
    for code, (block, _a11, _a22, s12, s13, s21) in UNITS.items():
        for field, criterion, points in (("1", "1.2", s12), ("1", "1.3", s13), ("2", "2.1", s21)):
            rows.append(
                {
                    "unit": code,
                    "block": block,
                    "kind": "criterion",
                    "field": field,
                    "code": criterion,
                    "group": "",
                    "estimate": points,
                    "se": 0.1,
                    "low_n": code == "u5",
                }
            )
            rows.append({**rows[-1], "group": "leader", "estimate": 0.0})  # ignored
        rows.append(
            {
                "unit": code,
                "kind": "total",
                "code": "all",
                "group": "",
                "se": 0.25,
                "estimate": s12 + s13 + s21,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def built(scheme):
    appraisal = check_appraisal(scheme, appraisal_table())
    previous = pd.DataFrame(
        {
            "unit_code": ["u1", "u3", "c1"],
            "previous_rank": [2, 1, 1],
            "previous_percent": [95.0, 92.0, 70.0],
        }
    )
    return build_index(scheme, appraisal, survey_points(scheme, scores_table()), previous)


def test_ranks_ties_and_bands(built):
    table = built.table.set_index("unit_code")
    assert table.loc[["u1", "u2", "u3", "u4", "u5"], "rank"].tolist() == [1, 2, 2, 4, 5]
    assert table.loc[["c1", "c2"], "rank"].tolist() == [1, 1]
    assert table.loc["u1", "units_in_block"] == 5 and table.loc["c1", "units_in_block"] == 2
    assert table.loc[["u1", "u2", "u3", "u4", "u5", "c1", "c2"], "band"].tolist() == [
        "A",
        "A",
        "A",
        "B",
        "D",
        "C",
        "C",
    ]
    # 0 + 1 + 3 + 1 + 3.8 = 8.8 of 11 = 80 %: on the threshold, so B
    assert table.loc["u4", "percent"] == pytest.approx(80.0)
    assert table.loc["u2", "percent"] == pytest.approx(100 * 10 / 11)
    # ordered by block, then rank
    assert built.table["unit_code"].tolist() == ["c1", "c2", "u1", "u2", "u3", "u4", "u5"]


def test_points_per_field_and_source(built):
    u5 = built.table.set_index("unit_code").loc["u5"]
    assert u5["appraisal_points"] == pytest.approx(1.4)  # 1 + 0.4
    assert u5["survey_points"] == pytest.approx(5.5)  # 1 + 0.5 + 4
    assert u5["field_1_points"] == pytest.approx(2.5)  # 1 + 1 + 0.5 of 2 + 3 + 1 = 6
    assert u5["field_1_percent"] == pytest.approx(100 * 2.5 / 6)
    assert u5["field_2_points"] == pytest.approx(4.4)  # 4 + 0.4 of 5
    assert u5["survey_se"] == 0.25 and u5["low_n"]
    assert u5["max_points"] == 11


def test_changes_against_last_year(built):
    table = built.table.set_index("unit_code")
    assert table.loc["u1", "rank_change"] == 1  # 2 -> 1: up one
    assert table.loc["u3", "rank_change"] == -1  # 1 -> 2
    assert table.loc["u1", "percent_change"] == pytest.approx(5.0)
    assert table.loc["c1", "rank_change"] == 0
    assert np.isnan(table.loc["u2", "rank_change"])  # not in last year's file


def test_weak_criteria(built):
    weak = built.weak
    assert weak[["unit_code", "criterion", "reason"]].values.tolist() == [
        ["c1", "1.3", "below half"],
        ["u4", "1.1", "zero"],
        ["u5", "1.2", "below half"],
        ["u5", "2.2", "below half"],
    ]
    assert built.table.set_index("unit_code").loc["u5", "weak_criteria"] == (
        "1.2 (1/3); 2.2 (0.4/1)"
    )


def test_competition_rank():
    assert competition_rank([5, 7, 7, 3, 7, 1]).tolist() == [4, 1, 1, 5, 1, 6]
    # sums that differ only in the last bits are a tie
    assert competition_rank([0.1 + 0.2, 0.3]).tolist() == [1, 1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop(columns="max_points"), "lacks the column max_points"),
        (
            lambda t: t.assign(criterion=t.criterion.where(t.index != 3, "9.9")),
            "appraisal file:5: the criterion '9.9' is not in the scheme hand",
        ),
        (
            lambda t: t.assign(criterion=t.criterion.where(t.index != 3, "1.2")),
            ":5: the criterion 1.2 is scored by the survey",
        ),
        (
            lambda t: t.assign(appraised_points=t.appraised_points.where(t.index != 2, "2.5")),
            r":4: appraised_points 2.5 is outside 0 to the maximum 2 of criterion 1.1",
        ),
        (
            lambda t: t.assign(appraised_points=t.appraised_points.where(t.index != 2, "-1")),
            ":4: appraised_points -1 is outside",
        ),
        (
            lambda t: t.assign(appraised_points=t.appraised_points.where(t.index != 2, "two")),
            ":4: appraised_points 'two' is not a number",
        ),
        (
            lambda t: t.assign(max_points=t.max_points.where(t.index != 0, "3")),
            ":2: max_points is 3 but the scheme gives the criterion 1.1 2 points",
        ),
        (
            lambda t: pd.concat([t, t.iloc[[0]]], ignore_index=True),
            r":16: the unit u1 has the criterion 1.1 twice \(also on row 2\)",
        ),
        (
            lambda t: t.assign(unit_name=t.unit_name.where(t.index != 1, "Other")),
            ":3: the unit u1 is named 'Other'",
        ),
        (lambda t: t.drop(index=1), "no row for the unit u1 and the criterion 2.2"),
        (
            lambda t: t.assign(field=t.field.where(t.index != 0, "2")),
            ":2: the criterion 1.1 belongs to field 1, not '2'",
        ),
        (
            lambda t: t.assign(block=t.block.where(t.index != 0, "moon")),
            ":2: the block 'moon' is not one of the scheme's blocks",
        ),
        (
            lambda t: t.assign(appraised_points=t.appraised_points.where(t.index != 0, None)),
            ":2: appraised_points is empty",
        ),
    ],
)
def test_bad_appraisal_files_name_the_row(scheme, change, message):
    with pytest.raises(AppraisalError, match=message):
        check_appraisal(scheme, change(appraisal_table()))


def test_every_bad_row_of_an_appraisal_file_is_named_at_once(scheme):
    table = appraisal_table()
    table.loc[0, "block"] = "moon"
    table.loc[2, "appraised_points"] = "two"
    table.loc[3, "criterion"] = "9.9"
    with pytest.raises(AppraisalError) as caught:
        check_appraisal(scheme, table)
    assert [(p.file, p.row) for p in caught.value.problems] == [
        ("appraisal file", 2),
        ("appraisal file", 4),
        ("appraisal file", 5),
    ]
    assert "appraisal file:4: appraised_points 'two' is not a number" in str(caught.value)


def test_self_points_preview(scheme):
    checked = check_appraisal(scheme, appraisal_table(), points="self")
    assert checked.loc[checked.criterion == "1.1", "points"].eq(2).all()


def test_survey_scores_must_cover_every_unit(scheme):
    appraisal = check_appraisal(scheme, appraisal_table())
    scores = scores_table()
    scores = scores[~((scores.unit == "u2") & (scores.code == "1.3"))]
    with pytest.raises(AppraisalError, match="no points for the criterion 1.3 of the unit u2"):
        build_index(scheme, appraisal, survey_points(scheme, scores))
    one = scores_table()[lambda t: t.unit == "u1"].assign(unit="zz")
    stranger = pd.concat([scores_table(), one], ignore_index=True)
    with pytest.raises(AppraisalError, match="units with no appraisal rows: zz"):
        build_index(scheme, appraisal, survey_points(scheme, stranger))


def test_excel_and_csv_read_alike(scheme, tmp_path):
    table = appraisal_table()
    table.to_csv(tmp_path / "a.csv", index=False)
    table.to_excel(tmp_path / "a.xlsx", index=False)
    from_csv = check_appraisal(scheme, read_table(tmp_path / "a.csv", "appraisal file"))
    from_excel = check_appraisal(scheme, read_table(tmp_path / "a.xlsx", "appraisal file"))
    pd.testing.assert_frame_equal(from_csv, from_excel)
    with pytest.raises(AppraisalError, match="no such file"):
        read_table(tmp_path / "none.csv", "appraisal file")


def test_previous_index_file(tmp_path):
    (tmp_path / "p.csv").write_text("unit_code,rank,percent\nu1,3,80.5\n")
    previous = read_previous(tmp_path / "p.csv")
    assert previous.to_dict("records") == [
        {"unit_code": "u1", "previous_rank": 3, "previous_percent": 80.5}
    ]
    (tmp_path / "q.csv").write_text("unit_code,percent\nu1,80.5\n")
    with pytest.raises(AppraisalError, match="lacks the column rank"):
        read_previous(tmp_path / "q.csv")


def test_no_weak_criterion_is_the_normal_case(scheme):
    # every criterion at its maximum: no weak criteria at all (pandas 3 once crashed here)
    appraisal = appraisal_table()
    appraisal["appraised_points"] = appraisal["max_points"]
    scores = scores_table()
    maxima = {"1.2": 3, "1.3": 1, "2.1": 4}
    scores["estimate"] = [
        maxima.get(c, e) for c, e in zip(scores["code"], scores["estimate"], strict=True)
    ]
    built = build_index(scheme, check_appraisal(scheme, appraisal), survey_points(scheme, scores))
    assert built.weak.empty
    assert (built.table["weak_criteria"] == "").all()
    assert built.table["percent"].tolist() == pytest.approx([100.0] * len(UNITS))
    assert built.table["rank"].tolist() == [1] * len(UNITS)


def test_a_unit_without_survey_data_has_no_total_and_no_rank(scheme):
    scores = scores_table()
    nobody = (scores["unit"] == "u3") & (scores["code"] == "2.1")
    scores.loc[nobody, ["estimate", "se"]] = np.nan
    built = build_index(
        scheme, check_appraisal(scheme, appraisal_table()), survey_points(scheme, scores)
    )
    table = built.table.set_index("unit_code")
    u3 = table.loc["u3"]
    assert u3["no_data"] == "2.1"
    assert np.isnan(u3["total_points"]) and np.isnan(u3["percent"])
    assert np.isnan(u3["field_2_points"]) and pd.isna(u3["field_2_rank"])
    assert u3["field_1_points"] == pytest.approx(1.5 + 3 + 1)  # field 1 is whole
    assert pd.isna(u3["rank"]) and u3["band"] == ""
    # the others are ranked among themselves: u2 alone at 10 now
    assert table.loc[["u1", "u2", "u4", "u5"], "rank"].tolist() == [1, 2, 3, 4]
    assert table.loc["u1", "units_in_block"] == 4
    assert "u3" not in set(built.weak["unit_code"]) or "2.1" not in set(
        built.weak.loc[built.weak["unit_code"] == "u3", "criterion"]
    )


def test_a_unit_with_no_respondents_at_all_is_not_an_error(scheme):
    scores = scores_table()
    scores = scores[scores["unit"] != "u5"]
    built = build_index(
        scheme, check_appraisal(scheme, appraisal_table()), survey_points(scheme, scores)
    )
    u5 = built.table.set_index("unit_code").loc["u5"]
    assert u5["no_data"] == "1.2; 1.3; 2.1" and pd.isna(u5["rank"])
    assert u5["appraisal_points"] == pytest.approx(1.4)


def test_scores_of_other_units_only_are_refused(scheme):
    scores = scores_table().assign(unit="all")
    scores = scores.drop_duplicates(["unit", "kind", "code", "group"])
    with pytest.raises(AppraisalError, match="none of the appraisal file's units"):
        build_index(
            scheme, check_appraisal(scheme, appraisal_table()), survey_points(scheme, scores)
        )


def test_published_rounding_is_half_away_from_zero():
    assert published([89.225, 89.224999, 89.2250000001, -1.005, np.nan]).tolist()[:4] == [
        89.23,
        89.22,
        89.23,
        -1.01,
    ]
    # the float nearest 0.285 is below it; published as a spreadsheet shows it
    assert published(0.285, 2) == 0.29 and published(2.5, 0) == 3.0


def test_ties_and_bands_are_decided_on_the_published_percent(scheme):
    # u1 at 89.995 % and u2 at 90.004 % both publish as 90.00: a tie at rank 1, both in band A;
    # u3 at 89.994 % publishes as 89.99: rank 3, band B
    appraisal = appraisal_table()
    scores = scores_table()
    targets = {"u1": 89.995, "u2": 90.004, "u3": 89.994}
    for unit, percent in targets.items():
        # move the SIPAS criterion 2.1 so the total is percent % of 11
        others = 11 * percent / 100 - _total_without_2_1(appraisal, scores, unit)
        scores.loc[(scores["unit"] == unit) & (scores["code"] == "2.1"), "estimate"] = others
    built = build_index(scheme, check_appraisal(scheme, appraisal), survey_points(scheme, scores))
    table = built.table.set_index("unit_code")
    assert table.loc[["u1", "u2", "u3"], "percent"].tolist() == pytest.approx(
        list(targets.values())
    )
    assert table.loc[["u1", "u2", "u3"], "published_percent"].tolist() == [90.0, 90.0, 89.99]
    assert table.loc[["u1", "u2", "u3"], "rank"].tolist() == [1, 1, 3]
    assert table.loc[["u1", "u2", "u3"], "band"].tolist() == ["A", "A", "B"]


def test_the_scheme_says_how_many_decimals_are_published():
    one = parse_scheme(TWO_BLOCKS.replace("code: hand\n", "code: hand\ndecimals: 0\n"))
    assert one.decimals == 0
    appraisal = appraisal_table()
    scores = scores_table()
    for unit, percent in {"u1": 89.6, "u2": 90.4}.items():
        rest = _total_without_2_1(appraisal, scores, unit)
        scores.loc[(scores["unit"] == unit) & (scores["code"] == "2.1"), "estimate"] = (
            11 * percent / 100 - rest
        )
    built = build_index(one, check_appraisal(one, appraisal), survey_points(one, scores))
    table = built.table.set_index("unit_code")
    assert table.loc[["u1", "u2"], "published_percent"].tolist() == [90.0, 90.0]
    # u3 publishes 91 (10 of 11); u1 and u2 tie behind it
    assert table.loc[["u3", "u1", "u2"], "rank"].tolist() == [1, 2, 2]
    with pytest.raises(SchemeError, match="decimals"):
        parse_scheme(TWO_BLOCKS.replace("code: hand\n", "code: hand\ndecimals: 2.5\n"))


def test_fields_are_ranked_within_the_block(built):
    table = built.table.set_index("unit_code")
    # field 2: u1 4+1, u2 3.5+1, u3 3.5+1, u4 3.8+1, u5 4+0.4 of 5: ties share rank 3
    assert table.loc[["u1", "u2", "u3", "u4", "u5"], "field_2_rank"].tolist() == [1, 3, 3, 2, 5]


def _total_without_2_1(appraisal, scores, unit) -> float:
    mine = appraisal[appraisal["unit_code"] == unit]["appraised_points"].astype(float).sum()
    rows = scores[
        (scores["unit"] == unit) & (scores["kind"] == "criterion") & (scores["group"] == "")
    ]
    return mine + rows.loc[rows["code"] != "2.1", "estimate"].astype(float).sum()
