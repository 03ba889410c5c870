"""The three example schemes beside par2022.yaml, run through the command line on synthetic answers.

Every expected value is worked out here from the raw answers with plain numpy and pandas,
following the rules each scheme file states in its comments; nothing here calls the scoring code.
The clustered standard errors of the cross-rated departments are compared with R's survey
package in test_cross_rating_against_r.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import run

ROOT = Path(__file__).resolve().parents[2]
SCHEMES = ROOT / "questionnaires" / "scoring"

#: SIPAS since 2022 (citizen.yaml): every item on the 1-5 satisfaction scale
SIPAS_ELEMENTS = {
    "access": ["acc_signs", "acc_seats", "acc_equipment"],
    "procedures": ["proc_posted", "proc_documents", "proc_fees", "proc_time"],
    "staff": ["staff_polite", "staff_explain", "staff_rules"],
    "result": ["result_on_schedule", "result_accurate", "result_fair"],
    "feedback": ["fb_easy", "fb_handled", "fb_informed"],
}


def wmean(values: pd.Series, weights: pd.Series) -> float:
    """The weighted mean over the answers given (NaN = don't know, left out)."""
    given = values.notna()
    return float((values[given] * weights[given]).sum() / weights[given].sum())


def band(percent: float, bands: list[tuple[str, float]]) -> str:
    shown = round(percent + 1e-12, 2)
    return next(code for code, low in bands if shown >= low)


def ranks(values: pd.Series) -> pd.Series:
    """Competition ranks, highest first (1, 2, 2, 4), on the values as published."""
    return values.round(2).rank(ascending=False, method="min").astype(int)


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"code": str, "field": str, "unit": str, "unit_code": str})


# ---------------------------------------------------------------------------------------------
# SIPAS alone: districts ranked by the mean of five element indices


