"""A small scheme and data set whose scores are worked out by hand from DOMAIN.md's rules.

The arithmetic is written out beside each expected value; nothing here calls the code under test.
The scheme uses the real questionnaires (leader.yaml, delegate.yaml, and the citizens' in its
2017 shape, earlier/citizen.yaml, named by the citizen group's own folder: its yes/no item gives a
rule of its own to one item).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRES = ROOT / "questionnaires"
EARLIER = QUESTIONNAIRES / "earlier"

SCHEME = """\
code: hand
year: 2024
name: {vi: Bộ điểm thử, en: Test scheme}
groups:
  leader: {questionnaire: leader, minimum_answers: 3}
  delegate: {questionnaire: delegate, minimum_answers: 3}
  citizen: {questionnaire: citizen, questionnaires: EARLIER, weighted: true, minimum_answers: 4}
totals: {appraisal: 3, survey: 4, sipas: 4, total: 11}
rules:
  quality: {type: mean, values: [1, 2, 3, 4]}
  satisfied: {type: share, values: [1, 2, 3, 4, 5], positive: [4, 5]}
  said_yes: {type: share, values: [1, 2], positive: [1]}
survey:
  rule: quality
  combine: {leader: 0.6, delegate: 0.4}
sipas:
  group: citizen
  rule: satisfied
  overall: elements
  elements:
    - code: access
      name: {vi: Tiếp cận, en: Access}
      items: [acc_1, acc_sat]
    - code: result
      name: {vi: Kết quả, en: Result}
      items: [result_1, {item: result_on_time, rule: said_yes}]
bands:
  - {code: A, min: 90}
  - {code: B, min: 80}
  - {code: C, min: 70}
  - {code: D, min: 0}
blocks:
  - code: provinces
    name: {vi: Tỉnh, en: Provinces}
    raters: [leader, delegate, citizen]
fields:
  - code: "1"
    name: {vi: Lĩnh vực một, en: Field one}
    criteria:
      - {code: "1.1", source: appraisal, max_points: 2, name: {vi: Thẩm định, en: Appraised}}
      - code: "1.2"
        source: survey
        max_points: 3
        name: {vi: Khảo sát, en: Surveyed}
        items: [f1_1, f1_2]
      - code: "1.3"
        source: survey
        max_points: 1
        name: {vi: Gộp, en: Pooled}
        combine: pooled
        items: {leader: [f1_3], delegate: [f1_3]}
  - code: "2"
    name: {vi: Lĩnh vực hai, en: Field two}
    criteria:
      - {code: "2.1", source: survey, max_points: 4, sipas: overall, name: {vi: SIPAS, en: SIPAS}}
      - {code: "2.2", source: appraisal, max_points: 1, name: {vi: Thẩm định, en: Appraised}}
