"""The shipped appraisal examples: a departments block of 7 fields and a districts block of 8,
appraisal criteria only, each field's maximum the sum of its criteria's."""

from __future__ import annotations

import pytest
from app_support import ROOT

from analysis.scheme import load_scheme


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
