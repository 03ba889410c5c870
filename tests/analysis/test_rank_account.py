"""The generated account of a unit's move: from an index built by `analysis.index` on inputs
small enough to rank by hand, and from rows shaped like the province's published examples."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from analysis.index import build_index, check_appraisal
from analysis.rank_account import unit_account, zero_criteria
from analysis.scheme import parse_scheme

SCHEME = {
    "code": "appraisal_three",
    "name": {"vi": "Thử", "en": "Test"},
    "totals": {"appraisal": 30, "total": 30},
    "bands": [{"code": "A", "min": 90}, {"code": "B", "min": 0}],
    "blocks": [{"code": "departments", "name": {"vi": "Sở", "en": "Departments"}}],
    "fields": [
        {
            "code": str(i),
            "name": {"vi": f"Lĩnh vực {i}", "en": f"field {i}"},
            "criteria": [
                {
                    "code": f"{i}.1",
                    "source": "appraisal",
                    "max_points": 10,
                    "name": {"vi": f"Tiêu chí {i}", "en": f"criterion {i}"},
                }
            ],
        }
        for i in (1, 2, 3)
    ],
}
#: unit: points on fields 1, 2, 3 (each out of 10)
POINTS = {"A": (10, 9.5, 5), "B": (6, 6, 9), "C": (8, 8, 8), "D": (2, 3, 0)}
#: last year's ranks
PREVIOUS = {"A": 3, "B": 1, "C": 2, "D": 4}


def _scheme(data: dict):
    return parse_scheme(yaml.safe_dump(data, allow_unicode=True), "appraisal_only.yaml")


@pytest.fixture(scope="module")
def index():
    scheme = _scheme(SCHEME)
    rows = [
        {
            "unit_code": unit,
            "unit_name": f"Unit {unit}",
            "block": "departments",
            "field": str(i + 1),
            "criterion": f"{i + 1}.1",
            "max_points": "10",
            "self_points": "",
            "appraised_points": str(p),
        }
        for unit, points in POINTS.items()
        for i, p in enumerate(points)
    ]
    appraisal = check_appraisal(scheme, pd.DataFrame(rows, dtype=str))
    previous = pd.DataFrame(
        {
            "unit_code": list(PREVIOUS),
            "previous_rank": list(PREVIOUS.values()),
            "previous_percent": [80.0] * 4,
        }
    )
    return scheme, build_index(scheme, appraisal, None, previous)


def test_the_ranks_are_those_worked_out_by_hand(index):
    _scheme, result = index
    table = result.table.set_index("unit_code")
    # totals 24.5, 21, 24, 5 of 30
    assert table["rank"].to_dict() == {"A": 1, "C": 2, "B": 3, "D": 4}
    assert table["field_3_rank"].to_dict() == {"B": 1, "C": 2, "A": 3, "D": 4}


def test_accounts_worked_out_by_hand(index):
    scheme, result = index
    accounts = {
        row["unit_code"]: str(unit_account(row, scheme, "en"))
        for row in result.table.to_dict("records")
    }
    assert accounts == {
        "A": "up 2 places, from rank 3 to rank 1: 1 of 3 fields near their maximum, "
        "field 1 at its maximum, field 2 ranked 1 in the block",
        "B": "down 2 places, from rank 1 to rank 3: 2 of 3 fields ranked 3 in the block",
        "C": "the same rank as last year, 2: field 1 ranked 2 in the block",
        "D": "the same rank as last year, 4: 3 of 3 fields ranked 4 in the block",
    }
    assert zero_criteria(result.weak, "D") == [("3.1", 10.0)]
    assert zero_criteria(result.weak, "A") == []


def test_field_names_follow_the_language_and_the_messages_keep_their_templates(index):
    scheme, result = index
    row = result.table[result.table["unit_code"] == "A"].iloc[0].to_dict()
    account = unit_account(row, scheme, "vi")
    assert account.movement.template == (
        "up %(places)s places, from rank %(before)s to rank %(after)s"
    )
    assert account.reasons[1].params == {"field": "Lĩnh vực 1"}
    shouted = account.text(lambda m: str(m).upper())
    assert shouted.startswith("UP 2 PLACES") and "LĨNH VỰC 1 AT ITS MAXIMUM" in shouted


def _published_row(rank, previous, percents, ranks, units=20):
    row = {"rank": rank, "previous_rank": previous, "units_in_block": units}
    for i, (p, r) in enumerate(zip(percents, ranks, strict=True), start=1):
        row[f"field_{i}_percent"] = p
        row[f"field_{i}_rank"] = r
    return row


def test_the_provinces_published_examples():
    scheme = _scheme(
        {
            **SCHEME,
            "totals": {"appraisal": 70, "total": 70},
            "fields": [
                {**SCHEME["fields"][0], "code": str(i), "name": {"en": name, "vi": name}}
                | {"criteria": [{**SCHEME["fields"][0]["criteria"][0], "code": f"{i}.1"}]}
                for i, name in enumerate(
                    [
                        "direction",
                        "institutions",
                        "procedures",
                        "apparatus",
                        "civil service",
                        "public finance",
                        "digital government",
                    ],
                    start=1,
                )
            ],
        }
    )
    up = _published_row(4, 12, [92, 95, 91, 90, 70, 100, 85], [6, 5, 7, 8, 12, 1, 4])
    assert str(unit_account(up, scheme, "en")) == (
        "up 8 places, from rank 12 to rank 4: 4 of 7 fields near their maximum, "
        "public finance at its maximum, digital government ranked 4 in the block"
    )
    down = _published_row(14, 4, [60, 62, 80, 58, 90, 61, 59], [9, 12, 5, 14, 2, 11, 10], units=17)
    assert str(unit_account(down, scheme, "en")) == (
        "down 10 places, from rank 4 to rank 14: 5 of 7 fields ranked 9 to 14 in the block"
    )
    assert unit_account({**up, "rank": None}, scheme, "en") is None
    first = unit_account({**up, "previous_rank": None}, scheme, "en")
    assert str(first.movement) == "rank 4 of 20"
