"""`export-responses` at national scale, beside one SQL read and a pandas pivot of the answers.

Seeds a fresh database with `seed_demo` (--responses citizens, as `flask seed-demo` does), then
runs, each in its own process so that its peak memory (max RSS) is its own, alternately --repeat
times: ours, `responses_export.write_csv` of the citizen questionnaire into a file (what the
command and the web's CSV download run); and the baseline, one `pandas.read_sql` of the same
answers (response, item, value), pivoted to one row a response and written with `to_csv`, with
no coding, no metadata and no formula guard, so a floor rather than a twin. Prints the median
wall and CPU seconds, RSS before the work and at its peak, of each, and their ratios.

    python benchmarks/export.py [--responses 100000] [--repeat 3] [--keep]

BENCH_DATABASE_URL names the database (default: par_bench_export on 127.0.0.1:5432 as user
postgres); it is dropped and seeded anew unless --keep finds it seeded already.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/par_bench_export"
)
ANSWERS = (
    "SELECT a.response_id, a.item_code, a.value FROM answer a "
    "JOIN response r ON r.id = a.response_id "
    "WHERE r.questionnaire_code = 'citizen' AND r.status = 'complete'"
)


def complete_citizens(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(
                text(
                    "SELECT count(*) FROM response "
                    "WHERE questionnaire_code = 'citizen' AND status = 'complete'"
                )
            )
    except Exception:
        return 0
    finally:
        engine.dispose()


def seed(url: str, responses: int) -> None:
    from dashboard import fresh_database, make_app

    from survey_app.commands.demo_data import seed_demo
    from survey_app.extensions import db
    from survey_app.questionnaire.store import sync_questionnaires
    from survey_app.schema import upgrade

    fresh_database(url)
    app = make_app(url)
    with app.app_context():
        upgrade(db.engine)
        with db.transaction() as tx:
            sync_questionnaires(tx, app.config["QUESTIONNAIRE_DIR"])
        with db.transaction() as tx:
            seed_demo(tx, responses)
        db.engine.dispose()


def child(kind: str, url: str, out: Path) -> None:
    """One measured run; prints a JSON line with its wall and CPU seconds and peak RSS."""
    if kind == "ours":
        from dashboard import make_app

        from survey_app.extensions import db
        from survey_app.fieldwork.responses_export import write_csv

        app = make_app(url)
        with app.app_context():
            start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            wall, cpu = time.perf_counter(), time.process_time()
            with out.open("w", encoding="utf-8", newline="") as handle:
                rows = write_csv(db.session, "citizen", handle)
    else:
        import pandas as pd
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        wall, cpu = time.perf_counter(), time.process_time()
        with engine.connect() as conn:
            answers = pd.read_sql(text(ANSWERS), conn)
        wide = answers.pivot(index="response_id", columns="item_code", values="value")
        wide.to_csv(out)
        rows = len(wide)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": peak, "start_mb": start, "rows": rows}))


def measure(kind: str, url: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, __file__, "--child", kind, "--out", f"{tmp}/out.csv"]
        env = {**os.environ, "BENCH_DATABASE_URL": url}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="reuse a database seeded already")
    parser.add_argument("--child", choices=("ours", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, DATABASE_URL, args.out)
        return
    if not (args.keep and complete_citizens(DATABASE_URL) >= args.responses):
        started = time.perf_counter()
        seed(DATABASE_URL, args.responses)
        print(f"seeded {args.responses:,} citizens in {time.perf_counter() - started:.0f} s")
    runs: dict[str, list[dict]] = {"ours": [], "baseline": []}
    for _ in range(args.repeat):
        for kind in runs:
            runs[kind].append(measure(kind, DATABASE_URL))
    print(
        f"{complete_citizens(DATABASE_URL):,} complete citizen responses; medians of {args.repeat}"
    )
    print(f"{'what':<44}{'wall s':>8}{'CPU s':>8}{'RSS MB before':>15}{'peak':>7}")
    labels = {
        "ours": "write_csv (export-responses)",
        "baseline": "read_sql + pivot + to_csv (baseline)",
    }
    medians = {}
    for kind, results in runs.items():
        medians[kind] = {k: statistics.median(r[k] for r in results) for k in results[0]}
        m = medians[kind]
        print(
            f"{labels[kind]:<44}{m['wall']:>8.1f}{m['cpu']:>8.1f}{m['start_mb']:>15.0f}"
            f"{m['rss_mb']:>7.0f}"
        )
    ratio = medians["ours"]["wall"] / medians["baseline"]["wall"]
    print(
        f"ratio ours / baseline: wall {ratio:.2f}, "
        f"CPU {medians['ours']['cpu'] / medians['baseline']['cpu']:.2f}, "
        f"peak RSS {medians['ours']['rss_mb'] / medians['baseline']['rss_mb']:.2f}; "
        "RSS before: the process with its imports and app, before the first row"
    )


if __name__ == "__main__":
    main()