""".replace("EARLIER", str(EARLIER))

# Empty cells are "don't know" (exported empty).
LEADER = pd.DataFrame(
    {
        "f1_1": [4, 3, None, 2],
        "f1_2": [1, 4, 4, 4],
        "f1_3": [3, 3, 4, None],
    }
)
DELEGATE = pd.DataFrame(
    {
        "f1_1": [1, 2, 2],
        "f1_2": [3, None, 4],
        "f1_3": [2, 4, None],
    }
)
CITIZEN = pd.DataFrame(
    {
        "acc_1": [5, 4, 2, 3, None],
        "acc_sat": [4, 5, 5, 1, 2],
        "result_1": [5, 5, 5, 5, 1],
        "result_on_time": [1, 2, 1, 1, None],
        "weight": [1.0, 2.0, 1.0, 3.0, 1.0],
    }
)

# --- items: quality (v - 1) / 3; shares weighted -----------------------------------------------
# leader f1_1: 4, 3, -, 2 -> 1, 2/3, 1/3: mean (1 + 2/3 + 1/3) / 3 = 2/3, n = 3
LEADER_F1_1 = 2 / 3
# its SE (SRS with replacement, 4 respondents, the missing one in the design with 0 influence):
# influence w (z - m) / W = (1 - 2/3) / 3 = 1/9, 0, -1/9, 0; mean 0;
# variance 4/3 x (1/81 + 0 + 1/81 + 0) = 8/243
LEADER_F1_1_SE = math.sqrt(8 / 243)
# leader f1_2: 1, 4, 4, 4 -> 0, 1, 1, 1: 3/4
LEADER_F1_2 = 3 / 4
# delegate f1_1: 1, 2, 2 -> 0, 1/3, 1/3: 2/9; f1_2: 3, -, 4 -> 2/3, 1: 5/6 (n = 2 < 3: flagged)
DELEGATE_F1_1 = 2 / 9
DELEGATE_F1_2 = 5 / 6

# --- criterion 1.2: max 3 x mean of item scores; groups 0.6 / 0.4 ------------------------------
# leader: 3 x (2/3 + 3/4) / 2 = 3 x 17/24 = 2.125
LEADER_1_2 = 3 * (2 / 3 + 3 / 4) / 2
# delegate: 3 x (2/9 + 5/6) / 2 = 3 x 19/36 = 1.583333...
DELEGATE_1_2 = 3 * (2 / 9 + 5 / 6) / 2
# combined: 0.6 x 2.125 + 0.4 x 1.583333 = 1.275 + 0.633333 = 1.908333...
CRITERION_1_2 = 0.6 * 2.125 + 0.4 * 19 / 12
# its SE: the groups are independent; leader's criterion SE by hand:
# leader z for f1_1 = (1, 2/3, -, 1/3), m1 = 2/3, W1 = 3; for f1_2 = (0, 1, 1, 1), m2 = 3/4, W2 = 4
# influence of the mean of the two items: (1/2) [ (z1 - m1)/3 + (z2 - m2)/4 ] per respondent
#   r1: (1/2) [ 1/9 + (-3/4)/4 ] = (1/2) (1/9 - 3/16) = (1/2) (-11/144) = -11/288
#   r2: (1/2) [ 0 + (1/4)/4 ] = 1/32 = 9/288
#   r3: (1/2) [ 0 + 1/16 ] = 9/288
#   r4: (1/2) [ -1/9 + 1/16 ] = (1/2) (-7/144) = -7/288
# they add to 0; variance 4/3 x (121 + 81 + 81 + 49) / 288^2 = 4/3 x 332 / 82944
LEADER_MEAN_VAR = 4 / 3 * 332 / 288**2
# delegate: z1 = (0, 1/3, 1/3), m1 = 2/9, W1 = 3; z2 = (2/3, -, 1), m2 = 5/6, W2 = 2
#   r1: (1/2) [ (-2/9)/3 + (-1/6)/2 ] = (1/2) (-2/27 - 1/12) = (1/2) (-17/108) = -17/216
#   r2: (1/2) [ (1/9)/3 + 0 ] = 1/54 = 4/216
#   r3: (1/2) [ (1/9)/3 + (1/6)/2 ] = (1/2) (1/27 + 1/12) = (1/2) (13/108) = 13/216
# they add to 0; variance 3/2 x (289 + 16 + 169) / 216^2
DELEGATE_MEAN_VAR = 3 / 2 * 474 / 216**2
# points = 3 x score, combined = 0.6 leader + 0.4 delegate
CRITERION_1_2_SE = math.sqrt((0.6 * 3) ** 2 * LEADER_MEAN_VAR + (0.4 * 3) ** 2 * DELEGATE_MEAN_VAR)

# --- criterion 1.3, pooled: leaders 3, 3, 4, - and delegates 2, 4, - -----------------------------
# scores 2/3, 2/3, 1, 1/3, 1: (2/3 + 2/3 + 1 + 1/3 + 1) / 5 = (11/3) / 5 = 11/15; x 1 point
CRITERION_1_3 = 11 / 15
FIELD_1 = CRITERION_1_2 + CRITERION_1_3

# --- SIPAS: weights 1, 2, 1, 3, 1 --------------------------------------------------------------
# acc_1: 5, 4, 2, 3, - -> 1, 1, 0, 0: (1 + 2) / (1 + 2 + 1 + 3) = 3/7
# acc_sat: 4, 5, 5, 1, 2 -> 1, 1, 1, 0, 0: (1 + 2 + 1) / 8 = 1/2
# access = 100 x (3/7 + 1/2) / 2 = 100 x 13/28 = 46.428571...
ACCESS = 100 * 13 / 28
# result_1: 5, 5, 5, 5, 1 -> (1 + 2 + 1 + 3) / 8 = 7/8
# result_on_time (yes = 1): 1, 2, 1, 1, - -> 1, 0, 1, 1: (1 + 1 + 3) / 7 = 5/7
# result = 100 x (7/8 + 5/7) / 2 = 100 x 89/112 = 79.464285...
RESULT = 100 * 89 / 112
# overall = mean of the elements = 100 x (52/112 + 89/112) / 2 = 100 x 141/224 = 62.946428...
SIPAS = 100 * 141 / 224
# citizens' points = 4 x SIPAS / 100 = 141/56 = 2.517857...
CRITERION_2_1 = 4 * 141 / 224

SURVEY_TOTAL = FIELD_1  # leaders and delegates: 1.908333 + 0.733333 = 2.641667
ALL_TOTAL = FIELD_1 + CRITERION_2_1  # 2.641667 + 2.517857 = 5.159524


def write_files(folder: Path) -> dict[str, Path]:
    """The scheme and the three response files in ``folder``."""
    paths = {"scheme": folder / "hand.yaml"}
    paths["scheme"].write_text(SCHEME, encoding="utf-8")
    for group, table in (("leader", LEADER), ("delegate", DELEGATE), ("citizen", CITIZEN)):
        paths[group] = folder / f"{group}.csv"
        table.to_csv(paths[group], index=False)
    return paths
