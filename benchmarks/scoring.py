"""Scoring speed at national scale: 63 provinces, ~95,000 citizens, ~50,000 leaders and delegates.

Builds a synthetic national data set shaped like the exports of questionnaires/leader.yaml,
delegate.yaml and citizen.yaml (every integer-coded column, answers at random with 10 % "don't
know"), scored with questionnaires/scoring/par2022.yaml:

- citizens: 63 provinces of 800..2,200 respondents, stratified by district (8..14 per province)
  and clustered by commune (3..6 per district), with unequal final weights;
- leaders (~35,000) and delegates (~15,000): unweighted censuses, 300..800 and 130..350 per
  province.

Times `analysis.scoring.score` per unit (``unit="province"``: every figure for each of the 63
provinces, each a domain of its group's design) and for one national unit (no unit column). Seconds
are the best of a few runs (one run when a run takes over 2 s): wall clock, and the CPU time of
this process, the steadier figure on a busy machine.

Run: ``python benchmarks/scoring.py [--repeats 3] [--seed 1]``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.questionnaire import read_questionnaire, variables  # noqa: E402
from analysis.scheme import load_scheme  # noqa: E402
from analysis.scoring import score  # noqa: E402

QUESTIONNAIRES = ROOT / "questionnaires"
SCHEME = QUESTIONNAIRES / "scoring" / "par2022.yaml"
PROVINCES = 63
#: respondents per province: citizens, leaders, delegates (uniform between the bounds)
SIZES = {"citizen": (800, 2200), "leader": (300, 800), "delegate": (130, 350)}
DONT_KNOW = 0.1


def _answers(rng, group: str, n: int, province: np.ndarray) -> dict[str, np.ndarray]:
    """Every integer-coded export column of the group's questionnaire, answered at random."""
    columns = {}
    # a province effect, so units differ
    lean = rng.normal(0, 0.6, PROVINCES)[province]
    for v in variables(read_questionnaire(QUESTIONNAIRES, group)):
        if not v.values or not all(isinstance(x, int) for x in v.values):
            continue
        values = np.asarray(v.values, dtype=np.float64)
        if len(values) > 2:
            position = rng.normal(len(values) / 2 + lean, 1.0, n)
            answers = values[np.clip(np.round(position), 0, len(values) - 1).astype(int)]
        else:
            answers = rng.choice(values, n)
        answers[rng.random(n) < DONT_KNOW] = np.nan
        columns[v.name] = answers
    return columns


def make_data(seed: int = 1) -> dict[str, pd.DataFrame]:
    """The three groups' tables, each with a ``province`` column; citizens with their design."""
    rng = np.random.default_rng(seed)
    names = np.array([f"p{i:02d}" for i in range(1, PROVINCES + 1)], dtype=object)
    tables = {}
    for group, (low, high) in SIZES.items():
        sizes = rng.integers(low, high + 1, PROVINCES)
        province = np.repeat(np.arange(PROVINCES), sizes)
        n = len(province)
        table = pd.DataFrame(_answers(rng, group, n, province))
        table.insert(0, "province", names[province])
        if group == "citizen":
            districts = rng.integers(8, 15, PROVINCES)
            district = np.floor(rng.random(n) * districts[province]).astype(int)
            communes = rng.integers(3, 7, (PROVINCES, 15))
            commune = np.floor(rng.random(n) * communes[province, district]).astype(int)
            table["district"] = [
                f"{names[p]}_d{d:02d}" for p, d in zip(province, district, strict=True)
            ]
            table["commune"] = [f"c{c}" for c in commune]
            table["weight"] = rng.uniform(40, 400, n)
        tables[group] = table
    return tables


def measure(function, repeats: int) -> tuple[float, float, object]:
    """Best wall-clock and best CPU seconds (this process, all its threads) over a few runs."""
    wall, cpu, result = float("inf"), float("inf"), None
    for _ in range(repeats):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = function()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
        if wall > 2:
            break
    return wall, cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    scheme = load_scheme(SCHEME, QUESTIONNAIRES)
    data = make_data(args.seed)
    sizes = ", ".join(f"{len(t):,} {g}s" for g, t in data.items())
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}")
    print(f"{PROVINCES} provinces: {sizes}")
    design = {"strata": "district", "cluster": "commune"}
    per_unit, cpu, result = measure(
        lambda: score(scheme, data, unit="province", **design), args.repeats
    )
    figures = result.table
    print(
        f"per unit ({len(result.units)} provinces, {len(figures):,} figures): {per_unit:.3f} s "
        f"({cpu:.3f} s CPU; {1000 * per_unit / len(result.units):.1f} ms per province)"
    )
    national, cpu, result = measure(
        lambda: score(scheme, data, unit_code="national", **design), args.repeats
    )
    print(f"one national unit ({len(result.table):,} figures): {national:.3f} s ({cpu:.3f} s CPU)")
    total = figures[(figures.kind == "total") & (figures.code == "all")]
    print(
        f"total points per province: {total.estimate.min():.2f}..{total.estimate.max():.2f}, "
        f"SE {total.se.min():.3f}..{total.se.max():.3f}"
    )


if __name__ == "__main__":
    main()
