"""Exports read back: SPSS and Stata files with their labels, the workbook, the codebooks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hand_scoring import QUESTIONNAIRES

from analysis.export import (
    ExportError,
    codebook,
    codebook_html,
    safe_names,
    sheet_names,
    spreadsheet_safe,
    with_labels,
    write_csv,
    write_dta,
    write_sav,
    write_workbook,
    write_xlsx,
)
from analysis.problems import FileInvalid, Problem, format_key
from analysis.questionnaire import read_questionnaire

LONG = "a_column_name_that_is_much_longer_than_stata_allows"


@pytest.fixture(scope="module")
def leader():
    return read_questionnaire(QUESTIONNAIRES, "leader")


@pytest.fixture(scope="module")
def citizen():
    return read_questionnaire(QUESTIONNAIRES, "citizen")


@pytest.fixture
def responses():
    return pd.DataFrame(
        {
            "response_id": [1, 2, 3],
            "f1_1": [4, None, 1],  # 9 "don't know" is exported empty
            "f1_3": [2, 3, 3],
            "position": ["dept_leader", "other", None],
            "years_service": [12, 3, 25],
            LONG: ["x", "y", "z"],
            LONG + "_too": [1.5, 2.5, 3.5],
            "weight": [1.2, 0.8, 1.0],
        }
    )


def test_dta_reads_back_with_labels(tmp_path, responses, leader):
    written = write_dta(responses, tmp_path / "r.dta", leader, "en", {"weight": "Final weight"})
    data, meta = pyreadstat.read_dta(str(tmp_path / "r.dta"))
    # names: at most 32 characters, unique
    assert all(len(c) <= 32 for c in data.columns)
    assert data.columns.tolist()[5:7] == [LONG[:32], LONG[:30] + "_2"]
    assert written.names[LONG + "_too"] == LONG[:30] + "_2"
    labels = meta.column_names_to_labels
    assert labels["f1_1"] == (
        "How determined the provincial leadership is in directing administrative reform"
    )
    # 91 characters: cut to Stata's 80
    assert labels["f1_3"] == (
        "How effective administrative reform inspections are in finding and correcting..."
    )
    assert labels["weight"] == "Final weight"
    values = meta.variable_value_labels
    assert values["f1_1"] == {1: "Poor", 2: "Not good", 3: "Good", 4: "Very good"}
    # identifier codes become 1..k in option order, labelled
    assert data["position"].tolist()[:2] == [1, 4] and pd.isna(data["position"].iloc[2])
    assert values["position"][4] == "Other position"
    assert written.recodes["position"] == {
        "dept_leader": 1,
        "division_leader": 2,
        "district_leader": 3,
        "other": 4,
    }
    assert data["f1_1"].tolist()[0] == 4 and pd.isna(data["f1_1"].iloc[1])
    assert data["years_service"].tolist() == [12, 3, 25]


def test_sav_reads_back_with_labels_in_vietnamese(tmp_path, responses, leader):
    write_sav(responses, tmp_path / "r.sav", leader, "vi")
    data, meta = pyreadstat.read_sav(str(tmp_path / "r.sav"))
    assert LONG in data.columns  # SPSS allows 64 bytes
    assert meta.column_names_to_labels["f1_1"].startswith("Tính quyết liệt của lãnh đạo tỉnh")
    assert meta.variable_value_labels["f1_1"] == {1: "Kém", 2: "Chưa tốt", 3: "Tốt", 4: "Rất tốt"}
    position = meta.variable_value_labels["position"]
    # SPSS value labels hold 120 bytes: a long Vietnamese label is cut at a character boundary
    assert all(len(label.encode("utf-8")) <= 120 for label in position.values())
    assert position[2].endswith("...") and position[2].startswith("Trưởng phòng")
    assert data["position"].tolist()[:2] == [1, 4]


def test_multiple_choice_and_bad_codes(tmp_path, citizen):
    table = pd.DataFrame({"fb_channel__box": [1, 0], "sex": ["female", "male"]})
    write_sav(table, tmp_path / "c.sav", citizen, "en")
    data, meta = pyreadstat.read_sav(str(tmp_path / "c.sav"))
    assert meta.variable_value_labels["fb_channel__box"] == {1: "Suggestion box"}
    assert meta.column_names_to_labels["fb_channel__box"] == "Suggestion box"
    assert data["sex"].tolist() == [2, 1]  # options listed male, female
    with pytest.raises(ExportError, match="row 3: sex has the answer 'other'"):
        write_dta(pd.DataFrame({"sex": ["male", "other"]}), tmp_path / "x.dta", citizen)


def test_codebook_has_every_variable_and_value(leader, citizen):
    book = codebook(leader)
    f1_1 = book[book.variable == "f1_1"]
    assert f1_1["value"].tolist() == [1, 2, 3, 4, 9]
    assert f1_1["value_label_vi"].tolist() == ["Kém", "Chưa tốt", "Tốt", "Rất tốt", "Không biết"]
    assert f1_1["missing"].tolist() == [False, False, False, False, True]
    assert f1_1["question_en"].iloc[0].startswith("How do you rate the way the province")
    assert f1_1["label_en"].iloc[0].startswith("How determined the provincial leadership")
    assert set(book.variable) >= {f"f{k}_1" for k in range(1, 9)} | {"position", "years_service"}
    years = book[book.variable == "years_service"].iloc[0]
    assert years["value"] == "" and years["type"] == "integer"
    english = codebook(citizen, "en")
    assert {"label", "question", "value_label"} <= set(english.columns)
    boxes = english[english.variable == "fb_channel__box"]
    assert boxes["value"].tolist() == [1] and boxes["value_label"].tolist() == ["Suggestion box"]
    assert "district" in set(english.variable)  # a dropdown's list is resolved
    assert len(english[english.variable == "district"]) == 13


def test_codebook_html(leader):
    page = codebook_html(leader, "en")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "<code>f1_1</code>" in page and "<code>9</code> = Don&#x27;t know (missing)" in page
    translated = codebook_html(leader, "vi", {"title": "Sổ tay mã", "missing": "thiếu"})
    assert "<h1>Sổ tay mã:" in translated and "Không biết (thiếu)" in translated


def test_workbook_has_a_sheet_per_table(tmp_path):
    tables = {
        "scores": pd.DataFrame({"a": [1, 2]}),
        "index/2024": pd.DataFrame({"b": ["x"]}),
        "a name longer than thirty-one characters": pd.DataFrame({"c": [1.5]}),
        "A NAME LONGER THAN THIRTY-ONE CHARACTERS": pd.DataFrame({"d": [2]}),
    }
    write_workbook(tables, tmp_path / "w.xlsx")
    sheets = pd.read_excel(tmp_path / "w.xlsx", sheet_name=None)
    assert list(sheets) == [
        "scores",
        "index_2024",
        "a name longer than thirty-one c",
        "A NAME LONGER THAN THIRTY-O (2)",
    ]
    assert sheets["index_2024"]["b"].tolist() == ["x"]
    with pytest.raises(ExportError):
        write_workbook({}, tmp_path / "none.xlsx")


def test_labels_instead_of_codes_and_csv(tmp_path, responses, leader):
    shown = with_labels(responses, leader, "en")
    assert shown["f1_1"].tolist()[0] == "Very good" and pd.isna(shown["f1_1"].iloc[1])
    assert shown["position"].tolist()[1] == "Other position"
    write_csv(shown, tmp_path / "s.csv", excel_bom=True)
    assert (tmp_path / "s.csv").read_bytes().startswith(b"\xef\xbb\xbfresponse_id")


def test_safe_names():
    assert sheet_names(["a", "A"]) == ["a", "A (2)"]
    names = safe_names(["1st", "to", "ok", "with space"], 32)
    assert names == {"1st": "v1st", "to": "to_", "ok": "ok", "with space": "with_space"}


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+cmd", "'+1+cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-1", "-1"),  # a number stays a number
        ("+84 912", "'+84 912"),
        ("Nguyễn", "Nguyễn"),
        (3, 3),
        (None, None),
    ],
)
def test_spreadsheet_safe_keeps_formulas_as_text_and_numbers_as_numbers(value, written):
    assert spreadsheet_safe(value) == written


def test_every_writer_guards_text_cells(tmp_path):
    from openpyxl import load_workbook

    table = pd.DataFrame({"name": ["=1+1", "An", None], "n": [-1, 2, 3], "code": ["-5", "x", "y"]})
    write_csv(table, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False)
    assert back["name"].tolist() == ["'=1+1", "An", ""]
    assert back["code"].tolist() == ["-5", "x", "y"]
    write_xlsx(tmp_path / "t.xlsx", {"t": (list(table.columns), [table.iloc[:2], table.iloc[2:]])})
    sheet = load_workbook(tmp_path / "t.xlsx").worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows == [["name", "n", "code"], ["'=1+1", -1, -5], ["An", 2, "x"], [None, 3, "y"]]
    assert table["name"].iloc[0] == "=1+1"  # the caller's table is left alone
    write_workbook({"t": table}, tmp_path / "w.xlsx")
    assert load_workbook(tmp_path / "w.xlsx").worksheets[0]["A2"].value == "'=1+1"


def test_the_streamed_workbook_holds_each_cell_as_before(tmp_path):
    """What openpyxl's writer wrote, checked cell by cell and type by type, read back by
    openpyxl: text as text (codes too), numbers as numbers, a signed number given as text as a
    number, dates as dates, missing as empty; frames given in chunks; the header row frozen. A
    control character, which made openpyxl refuse the whole file, is kept in Excel's escape
    (``_x0007_``, which openpyxl reads back as it stands)."""
    import datetime as dt

    from openpyxl import load_workbook

    table = pd.DataFrame(
        {
            "code": ["3", "10", None, "dont_know"],
            "text": ["=1+1", 'Nguyễn <&> "q"', "bell\x07 here", "-abc"],
            "n": np.array([-1, 2, 3, 4], dtype=np.int64),
            "x": [1.5, np.nan, 3.25, 1e300],
            "signed": ["-5", "+3", "+", "-1.5e3"],
            "when": pd.to_datetime(
                ["2026-01-02 03:04:05", None, "2026-12-31 00:00:00", "2026-06-01 00:00:00"]
            ),
            "flag": [True, False, True, False],
            "count": pd.array([1, None, 3, 4], dtype="Int64"),
        }
    )
    columns = [*table.columns, "absent"]
    path = tmp_path / "t.xlsx"
    write_xlsx(path, {"one/two": (columns, [table.iloc[:1], table.iloc[1:3], table.iloc[3:]])})
    book = load_workbook(path)
    assert book.sheetnames == ["one_two"]
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == columns
    day = dt.datetime
    assert rows[1:] == [
        ["3", "'=1+1", -1, 1.5, -5, day(2026, 1, 2, 3, 4, 5), True, 1, None],
        ["10", 'Nguyễn <&> "q"', 2, None, 3, None, False, None, None],
        [None, "bell_x0007_ here", 3, 3.25, "'+", day(2026, 12, 31), True, 3, None],
        ["dont_know", "'-abc", 4, 1e300, -1500, day(2026, 6, 1), False, 4, None],
    ]
    assert isinstance(rows[1][0], str) and isinstance(rows[1][4], int | float)


def _read_back(path, read_only: bool) -> list[list]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=read_only)
    sheet = book.worksheets[0]
    rows = [[(type(v), v) for v in row] for row in sheet.iter_rows(values_only=True)]
    frozen = None if read_only else sheet.freeze_panes
    book.close()
    return [book.sheetnames, frozen, rows]


def test_the_workbook_holds_what_xlsxwriter_wrote(tmp_path):
    """Awkward values, written by `write_xlsx` and by XlsxWriter as `write_xlsx` used it before
    (tests/analysis/xlsxwriter_writer.py), read back by openpyxl in both its modes: the same
    sheets, frozen header, values and types. Among them text that looks like Excel's escapes,
    spaces at the edges, an emoji, infinities and NaN as errors, dates before Excel's phantom
    29 February 1900, times of day, numpy scalars in text columns, True beside 1 (which a
    lookup by value takes for the same), and 6,000 rows in chunks of
    uneven size."""
    import datetime as dt

    from xlsxwriter_writer import write_with_xlsxwriter

    odd = pd.DataFrame(
        {
            "text": [
                "_x0041_ literal", " lead", "trail ", "😀 emoji", "x y", "a\nb", "\ufffe",
                "-inf", "+nan", "+1_000", "@x", "", "3", "dont_know", "<b>bold</b>", "a&b",
            ],
            "n": np.array([10**15, 2**53 + 1, -7, 0] * 4, dtype=np.int64),
            "x": [0.1, -0.0, 1e-300, float("inf"), float("-inf"), 1 / 3, 2.5, np.nan] * 2,
            "when": pd.to_datetime(
                ["1900-01-15", "1900-02-28", "1900-03-01", "2026-06-01 12:00:00.5"] * 4,
                format="ISO8601",
            ),
            "mixed": [
                np.int64(5), np.float64(2.5), np.bool_(True), dt.date(2026, 1, 2),
                dt.time(13, 30), dt.datetime(2026, 1, 2, 3, 4, 5), pd.NaT, pd.NA,
                "-12", None, 7, 1.25, False, "x", "=cmd", "+84 912",
            ],
        }
    )  # fmt: skip
    odd["equal"] = [
        1,
        True,
        1.0,
        False,
        0,
        np.int64(1),
        np.bool_(False),
        "1",
    ] * 2  # equal in Python
    rng = np.random.default_rng(5)
    bulk = pd.DataFrame(
        {
            "text": rng.choice(["1", "2", "dont_know", "Nguyễn", None], 6_000),
            "n": rng.integers(-1000, 1000, 6_000),
            "x": rng.normal(size=6_000),
            "when": pd.Timestamp("2026-01-01")
            + pd.to_timedelta(rng.integers(0, 10**9, 6_000), "s"),
            "mixed": rng.choice(np.array(["-3", "4", None, "+x"], dtype=object), 6_000),
        }
    )
    columns = ["text", "n", "x", "when", "mixed", "equal", "absent"]
    frames = [odd, bulk.iloc[:5_000], bulk.iloc[5_000:5_001], bulk.iloc[5_001:]]
    ours, before = tmp_path / "ours.xlsx", tmp_path / "before.xlsx"
    write_xlsx(ours, {"data": (columns, frames)})
    write_with_xlsxwriter(before, "data", columns, frames)
    for read_only in (False, True):
        assert _read_back(ours, read_only) == _read_back(before, read_only)
    rows = _read_back(ours, False)[2]
    assert len(rows) == 1 + 16 + 6_000 and rows[4][0] == (str, "😀 emoji")
    assert rows[1][4] == (int, 5) and rows[4][4] == (dt.datetime, dt.datetime(2026, 1, 2))


def test_what_xlsxwriter_got_wrong(tmp_path):
    """XlsxWriter wrote text between ``<r>`` and ``</r>`` into the sheet as it stood (its rich
    text), so an answer could break the file, and left out the rest of a row after a text
    longer than a cell holds. Such text is text like any other now, and a long one is cut at
    Excel's 32,767 characters with the rest of its row kept."""
    from openpyxl import load_workbook

    answer = "<r><t>x</t></r>"
    table = pd.DataFrame({"a": [answer], "long": ["x" * 40_000], "after": [3]})
    write_xlsx(tmp_path / "t.xlsx", {"t": (list(table.columns), [table])})
    rows = list(load_workbook(tmp_path / "t.xlsx").worksheets[0].iter_rows(values_only=True))
    assert rows == [("a", "long", "after"), (answer, "x" * 32_767, 3)]


def test_a_problem_says_where_it_is():
    assert str(Problem("a.yaml", 12, "pages[0].items", "unknown key")) == (
        "a.yaml:12: pages[0].items: unknown key"
    )
    row = Problem.at_row(3, "the target is empty")
    assert (row.row, row.line, row.file) == (3, 3, None)
    assert str(row.located("quota.csv")) == "quota.csv:3: the target is empty"
    whole = Problem.at_row(0, "The file is empty.")
    assert whole.row is None and str(whole.located("q.csv")) == "q.csv: The file is empty."
    assert format_key(("pages", 2, "items", 0, "code")) == "pages[2].items[0].code"
    assert format_key(()) == "(file)"
    error = FileInvalid([row, whole])
    assert error.problems == [row, whole]
    assert str(error) == "3: the target is empty\nThe file is empty."
