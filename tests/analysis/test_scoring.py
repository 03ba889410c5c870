"""Scoring against the hand-worked data set, plus flags, units, pooled groups and bad data."""

from __future__ import annotations

import hand_scoring as hand
import numpy as np
import pandas as pd
import pytest
from hand_scoring import QUESTIONNAIRES, SCHEME

from analysis.estimate import Design, domain_estimates
from analysis.scheme import parse_scheme
from analysis.scoring import ScoringError, score


@pytest.fixture(scope="module")
def scheme():
    return parse_scheme(SCHEME, "hand.yaml", QUESTIONNAIRES)


@pytest.fixture(scope="module")
def scored(scheme):
    responses = {"leader": hand.LEADER, "delegate": hand.DELEGATE, "citizen": hand.CITIZEN}
    return score(scheme, responses).table


def pick(table, kind, code, group=""):
    rows = table[(table.kind == kind) & (table.code == code) & (table.group == group)]
    assert len(rows) == 1, (kind, code, group, rows)
    return rows.iloc[0]


def test_items_by_hand(scored):
    f1_1 = pick(scored, "item", "f1_1", "leader")
    assert f1_1.estimate == pytest.approx(hand.LEADER_F1_1, abs=1e-12)
    assert f1_1.se == pytest.approx(hand.LEADER_F1_1_SE, abs=1e-12)
    assert f1_1.n == 3 and f1_1.rule == "quality"
    assert f1_1.ci_low == pytest.approx(hand.LEADER_F1_1 - 1.959963984540054 * f1_1.se)
    assert pick(scored, "item", "f1_2", "leader").estimate == pytest.approx(hand.LEADER_F1_2)
    assert pick(scored, "item", "f1_1", "delegate").estimate == pytest.approx(hand.DELEGATE_F1_1)
    delegate_f1_2 = pick(scored, "item", "f1_2", "delegate")
    assert delegate_f1_2.estimate == pytest.approx(hand.DELEGATE_F1_2)
    assert delegate_f1_2.n == 2 and delegate_f1_2.low_n  # below the delegates' minimum of 3


def test_criteria_fields_and_totals_by_hand(scored):
    assert pick(scored, "criterion", "1.2", "leader").estimate == pytest.approx(hand.LEADER_1_2)
    assert pick(scored, "criterion", "1.2", "delegate").estimate == pytest.approx(hand.DELEGATE_1_2)
    combined = pick(scored, "criterion", "1.2")
    assert combined.estimate == pytest.approx(hand.CRITERION_1_2, abs=1e-12)
    assert combined.se == pytest.approx(hand.CRITERION_1_2_SE, abs=1e-12)
    assert combined.max_points == 3 and combined.n == 7 and combined.low_n
    pooled = pick(scored, "criterion", "1.3", "leader+delegate")
    assert pooled.estimate == pytest.approx(hand.CRITERION_1_3, abs=1e-12)
    assert pick(scored, "criterion", "1.3").estimate == pytest.approx(hand.CRITERION_1_3)
    assert pick(scored, "field", "1").estimate == pytest.approx(hand.FIELD_1, abs=1e-12)
    assert pick(scored, "total", "survey").estimate == pytest.approx(hand.SURVEY_TOTAL)
    assert pick(scored, "total", "all").estimate == pytest.approx(hand.ALL_TOTAL, abs=1e-12)
    assert pick(scored, "total", "all").max_points == 8


def test_sipas_by_hand(scored):
    assert pick(scored, "sipas_element", "access", "citizen").estimate == pytest.approx(
        hand.ACCESS, abs=1e-10
    )
    assert pick(scored, "sipas_element", "result", "citizen").estimate == pytest.approx(
        hand.RESULT, abs=1e-10
    )
    overall = pick(scored, "sipas", "overall", "citizen")
    assert overall.estimate == pytest.approx(hand.SIPAS, abs=1e-10)
    assert overall.n == 5 and not overall.low_n
    assert pick(scored, "criterion", "2.1").estimate == pytest.approx(hand.CRITERION_2_1)
    assert pick(scored, "total", "sipas").estimate == pytest.approx(hand.CRITERION_2_1)


def test_item_errors_are_the_estimate_module_s(scored):
    """Item scores and SEs are those of analysis.estimate on the same indicator."""
    z = np.where(hand.CITIZEN["acc_1"].isna(), np.nan, hand.CITIZEN["acc_1"].isin([4, 5]))
    design = Design.build(hand.CITIZEN["weight"])
    reference = domain_estimates(design, z.astype(float)).iloc[0]
    ours = pick(scored, "item", "acc_1", "citizen")
    assert ours.estimate == pytest.approx(reference.estimate, rel=1e-12)
    assert ours.se == pytest.approx(reference.se, rel=1e-12)


def test_one_table_with_a_group_column_gives_the_same(scheme, scored):
    stacked = pd.concat(
        [
            hand.LEADER.assign(group="leader"),
            hand.DELEGATE.assign(group="delegate"),
            hand.CITIZEN.assign(group="citizen"),
        ],
        ignore_index=True,
    )
    again = score(scheme, stacked).table
    pd.testing.assert_frame_equal(again, scored)


