"""Weighting speed and memory: ours beside samplics, weightipy and balance.

Raking on 3 margins (8 x 2 x 4 levels) at 100,000 and 1,000,000 rows, plus post-stratification on
the 64 crossed cells and linear calibration at 1,000,000 rows. Every tool starts from the same
DataFrame of integer-coded columns and returns one weight per row. Seconds are the best of a few
runs (one run when a run takes over 2 s); peak memory is what `tracemalloc` saw allocated during
one extra run (numpy and pandas buffers included), beside the size of the input.

Run: ``python benchmarks/weighting.py`` (``make bench-weighting`` installs the competitors).
A competitor that is not installed says so in its row.
"""

from __future__ import annotations

import gc
import os
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.targets import targets_from_mapping  # noqa: E402
from analysis.weights import calibrate, poststratify, rake  # noqa: E402

LEVELS = {"region": 8, "sex": 2, "age": 4}
TOTAL = 1_000_000.0
REPEATS = 5


def make_data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "region": rng.choice(8, n, p=np.arange(1, 9) / 36),
            "sex": rng.choice(2, n, p=[0.45, 0.55]),
            "age": rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )


def margins() -> dict[str, dict[int, float]]:
    shares = {
        "region": np.full(8, 1 / 8),
        "sex": np.array([0.51, 0.49]),
        "age": np.array([0.25, 0.3, 0.25, 0.2]),
    }
    return {v: {i: TOTAL * s for i, s in enumerate(p)} for v, p in shares.items()}


def cells(data: pd.DataFrame) -> pd.Series:
    return data["region"] * 8 + data["sex"] * 4 + data["age"]


def cell_targets() -> dict[int, float]:
    m = margins()
    return {
        r * 8 + s * 4 + a: m["region"][r] * m["sex"][s] * m["age"][a] / TOTAL**2
        for r in range(8)
        for s in range(2)
        for a in range(4)
    }


# --- the contenders: each returns an array of weights ----------------------------------------


def ours_rake(data):
    return rake(data, targets_from_mapping(margins()), tol=1e-10).weights


def ours_poststratify(data):
    frame = pd.DataFrame({"cell": cells(data)})
    return poststratify(frame, targets_from_mapping({"cell": cell_targets()})).weights


def ours_linear(data):
    return calibrate(data, targets_from_mapping(margins()), "linear").weights


def samplics_rake(data):
    from samplics.weighting import SampleWeight

    margin_values = {v: data[v].to_numpy() for v in LEVELS}
    return SampleWeight().rake(
        samp_weight=np.ones(len(data)), margins=margin_values, control=margins(), tol=1e-6
    )


def samplics_poststratify(data):
    from samplics.weighting import SampleWeight

    return SampleWeight().poststratify(
        samp_weight=np.ones(len(data)), control=cell_targets(), domain=cells(data).to_numpy()
    )


def samplics_linear(data):
    from samplics.weighting import SampleWeight

    dummies = pd.get_dummies(data.astype(str), drop_first=True).astype(float)
    aux = np.column_stack([np.ones(len(data)), dummies.to_numpy()])
    m = margins()
    control = [TOTAL] + [m[c.split("_")[0]][int(c.split("_")[1])] for c in dummies.columns]
    return SampleWeight().calibrate(
        samp_weight=np.ones(len(data)), aux_vars=aux, control=dict(enumerate(control))
    )


def weightipy_rake(data):
    import weightipy as wp

    percent = {v: {k: 100 * t / TOTAL for k, t in d.items()} for v, d in margins().items()}
    scheme = wp.scheme_from_dict(percent)
    return wp.weight_dataframe(data.copy(), scheme)["weights"].to_numpy()


