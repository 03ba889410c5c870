"""Means with standard errors of 5 items by 8 districts on 1,000,000 rows, beside numpy bincounts.

The data are what `python -m analysis` and the web give `analysis.estimate`: text columns (CSV
read with dtype=str), 5 % of answers missing, a weight, 40 strata of 25 communes each (PSUs).
Ours is `analysis.estimate.estimate(data, items, Design.build(weights, strata, cluster),
by=["district"])`: overall and by-district means, Taylor-linearised SEs, Wald intervals and
design effects. The baseline computes the same means and SEs (with-replacement PSU variance
within strata, Lumley 2010) from the same text columns with one `to_numpy(float)` a column and
`numpy.bincount`, nothing else; the script checks both give the same numbers (to 1e-9 relative)
before it times them, best of --repeat each.

    python benchmarks/estimate.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ITEMS = [f"q{i}" for i in range(1, 6)]
DISTRICTS = 8
STRATA = 40
PSUS_PER_STRATUM = 25


def make_data(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    stratum = rng.integers(0, STRATA, rows)
    commune = stratum * PSUS_PER_STRATUM + rng.integers(0, PSUS_PER_STRATUM, rows)
    district = rng.integers(0, DISTRICTS, rows)
    frame = {
        "stratum": [f"s{v:02d}" for v in stratum],
        "commune": [f"c{v:04d}" for v in commune],
        "district": [f"district_{v}" for v in district],
        "weight": [f"{v:.6f}" for v in rng.gamma(4.0, 25.0, rows)],
    }
    for item in ITEMS:
        values = np.clip(np.round(rng.normal(3.6 + 0.1 * district, 1.0)), 1, 5).astype(int)
        text = values.astype(str).astype(object)
        text[rng.random(rows) < 0.05] = np.nan
        frame[item] = text
    return pd.DataFrame(frame).astype(str).replace("nan", np.nan)


def ours(data: pd.DataFrame) -> pd.DataFrame:
    from analysis.estimate import Design, estimate

    weights = data["weight"].to_numpy(dtype=np.float64)
    design = Design.build(weights, data["stratum"], data["commune"])
    return estimate(data, ITEMS, design, by=["district"])


def baseline(data: pd.DataFrame) -> pd.DataFrame:
    """Weighted means and linearised SEs with bincounts: one pass per item."""
    w = data["weight"].to_numpy(dtype=np.float64)
    stratum = pd.factorize(data["stratum"])[0]
    psu = pd.factorize(data["commune"])[0]
    district, labels = pd.factorize(data["district"], sort=True)
    n_psu, n_strata = psu.max() + 1, stratum.max() + 1
    psu_stratum = np.zeros(n_psu, dtype=np.intp)
    psu_stratum[psu] = stratum
    psus_in = np.bincount(psu_stratum, minlength=n_strata).astype(np.float64)
    scale = psus_in / (psus_in - 1.0)
    out = []
    for item in ITEMS:
        y = data[item].to_numpy(dtype=np.float64, na_value=np.nan)
        ok = ~np.isnan(y)
        for domain, n_domains in ((np.zeros(len(y), dtype=np.intp), 1), (district, DISTRICTS)):
            d, wy, wo = domain[ok], (w * y)[ok], w[ok]
            total_w = np.bincount(d, weights=wo, minlength=n_domains)
            mean = np.bincount(d, weights=wy, minlength=n_domains) / total_w
            z = wo * (y[ok] - mean[d]) / total_w[d]
            t = np.bincount(psu[ok] * n_domains + d, weights=z, minlength=n_psu * n_domains)
            t = t.reshape(n_psu, n_domains)
            s1 = np.zeros((n_strata, n_domains))
            s2 = np.zeros((n_strata, n_domains))
            np.add.at(s1, psu_stratum, t)
            np.add.at(s2, psu_stratum, t**2)
            var = (scale[:, None] * (s2 - s1**2 / psus_in[:, None])).sum(axis=0)
            out.append(
                pd.DataFrame(
                    {
                        "item": item,
                        "domain": [""] if n_domains == 1 else list(labels),
                        "estimate": mean,
                        "se": np.sqrt(var),
                    }
                )
            )
    return pd.concat(out, ignore_index=True)


def best(function, data, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function(data)
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--object", action="store_true", help="text as object columns (pandas 2's dtype=str)"
    )
    args = parser.parse_args()
    data = make_data(args.rows)
    if args.object:
        data = data.astype(object)
    check = make_data(20_000, seed=2)
    mine, theirs = ours(check), baseline(check)
    assert list(mine["estimate"].isna()) == [False] * len(mine)
    np.testing.assert_allclose(mine["estimate"], theirs["estimate"], rtol=1e-9)
    np.testing.assert_allclose(mine["se"], theirs["se"], rtol=1e-9)
    print(f"same numbers on 20,000 rows: {len(mine)} means and SEs agree to 1e-9")
    print(
        f"{args.rows:,} rows, {len(ITEMS)} items by {DISTRICTS} districts, {STRATA} strata, "
        f"{STRATA * PSUS_PER_STRATUM} PSUs; text columns ({data[ITEMS[0]].dtype}); "
        f"pandas {pd.__version__}, numpy {np.__version__}; best of {args.repeat}"
    )
    t_base, _ = best(baseline, data, args.repeat)
    t_ours, _ = best(ours, data, args.repeat)
    print(f"baseline (numpy bincount)   {t_base:7.2f} s")
    print(f"analysis.estimate           {t_ours:7.2f} s")
    print(f"ratio ours / baseline: {t_ours / t_base:.2f}")


if __name__ == "__main__":
    main()