def test_units_are_domains_and_cross_rating_is_checked(scheme):
    # two provinces; each unit's scores are those of its own respondents
    leader = pd.concat([hand.LEADER, hand.LEADER.assign(f1_1=4)], ignore_index=True)
    leader["unit"] = ["a"] * 4 + ["b"] * 4
    delegate = pd.concat([hand.DELEGATE, hand.DELEGATE], ignore_index=True)
    delegate["unit"] = ["a"] * 3 + ["b"] * 3
    table = score(scheme, {"leader": leader, "delegate": delegate}, unit="unit").table
    a = table[(table.unit == "a") & (table.kind == "item") & (table.group == "leader")]
    b = table[(table.unit == "b") & (table.kind == "item") & (table.group == "leader")]
    assert a.set_index("code").loc["f1_1", "estimate"] == pytest.approx(hand.LEADER_F1_1)
    assert b.set_index("code").loc["f1_1", "estimate"] == pytest.approx(1.0)
    # a unit's estimate is a domain of the group's design: same point estimate as alone
    alone = score(scheme, {"leader": hand.LEADER, "delegate": hand.DELEGATE}).table
    ca = table[(table.unit == "a") & (table.kind == "criterion") & (table.group == "")]
    assert ca.set_index("code").loc["1.2", "estimate"] == pytest.approx(
        pick(alone, "criterion", "1.2").estimate
    )
    # without citizens SIPAS and the citizens' points are named, with no value: never 0
    missing = table[table.kind.isin(["sipas", "sipas_element"]) | (table.code == "2.1")]
    assert len(missing) == 2 * (1 + 2 + 1)  # per unit: SIPAS, its 2 elements, criterion 2.1
    assert missing["estimate"].isna().all() and missing["no_data"].all()
    assert missing["low_n"].all() and (missing["n"] == 0).all()
    totals = table[table.kind == "total"].set_index(["unit", "code"])
    assert np.isnan(totals.loc[("a", "all"), "estimate"])
    assert totals.loc[("a", "survey"), "estimate"] == pytest.approx(ca.estimate.sum())


def test_groups_that_do_not_rate_a_block_are_refused():
    blocked = SCHEME.replace(
        "raters: [leader, delegate, citizen]",
        "raters: [delegate, citizen]\n  - code: departments\n"
        "    name: {vi: Sở, en: Departments}\n    raters: [leader]",
    )
    scheme = parse_scheme(blocked, "blocked.yaml")
    leader = hand.LEADER.assign(unit="agency", block="provinces")
    with pytest.raises(ScoringError, match=r"row 2 of the leader responses rates 'agency'"):
        score(scheme, {"leader": leader}, unit="unit", block="block")
    with pytest.raises(ScoringError, match="several blocks"):
        score(scheme, {"leader": leader}, unit="unit")


def test_weights_rescale_over_groups_with_answers(scheme):
    # only leaders answered: the criterion is the leaders' points (weight 0.6 rescaled to 1)
    table = score(scheme, {"leader": hand.LEADER}).table
    assert pick(table, "criterion", "1.2").estimate == pytest.approx(hand.LEADER_1_2)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.assign(f1_1=[4, 3, 9, 2]), r"row 4 of the leader responses answers f1_1"),
        (lambda d: d.assign(f1_1=["4", "good", None, "2"]), r"'good'"),
        (lambda d: d.drop(columns="f1_2"), r"no column 'f1_2'"),
    ],
)
def test_bad_answers_name_the_row(scheme, change, message):
    with pytest.raises(ScoringError, match=message):
        score(scheme, {"leader": change(hand.LEADER.copy())})


def test_weighted_groups_need_their_weights(scheme):
    with pytest.raises(ScoringError, match="no weight column 'weight'"):
        score(scheme, {"citizen": hand.CITIZEN.drop(columns="weight")})
    with pytest.raises(ScoringError, match="group 'mayor'"):
        score(scheme, {"mayor": hand.LEADER})


def test_the_2022_scheme_scores_export_shaped_data():
    """Every answer option of the real questionnaires, at random: totals stay within maxima."""
    from analysis.questionnaire import read_questionnaire, variables
    from analysis.scheme import load_scheme

    scheme = load_scheme(QUESTIONNAIRES / "scoring" / "par2022.yaml", QUESTIONNAIRES)
    rng = np.random.default_rng(5)
    responses = {}
    for group, n in (("leader", 120), ("delegate", 40), ("citizen", 300)):
        columns = {}
        for v in variables(read_questionnaire(QUESTIONNAIRES, group)):
            if v.values and all(isinstance(x, int) for x in v.values):
                answers = rng.choice(v.values, n).astype(float)
                answers[rng.random(n) < 0.1] = np.nan  # don't know
                columns[v.name] = answers
        responses[group] = pd.DataFrame(columns)
    responses["citizen"]["weight"] = rng.uniform(1, 5, 300)
    table = score(scheme, responses, unit_code="ha_tinh").table
    totals = table[table.kind == "total"].set_index("code")
    assert totals.max_points.to_dict() == {"survey": 22, "sipas": 10, "all": 32}
    assert (totals.estimate > 0).all() and (totals.estimate <= totals.max_points).all()
    criteria = table[(table.kind == "criterion") & (table.group == "")]
    assert len(criteria) == 17 and (criteria.estimate <= criteria.max_points).all()
    assert criteria.se.gt(0).all() and not criteria.low_n.any()