def sipas_answers(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    districts = ["can_loc", "ky_anh_town", "vu_quang"]
    rows = []
    for i, district in enumerate(districts):
        n = 60 + 20 * i
        mood = 3.3 + 0.5 * i
        data = {"district": [district] * n, "weight": rng.uniform(5, 40, n)}
        for items in SIPAS_ELEMENTS.values():
            for item in items:
                x = np.clip(np.round(rng.normal(mood, 1.0, n)), 1, 5)
                x[rng.random(n) < 0.08] = np.nan  # don't know
                data[item] = x
        rows.append(pd.DataFrame(data))
    return pd.concat(rows, ignore_index=True)


def test_sipas_alone_ranks_and_bands_districts_without_appraisal(tmp_path):
    answers = sipas_answers()
    answers.to_csv(tmp_path / "citizen.csv", index=False)
    done = run(
        tmp_path,
        "run",
        "--scheme",
        str(SCHEMES / "sipas_example.yaml"),
        "--data",
        "citizen=citizen.csv",
        "--unit",
        "district",
        "--strata",
        "district",
        "--out",
        "out",
    )
    assert done.returncode == 0, done.stderr
    index = read(tmp_path / "out" / "index.csv").set_index("unit_code")
    scores = read(tmp_path / "out" / "scores.csv")

    expected = {}
    for district, rows in answers.groupby("district"):
        elements = {}
        for element, items in SIPAS_ELEMENTS.items():
            shares = []
            for item in items:
                z = rows[item].where(rows[item].isna(), rows[item].isin([4, 5]).astype(float))
                shares.append(wmean(z, rows["weight"]))
            elements[element] = 100 * np.mean(shares)
        expected[district] = (np.mean(list(elements.values())), elements)
    percent = pd.Series({d: v[0] for d, v in expected.items()})
    for district, (overall, elements) in expected.items():
        row = index.loc[district]
        assert row["total_points"] == pytest.approx(overall, abs=1e-9)
        assert row["percent"] == pytest.approx(overall, abs=1e-9)
        assert row["max_points"] == 100
        assert np.isnan(row["appraisal_points"])  # the scheme has no appraisal part
        assert row["survey_points"] == pytest.approx(overall, abs=1e-9)
        for element, value in elements.items():
            assert row[f"field_{element}_percent"] == pytest.approx(value, abs=1e-9)
        assert row["rank"] == ranks(percent)[district]
        assert row["band"] == band(overall, [("high", 85), ("medium", 75), ("low", 0)])
        sipas = scores[(scores.kind == "sipas") & (scores.unit == district)].iloc[0]
        assert sipas.estimate == pytest.approx(overall, abs=1e-9)
        assert sipas.n == (answers.district == district).sum()
    assert set(index["band"]) > {"low"}  # the data reach more than one band
    assert set(read(tmp_path / "out" / "scores.csv").query("kind == 'total'").code) == {
        "sipas",
        "all",
    }


# ---------------------------------------------------------------------------------------------
# PAPI-style: 8 dimensions on 1-10, numbers scored by range and threshold

PAPI_CRITERIA = {
    # dimension: [(max_points, [(item, score function)])]
    "participation": [(1, [("meeting_attended", "yes")])],
    "transparency": [(1, [("informed", "quality")])],
    "accountability": [(1, [("complaint_answered", "yes")])],
    "corruption": [(1, [("bribe_amount", "nothing")]), (1, [("bribe_asked", "no")])],
    "procedures": [(2, [("certificate_days", "days")]), (1, [("procedure_quality", "quality")])],
    "services": [(1, [("school_quality", "quality"), ("health_quality", "quality")])],
    "environment": [(1, [("clean_water", "yes")])],
    "egovernance": [(1, [("portal_used", "yes")])],
}


def papi_score(values: pd.Series, how: str) -> pd.Series:
    """One respondent's score in [0, 1], written out from the scheme's comments."""
    if how == "yes":
        out = (values == 1).astype(float)
    elif how == "no":
        out = (values == 2).astype(float)
    elif how == "quality":
        out = (values - 1) / 3
    elif how == "nothing":
        out = (values <= 0).astype(float)
    else:  # 1 day scores 1, 30 days or more 0, linear between
        out = ((30 - values) / 29).clip(0, 1)
    return out.where(values.notna())


def papi_answers(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for i, province in enumerate(["ha_tinh", "nghe_an", "quang_binh", "thanh_hoa"]):
        n = 50 + 10 * i
        good = 0.35 + 0.12 * i
        data = {"province": [province] * n, "weight": rng.uniform(100, 900, n)}
        for item in ("meeting_attended", "complaint_answered", "clean_water", "portal_used"):
            data[item] = np.where(rng.random(n) < good, 1.0, 2.0)
        data["bribe_asked"] = np.where(rng.random(n) < 0.6 - 0.1 * i, 1.0, 2.0)
        for item in ("informed", "procedure_quality", "school_quality", "health_quality"):
            data[item] = np.clip(np.round(rng.normal(2.2 + 0.3 * i, 0.9, n)), 1, 4)
        paid = rng.random(n) < 0.5 - 0.08 * i
        data["bribe_amount"] = np.where(paid, rng.integers(50, 2000, n), 0).astype(float)
        data["certificate_days"] = rng.integers(1, 45, n).astype(float)  # some beyond 30
        for item in data:
            if item not in ("province", "weight"):
                data[item][rng.random(n) < 0.06] = np.nan
        frames.append(pd.DataFrame(data))
    return pd.concat(frames, ignore_index=True)


def test_papi_style_dimensions_on_one_to_ten(tmp_path):
    answers = papi_answers()
    answers.to_csv(tmp_path / "papi.csv", index=False)
    done = run(
        tmp_path,
        "run",
        "--scheme",
        str(SCHEMES / "papi_example.yaml"),
        "--data",
        "citizen=papi.csv",
        "--unit",
        "province",
        "--strata",
        "province",
        "--out",
        "out",
    )
    assert done.returncode == 0, done.stderr
    index = read(tmp_path / "out" / "index.csv").set_index("unit_code")
    scores = read(tmp_path / "out" / "scores.csv")
    totals = {}
    for province, rows in answers.groupby("province"):
        total = 0.0
        for dimension, criteria in PAPI_CRITERIA.items():
            points = 0.0
            for max_points, items in criteria:
                item_scores = [wmean(papi_score(rows[i], how), rows["weight"]) for i, how in items]
                points += max_points * np.mean(item_scores)
            weight = sum(m for m, _ in criteria)
            dimension_points = 1 + 9 * points / weight
            total += dimension_points
            got = index.loc[province, f"field_{dimension}_points"]
            assert got == pytest.approx(dimension_points, abs=1e-9), (province, dimension)
            field = scores[(scores.kind == "field") & (scores.code == dimension)]
            assert field[field.unit == province].iloc[0].max_points == 10
        totals[province] = total
        assert index.loc[province, "total_points"] == pytest.approx(total, abs=1e-9)
        assert index.loc[province, "max_points"] == 80
        assert index.loc[province, "percent"] == pytest.approx(100 * total / 80, abs=1e-9)
        days = scores[(scores.kind == "item") & (scores.code == "certificate_days")]
        expected = wmean(papi_score(rows["certificate_days"], "days"), rows["weight"])
        assert days[days.unit == province].iloc[0].estimate == pytest.approx(expected, abs=1e-12)
        assert days[days.unit == province].iloc[0].se > 0
    percent = pd.Series(totals) / 80 * 100
    for province, rank in ranks(percent).items():
        assert index.loc[province, "rank"] == rank
    assert index["band"].isna().all()  # PAPI's quartile groups are not fixed bands


# ---------------------------------------------------------------------------------------------
# Provincial departments, cross-rated by delegates (0.6) and commune leaders (0.4)

DEPARTMENTS = ["education", "finance", "health", "home_affairs", "justice", "planning"]
SURVEY_MAX = {"1": 5, "2": 5, "3": 4, "4": 4, "5": 4, "6": 4, "7": 4}
DEPARTMENT_BANDS = [("good", 80), ("fair", 65), ("average", 50), ("weak", 0)]


def cross_ratings(group: str, people: int, seed: int) -> pd.DataFrame:
    """Each respondent rates 2 to 5 departments, one row per (respondent, department)."""
    rng = np.random.default_rng(seed)
    rows = []
    for person in range(people):
        lean = rng.normal(0, 0.5)
        for department in rng.choice(DEPARTMENTS, rng.integers(2, 6), replace=False):
            quality = 2.2 + 0.25 * DEPARTMENTS.index(department) + lean
            row = {"respondent": f"{group[0]}{person:03d}", "department": department}
            for f in SURVEY_MAX:
                x = float(np.clip(np.round(rng.normal(quality, 0.8)), 1, 4))
                row[f"d{f}"] = np.nan if rng.random() < 0.07 else x
            rows.append(row)
    return pd.DataFrame(rows)


def department_appraisal(seed: int = 9) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for k, department in enumerate(DEPARTMENTS):
        for f in SURVEY_MAX:
            points = round(float(np.clip(rng.normal(4 + k, 1.5), 0, 10)), 2)
            rows.append(
                {
                    "unit_code": department,
                    "unit_name": department.replace("_", " ").title(),
                    "block": "departments",
                    "field": f,
                    "criterion": f"{f}.1",
                    "max_points": 10,
                    "self_points": 10,
                    "appraised_points": points,
                }
            )
    return pd.DataFrame(rows)


def departments_files(tmp_path) -> dict[str, pd.DataFrame]:
    files = {
        "delegate": cross_ratings("delegate", 40, 21),
        "commune_leader": cross_ratings("commune_leader", 70, 22),
        "appraisal": department_appraisal(),
    }
    for name, table in files.items():
        table.to_csv(tmp_path / f"{name}.csv", index=False)
    return files


def departments_run(tmp_path, *extra):
    return run(
        tmp_path,
        "run",
        "--scheme",
        str(SCHEMES / "departments_example.yaml"),
        "--data",
        "delegate=delegate.csv",
        "--data",
        "commune_leader=commune_leader.csv",
        "--unit",
        "department",
        "--respondent",
        "respondent",
        "--appraisal",
        "appraisal.csv",
        *extra,
        "--out",
        "out",
    )


def test_departments_cross_rated_by_two_groups(tmp_path):
    files = departments_files(tmp_path)
    done = departments_run(tmp_path)
    assert done.returncode == 0, done.stderr
    index = read(tmp_path / "out" / "index.csv").set_index("unit_code")
    scores = read(tmp_path / "out" / "scores.csv")
    scores["group"] = scores["group"].fillna("")
    appraisal = files["appraisal"]
    percent = {}
    for department in DEPARTMENTS:
        survey_points = 0.0
        for f, maximum in SURVEY_MAX.items():
            means = {}
            for group in ("delegate", "commune_leader"):
                rows = files[group][files[group].department == department]
                means[group] = ((rows[f"d{f}"] - 1) / 3).mean()  # unweighted census, skip NaN
            points = maximum * (0.6 * means["delegate"] + 0.4 * means["commune_leader"])
            survey_points += points
            criterion = scores[
                (scores.kind == "criterion") & (scores.code == f"{f}.2") & (scores.group == "")
            ]
            got = criterion[criterion.unit == department].iloc[0].estimate
            assert got == pytest.approx(points, abs=1e-9), (department, f)
        appraised = appraisal[appraisal.unit_code == department]["appraised_points"].sum()
        row = index.loc[department]
        assert row["survey_points"] == pytest.approx(survey_points, abs=1e-9)
        assert row["appraisal_points"] == pytest.approx(appraised, abs=1e-9)
        assert row["total_points"] == pytest.approx(appraised + survey_points, abs=1e-9)
        percent[department] = appraised + survey_points
        assert row["band"] == band(percent[department], DEPARTMENT_BANDS)
        # n counts the people who rated the department, whatever else they rated
        for group in ("delegate", "commune_leader"):
            rated = files[group][files[group].department == department]
            item = scores[(scores.kind == "item") & (scores.code == "d1") & (scores.group == group)]
            answered = rated[rated["d1"].notna()]["respondent"].nunique()
            assert item[item.unit == department].iloc[0].n == answered
    for department, rank in ranks(pd.Series(percent)).items():
        assert index.loc[department, "rank"] == rank
    assert len(set(index["band"])) >= 2
    summary = pd.read_json(tmp_path / "out" / "summary.json", typ="series")
    people = {g: files[g]["respondent"].nunique() for g in ("delegate", "commune_leader")}
    assert summary["counts"] == people
    assert summary["ratings"] == {g: len(files[g]) for g in people}
    assert summary["example"] is True or summary["example"] == 1


def test_a_respondent_rating_a_department_twice_is_refused(tmp_path):
    files = departments_files(tmp_path)
    twice = pd.concat([files["delegate"], files["delegate"].iloc[[3]]], ignore_index=True)
    twice.to_csv(tmp_path / "delegate.csv", index=False)
    done = departments_run(tmp_path)
    assert done.returncode == 2
    line = done.stderr.strip()
    last = len(twice) + 1
    assert line.startswith("error: rows 5 and ") and f"and {last} of the delegate" in line, line
    assert "rates the unit" in line
