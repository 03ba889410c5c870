"""The .xlsx responses download: seconds per 10,000 rows, beside XlsxWriter and CSV in the same run.

Reads --rows complete citizen responses as the web's download does (`stats.data.chunks`, text
DataFrames of 5,000 rows), then, best of --repeat each, writes them: ours, `analysis.export.
write_xlsx` (`analysis.xlsx`, the format written directly); XlsxWriter's constant-memory mode
with the same cell conversion (what `write_xlsx` used before); and the same rows as CSV
(`frame_csv_chunks`), for scale. Then checks, read back by openpyxl, that both workbooks hold
the same cells, value and type.

    python benchmarks/xlsx.py [--rows 10000] [--repeat 3]

BENCH_DATABASE_URL names a database seeded by benchmarks/export.py (default: par_bench_export
on 127.0.0.1:5432 as user postgres); it is seeded with 20,000 citizens if it has too few rows.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "analysis"))  # the writer of before

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/par_bench_export"
)


def cells(path: Path) -> list[list]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def best(write, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        write()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from export import complete_citizens, seed

    if complete_citizens(DATABASE_URL) < args.rows:
        seed(DATABASE_URL, max(args.rows, 20_000))
    from dashboard import make_app
    from xlsxwriter_writer import write_with_xlsxwriter

    from analysis.export import frame_csv_chunks, write_xlsx
    from survey_app.commands.demo_data import DEMO_WAVE
    from survey_app.extensions import db
    from survey_app.stats import data

    app = make_app(DATABASE_URL)
    with app.app_context():
        columns = data.header(db.session, "citizen")
        started = time.perf_counter()
        frames = list(
            itertools.islice(
                data.chunks(db.session, "citizen", DEMO_WAVE), -(-args.rows // data.CHUNK)
            )
        )
        read = time.perf_counter() - started
    rows = sum(len(f) for f in frames)
    per = 10_000 / rows
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = Path(tmp) / "ours.xlsx", Path(tmp) / "xlsxwriter.xlsx"
        t_ours = best(lambda: write_xlsx(ours, {"citizen": (columns, frames)}), args.repeat)
        t_before = best(
            lambda: write_with_xlsxwriter(theirs, "citizen", columns, frames), args.repeat
        )
        t_csv = best(lambda: sum(len(c) for c in frame_csv_chunks(frames, columns)), args.repeat)
        same = cells(ours) == cells(theirs)
        size, size_before = ours.stat().st_size, theirs.stat().st_size
    print(
        f"{rows:,} rows x {len(columns)} columns; read from the database in {read:.2f} s; "
        f"best of {args.repeat}; seconds per 10,000 rows:"
    )
    print(f"write_xlsx                   {t_ours * per:7.2f}   ({size / 1e6:.1f} MB)")
    print(f"XlsxWriter (before)          {t_before * per:7.2f}   ({size_before / 1e6:.1f} MB)")
    print(f"CSV of the same rows         {t_csv * per:7.2f}")
    print(f"ratio write_xlsx / before: {t_ours / t_before:.2f}; same cells: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
