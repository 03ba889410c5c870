"""An index shape written from questionnaires/scoring/README.md alone, run through the command
line (check-scheme, score, index) and compared with values worked out here from the raw answers:
a group named neither citizen, leader nor delegate (business owners), a criterion floor, a field
floor, threshold `below` and `range` rules in both directions, two blocks named by a column, one
responses file with a group column, bands and ranks per block."""

from __future__ import annotations

import pandas as pd
import pytest
from test_cli import run

QUESTIONNAIRE = """\
code: biz
group: business_owner
access: invitation
title: {vi: Doanh nghiệp, en: Businesses}
intro: {vi: Phiếu, en: Form}
scales:
  agree5:
    options:
      - {value: 1, label: {vi: a, en: a}}
      - {value: 2, label: {vi: b, en: b}}
      - {value: 3, label: {vi: c, en: c}}
      - {value: 4, label: {vi: d, en: d}}
      - {value: 5, label: {vi: e, en: e}}
      - {value: 9, missing: true, label: {vi: Không biết, en: Don't know}}
pages:
  - code: p1
    title: {vi: Trang, en: Page}
    items:
      - {code: q1, type: single, scale: agree5, label: {vi: q1, en: q1}}
      - {code: q2, type: single, scale: agree5, label: {vi: q2, en: q2}}
      - {code: visits, type: integer, min: 0, max: 50, label: {vi: v, en: v}}
      - {code: cost, type: integer, min: 0, max: 1000, label: {vi: c, en: c}}
      - {code: online, type: integer, min: 0, max: 20, label: {vi: o, en: o}}
"""

SCHEME = """\
code: business
name: {vi: Chỉ số doanh nghiệp, en: Business index}
groups:
  owner: {questionnaire: biz, minimum_answers: 2}
totals: {survey: 30, total: 30}
rules:
  agree: {type: mean, values: [1, 2, 3, 4, 5]}
  few_visits: {type: threshold, below: 3}
  cheap: {type: range, worst: 500, best: 0}
  online: {type: range, worst: 0, best: 4}
survey:
  rule: agree
  combine: {owner: 1}
bands:
  - {code: high, min: 60, name: {vi: Cao, en: High}}
  - {code: low, min: 0, name: {vi: Thấp, en: Low}}
blocks:
  - {code: east, name: {vi: Đông, en: East}}
  - {code: west, name: {vi: Tây, en: West}, raters: [owner]}
fields:
  - code: "A"
    name: {vi: A, en: A}
    criteria:
      - {code: A1, source: survey, max_points: 10, floor: 2, items: [q1, q2], name: {vi: a, en: a}}
  - code: "B"
    name: {vi: B, en: B}
    floor: 1
    max_points: 10
    criteria:
      - {code: B1, source: survey, max_points: 3, rule: few_visits, items: [visits],
         name: {vi: b, en: b}}
      - {code: B2, source: survey, max_points: 1, rule: cheap, items: [cost], name: {vi: c, en: c}}
  - code: "C"
    name: {vi: C, en: C}
    criteria:
      - {code: C1, source: survey, max_points: 10, items: [{item: online, rule: online}],
         name: {vi: d, en: d}}
"""

DATA = """\
group,firm,district,side,q1,q2,visits,cost,online
owner,r1,d1,east,5,4,1,0,6
owner,r2,d1,east,3,,5,250,2
owner,r3,d1,east,1,2,2,600,
owner,r4,d2,east,2,2,2,400,1
owner,r5,d2,east,4,5,3,100,4
owner,r6,d3,west,4,4,0,100,0
owner,r7,d3,west,2,5,3,,3
owner,r8,d3,west,5,5,10,50,8
owner,r9,d4,west,1,1,5,500,0
owner,r10,d4,west,2,,4,450,1
"""


def clip01(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def mean(values) -> float:
    values = [v for v in values if v == v]  # NaN is "don't know"
    return sum(values) / len(values)


def by_hand(rows: pd.DataFrame) -> dict[str, float]:
    """The README's formulas, written out."""
    q = mean([(v - 1) / 4 for v in rows.q1]), mean([(v - 1) / 4 for v in rows.q2])
    a1 = 2 + (10 - 2) * (q[0] + q[1]) / 2  # criterion floor
    b1 = 3 * mean([1.0 if v < 3 else 0.0 for v in rows.visits])
    b2 = 1 * mean([clip01((v - 500) / (0 - 500)) if v == v else v for v in rows.cost])
    b = 1 + (10 - 1) * (b1 + b2) / (3 + 1)  # field floor
    c1 = 10 * mean([clip01((v - 0) / (4 - 0)) if v == v else v for v in rows.online])
    return {"A1": a1, "B1": b1, "B2": b2, "B": b, "C1": c1, "total": a1 + b + c1}


def test_a_shape_written_from_the_readme(tmp_path):
    folder = tmp_path / "questionnaires"
    (folder / "scoring").mkdir(parents=True)
    (folder / "biz.yaml").write_text(QUESTIONNAIRE)
    scheme = folder / "scoring" / "business.yaml"
    scheme.write_text(SCHEME)
    (tmp_path / "owners.csv").write_text(DATA)
    checked = run(tmp_path, "check-scheme", str(scheme))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"items checked against the questionnaires of {folder}" in checked.stdout
    scored = run(tmp_path, "score", "--scheme", str(scheme), "--data", "owners.csv", "--unit",
                 "district", "--block", "side", "--out", "scores.csv")  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    indexed = run(tmp_path, "index", "--scheme", str(scheme), "--survey", "scores.csv",
                  "--out", "index.csv")  # fmt: skip
    assert indexed.returncode == 0, indexed.stderr
    data = pd.read_csv(tmp_path / "owners.csv")
    scores = pd.read_csv(tmp_path / "scores.csv", dtype={"code": str, "group": str})
    index = pd.read_csv(tmp_path / "index.csv").set_index("unit_code")
    expected = {d: by_hand(rows) for d, rows in data.groupby("district")}
    for district, want in expected.items():
        mine = scores[(scores.unit == district) & scores.group.isna()]
        for code in ("A1", "B1", "B2", "C1"):
            row = mine[(mine.kind == "criterion") & (mine.code == code)].iloc[0]
            assert row.estimate == pytest.approx(want[code], abs=1e-12), (district, code)
        field_b = mine[(mine.kind == "field") & (mine.code == "B")].iloc[0]
        assert field_b.estimate == pytest.approx(want["B"], abs=1e-12)
        assert index.loc[district, "total_points"] == pytest.approx(want["total"], abs=1e-12)
        assert index.loc[district, "percent"] == pytest.approx(want["total"] / 30 * 100)
        assert index.loc[district, "band"] == ("high" if want["total"] / 30 >= 0.6 else "low")
        assert pd.isna(index.loc[district, "appraisal_points"])  # no appraisal part: empty, not 0
        # n: the firms with a valid answer on q1 or q2
        rows = data[data.district == district]
        a1 = mine[(mine.kind == "criterion") & (mine.code == "A1")].iloc[0]
        assert a1.n == (rows.q1.notna() | rows.q2.notna()).sum()
    # ranks within each block, by the hand totals
    for side, units in (("east", ["d1", "d2"]), ("west", ["d3", "d4"])):
        order = sorted(units, key=lambda d: -expected[d]["total"])
        assert list(index.loc[order, "rank"]) == [1, 2]
        assert set(index.loc[units, "block"]) == {side}
    assert set(index.band) == {"high", "low"}  # the data reach both bands