def balance_rake(data):
    from balance import Sample

    sample = Sample.from_frame(
        data.astype(str).assign(id=np.arange(len(data)).astype(str)), id_column="id"
    )
    rows = []
    for v, d in margins().items():
        rows.append(pd.DataFrame({v: [str(k) for k in d], "weight": list(d.values())}))
    target = Sample.from_frame(make_target_frame(), id_column="id", weight_column="weight")
    return sample.set_target(target).adjust(method="rake").weights().df.to_numpy()


def make_target_frame() -> pd.DataFrame:
    """balance wants a target sample: a population frame with the target margins."""
    rng = np.random.default_rng(2)
    n = 20_000
    m = margins()
    frame = pd.DataFrame(
        {
            v: rng.choice(len(d), n, p=np.array(list(d.values())) / TOTAL).astype(str)
            for v, d in m.items()
        }
    )
    frame["id"] = np.arange(n).astype(str)
    frame["weight"] = TOTAL / n
    return frame


CONTENDERS = {
    "rake": [
        ("ours", ours_rake, None),
        ("samplics", samplics_rake, "samplics"),
        ("weightipy", weightipy_rake, "weightipy"),
        ("balance", balance_rake, "balance"),
    ],
    "poststratify": [
        ("ours", ours_poststratify, None),
        ("samplics", samplics_poststratify, "samplics"),
    ],
    "linear": [
        ("ours", ours_linear, None),
        ("samplics", samplics_linear, "samplics"),
    ],
}


def installed(module: str | None) -> bool:
    if module is None:
        return True
    try:
        __import__(module)
    except Exception:
        return False
    return True


def measure(function, data) -> tuple[float, float, np.ndarray]:
    """Best seconds over a few runs, and peak MB allocated during one run."""
    best = float("inf")
    weights = None
    for _ in range(REPEATS):
        gc.collect()
        start = time.perf_counter()
        weights = function(data)
        best = min(best, time.perf_counter() - start)
        if best > 2:
            break
    gc.collect()
    tracemalloc.start()
    function(data)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return best, peak, np.asarray(weights, dtype=float)


def margin_error(data, weights) -> float:
    worst = 0.0
    for v, d in margins().items():
        got = pd.Series(weights).groupby(data[v].to_numpy()).sum()
        scale = TOTAL / weights.sum()  # tools that return shares or a mean of 1 are rescaled
        for level, target in d.items():
            worst = max(worst, abs(got[level] * scale - target) / target)
    return worst


def main() -> None:
    warnings.simplefilter("ignore")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}")
    header = f"{'task':<14}{'rows':>10}  {'tool':<10}{'seconds':>10}{'peak MB':>10}{'x ours':>9}"
    print(header + "  max margin error / note")
    print("-" * (len(header) + 26))
    plan = [("rake", 100_000), ("rake", 1_000_000), ("poststratify", 1_000_000)]
    plan.append(("linear", 1_000_000))
    for task, n in plan:
        data = make_data(n)
        input_mb = data.memory_usage(deep=True).sum() / 2**20
        ours_seconds = None
        for tool, function, module in CONTENDERS[task]:
            label = f"{task:<14}{n:>10,}  {tool:<10}"
            if not installed(module):
                print(f"{label}{'-':>10}{'-':>10}{'-':>9}  not installed (pip install {module})")
                continue
            try:
                seconds, peak, weights = measure(function, data)
            except Exception as exc:  # a competitor's failure is a row, not a crash
                reason = f"failed: {type(exc).__name__}: {exc}"[:100]
                print(f"{label}{'-':>10}{'-':>10}{'-':>9}  {reason}")
                continue
            if tool == "ours":
                ours_seconds = seconds
            ratio = seconds / ours_seconds if ours_seconds else float("nan")
            error = margin_error(data, weights) if task != "poststratify" else float("nan")
            note = f"{error:.1e}" if task != "poststratify" else ""
            print(f"{label}{seconds:>10.4f}{peak:>10.1f}{ratio:>9.1f}  {note}")
        print(f"{'':<26}(input {input_mb:.1f} MB)")


if __name__ == "__main__":
    main()
