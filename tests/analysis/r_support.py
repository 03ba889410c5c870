"""Fixtures for the analysis tests: generated survey data sets and a live R ``survey`` runner."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REGIONS = ["north", "centre", "south", "highland"]
AGES = ["18-29", "30-44", "45-59", "60+"]


@dataclass
class Shape:
    """A generated data set and its population targets."""

    name: str
    data: pd.DataFrame
    #: one margin per variable, long format variable,level,target
    margins: pd.DataFrame
    #: the crossed sex:region cells, long format
    cells: pd.DataFrame
    base_weight: str | None
    strata: str | None
    cluster: str | None
    #: bounds for bounded linear and logit calibration
    bounds: tuple[float, float]
    #: absolute trimming bounds on the linear-calibrated weights
    trim: tuple[float, float]


def _items(rng, n, region_effect, missing_rate):
    base = rng.normal(3.2, 1.0, n) + region_effect
    q1 = np.clip(np.round(base), 1, 5)
    q2 = np.clip(np.round(base + rng.normal(0, 0.8, n)), 1, 5)
    q1[rng.random(n) < missing_rate] = np.nan
    q2[rng.random(n) < missing_rate * 1.5] = np.nan
    return q1, q2


def _targets(data, weight, total, rng, wobble=0.25):
    """Population totals near the weighted sample margins, so calibration has work to do."""
    rows = []
    for variable in ("sex", "age", "region"):
        sums = data.groupby(variable)[weight].sum() if weight else data.groupby(variable).size()
        share = sums / sums.sum() * (1 + wobble * rng.uniform(-1, 1, len(sums)))
        share = share / share.sum()
        rows += [(variable, level, total * s) for level, s in share.items()]
    margins = pd.DataFrame(rows, columns=["variable", "level", "target"])
    crossed = data.groupby(["sex", "region"]).size()
    share = crossed / crossed.sum() * (1 + wobble * rng.uniform(-1, 1, len(crossed)))
    share = share / share.sum()
    cells = pd.DataFrame(
        [("sex:region", f"{s}:{r}", total * v) for (s, r), v in share.items()],
        columns=["variable", "level", "target"],
    )
    return margins, cells


def make_shape(name: str, seed: int = 7) -> Shape:
    rng = np.random.default_rng(seed)
    if name == "unequal_strata":
        n = 900
        strata = rng.choice(["s1", "s2", "s3", "s4"], n, p=[0.55, 0.25, 0.15, 0.05])
        population = {"s1": 40000, "s2": 25000, "s3": 30000, "s4": 15000}
        counts = pd.Series(strata).value_counts()
        w0 = np.array([population[s] / counts[s] for s in strata])
        cluster = None
        missing = 0.08
        total = 110000.0
        bounds, trim = (0.75, 1.3), (0.0, 400.0)
    elif name == "clusters":
        n = 800
        strata = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
        cluster = rng.integers(1, 6, n)  # the same ids in every stratum: nested
        w0 = np.where(strata == "a", 12.0, np.where(strata == "b", 30.0, 45.0))
        w0 = w0 * rng.uniform(0.8, 1.25, n)
        missing = 0.1
        total = float(w0.sum()) * 1.05
        bounds, trim = (0.8, 1.25), (0.0, 60.0)
    elif name == "missing_answers":
        n = 700
        strata = rng.choice(["x", "y"], n)
        cluster = None
        w0 = rng.uniform(5, 50, n)
        missing = 0.35
        total = float(w0.sum())
        bounds, trim = (0.83, 1.3), (5.0, 70.0)
    elif name == "sparse_cell":
        # unit base weights and a population in the millions: survey's grake rescales first
        n = 500
        strata = rng.choice(["p", "q", "r"], n)
        cluster = None
        w0 = None
        missing = 0.05
        total = 2_000_000.0
        bounds, trim = (0.6, 1.3), (0.0, 7000.0)
    else:
        raise ValueError(name)
    sex = rng.choice(["female", "male"], n, p=[0.56, 0.44])
    age = rng.choice(AGES, n, p=[0.2, 0.3, 0.3, 0.2])
    region = rng.choice(REGIONS, n, p=[0.35, 0.3, 0.3, 0.05])
    if name == "sparse_cell":
        region[region == "highland"] = "south"
        region[:2] = "highland"  # a sparse cell: two respondents
        sex[:2] = ["male", "female"]
    effect = pd.Series(region).map({"north": 0.3, "centre": 0.0, "south": -0.4, "highland": 0.5})
    q1, q2 = _items(rng, n, effect.to_numpy(), missing)
    if name == "sparse_cell":
        # answered, so the two-person domain has a variance (R cannot take deff with n = 1)
        q1[:2], q2[:2] = [4, 2], [5, 3]
    data = pd.DataFrame(
        {"id": np.arange(1, n + 1), "stratum": strata, "sex": sex, "age": age, "region": region}
    )
    if cluster is not None:
        data["psu"] = cluster
    if w0 is not None:
        data["w0"] = w0
    data["q1"] = q1
    data["q2"] = q2
    margins, cells = _targets(data, "w0" if w0 is not None else None, total, rng)
    return Shape(
        name,
        data,
        margins,
        cells,
        "w0" if w0 is not None else None,
        "stratum",
        "psu" if cluster is not None else None,
        bounds,
        trim,
    )


SHAPES = ["unequal_strata", "clusters", "missing_answers", "sparse_cell"]


#: The R packages the tests' R scripts load, and the Debian package that provides each. survey's
#: calibrate() calls MASS (ginv), and Debian's r-cran-survey only *recommends* r-cran-mass, so an
#: install without recommended packages lacks it. Packages found by `_packages_in_tests` are added.
R_PACKAGES = {"survey": "r-cran-survey", "MASS": "r-cran-mass"}

TESTS = Path(__file__).resolve().parent.parent
#: library(x), require(x), requireNamespace("x") and x:: in the R code the tests run
_R_LOADS = re.compile(
    r"\b(?:library|require|requireNamespace)\(\s*[\"']?([A-Za-z][\w.]*)|\b([A-Za-z][\w.]*):::?\w"
)
#: R's own packages, which come with r-base-core
_R_BASE = {
    *("base", "compiler", "datasets", "graphics", "grDevices", "grid", "methods", "parallel"),
    *("splines", "stats", "stats4", "tcltk", "tools", "utils"),
}


def _packages_in_tests() -> set[str]:
    """R packages named by library(...) and the like in the R scripts of the tests (tests/**)."""
    found: set[str] = set()
    for path in [*TESTS.rglob("*.R"), *TESTS.rglob("*.py")]:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".py":  # only the R code: raw strings that call library(
            text = "\n".join(re.findall(r'r"""(.*?)"""', text, re.S))
        for match in _R_LOADS.finditer(text):
            found.add(match.group(1) or match.group(2))
    return found - _R_BASE


def r_packages() -> dict[str, str]:
    """Every R package the tests load, with its Debian package (r-cran-<name> when not listed)."""
    names = {**R_PACKAGES}
    for name in sorted(_packages_in_tests() - names.keys()):
        names[name] = f"r-cran-{name.lower()}"
    return names


def r_problem(packages: dict[str, str] | None = None) -> str | None:
    """None when Rscript can load every one of `packages` (default: `r_packages()`), else why not,
    naming each missing R package and the Debian package that provides it."""
    packages = r_packages() if packages is None else packages
    rscript = shutil.which("Rscript")
    if rscript is None:
        apt = " ".join(["r-base-core", *dict.fromkeys(packages.values())])
        return f"Rscript is not installed (apt-get install --no-install-recommends {apt})"
    names = ", ".join(f'"{name}"' for name in packages)
    probe = subprocess.run(
        [
            rscript,
            "--vanilla",
            "-e",
            f"for (p in c({names})) if (!suppressWarnings(suppressMessages("
            "requireNamespace(p, quietly = TRUE)))) cat(p, '\\n', sep = '')",
        ],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return f"Rscript failed to check its packages: {probe.stderr.strip()[-1000:]}"
    missing = [name for name in probe.stdout.split() if name in packages]
    if not missing:
        return None
    each = ", ".join(f"{name} (Debian package {packages[name]})" for name in missing)
    apt = " ".join(dict.fromkeys(packages[name] for name in missing))
    return (
        f"R lacks the package{'s' if len(missing) > 1 else ''} {each}: "
        f"apt-get install --no-install-recommends {apt}"
    )


@functools.cache
def _r_status() -> str | None:
    """`r_problem()` for the whole session: None when R can run every script of the tests."""
    return r_problem()


@pytest.fixture(scope="session")
def rscript() -> str:
    """Path of Rscript with every R package the tests load (`r_packages()`); fails under CI,
    skips elsewhere, naming each missing package and its Debian package."""
    reason = _r_status()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must compare with R but {reason}", pytrace=False)
        pytest.skip(f"cannot compare with R: {reason}")
    return shutil.which("Rscript")


def run_r(rscript: str, script: str, workdir: Path) -> None:
    path = workdir / "reference.R"
    path.write_text(script)
    done = subprocess.run(
        [rscript, "--vanilla", str(path)], cwd=workdir, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise AssertionError(f"R failed:\n{done.stderr[-3000:]}")
