"""What `analysis.estimate` reads: answers as text (as the CLI and the web give them) estimate
exactly as the same answers given as numbers, whose estimates tests/analysis compares with R;
the codes of (PSU, domain) pairs are those of `numpy.unique`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.estimate import Design, EstimationError, _unique_codes, estimate

#: how text columns come: read as the command line reads a CSV (pandas 3: its str dtype;
#: pandas 2: object), as Python objects, as pandas' nullable string dtype
KINDS = ("csv", "object", "string")


def _as(answers: pd.Series, kind: str, folder) -> pd.Series:
    if kind == "csv":
        # a second column, so that a row with an empty answer is not a blank line
        answers.to_frame("q").assign(row=1).to_csv(folder / "q.csv", index=False)
        return pd.read_csv(folder / "q.csv", dtype=str, keep_default_na=False, na_values=[""])["q"]
    return answers.astype("string") if kind == "string" else answers


def _sample(rows: int = 600, seed: int = 3) -> tuple[pd.DataFrame, Design]:
    rng = np.random.default_rng(seed)
    stratum = rng.integers(0, 4, rows)
    data = pd.DataFrame(
        {
            "q": rng.integers(1, 6, rows).astype(float),
            "district": rng.choice(["north", "south", "east"], rows),
        }
    )
    data.loc[rng.random(rows) < 0.1, "q"] = np.nan
    cluster = stratum * 10 + rng.integers(0, 6, rows)
    design = Design.build(rng.gamma(3.0, 10.0, rows), stratum, cluster)
    return data, design


@pytest.mark.parametrize("kind", KINDS)
def test_text_answers_estimate_as_numbers(kind, tmp_path):
    numbers, design = _sample()
    text = numbers.copy()
    answers = numbers["q"].map(lambda v: f"{v:g}", na_action="ignore").astype(object)
    missing = np.flatnonzero(numbers["q"].isna())
    # missing given three ways: none, an empty cell, a cell of spaces
    answers.iloc[missing[::3]] = ""
    answers.iloc[missing[1::3]] = "  "
    answers[numbers["q"] == 3] = " 3"  # numbers written other ways
    answers[numbers["q"] == 4] = "4.0"
    text["q"] = _as(answers, kind, tmp_path)
    expected = estimate(numbers, ["q"], design, by=["district"])
    got = estimate(text, ["q"], design, by=["district"])
    pd.testing.assert_frame_equal(got, expected)
    shares = estimate(text, ["q"], design, by=["district"], share=[4, 5])
    pd.testing.assert_frame_equal(
        shares, estimate(numbers, ["q"], design, by=["district"], share=[4, 5])
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", ["abc", "nan", "3 4"])
def test_a_text_that_is_no_number_is_named(kind, bad, tmp_path):
    data, design = _sample()
    answers = data["q"].map(lambda v: f"{v:g}", na_action="ignore").astype(object)
    answers.iloc[7] = bad
    data["q"] = _as(answers, kind, tmp_path)
    with pytest.raises(
        EstimationError, match=f"item 'q' has answers that are not numbers, e.g. '{bad}'"
    ):
        estimate(data, ["q"], design)


@given(st.lists(st.integers(0, 200), min_size=1, max_size=300), st.integers(0, 3))
def test_unique_codes_are_numpy_unique(keys, spare):
    key = np.asarray(keys, dtype=np.int64)
    size = int(key.max()) + 1 + spare * 1000  # sometimes past the counting limit
    found, position = _unique_codes(key, size)
    expected, inverse = np.unique(key, return_inverse=True)
    np.testing.assert_array_equal(found, expected)
    np.testing.assert_array_equal(position, inverse.ravel())
