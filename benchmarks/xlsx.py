"""The .xlsx responses download: seconds per 10,000 rows, beside openpyxl and CSV in the same run.

Reads --rows complete citizen responses as the web's download does (`stats.data.chunks`, text
DataFrames of 5,000 rows), then, best of --repeat each, writes them: ours, `analysis.export.
write_xlsx` (XlsxWriter, constant memory); openpyxl's write-only mode with the same cell
conversion (what `write_xlsx` used before); and the same rows as CSV (`frame_csv_chunks`), for
scale. Then checks that both workbooks hold the same cells.

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

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/par_bench_export"
)


def openpyxl_write_only(path: Path, columns: list[str], frames) -> None:
    """The writer `write_xlsx` was before: openpyxl's write-only workbook."""
    from openpyxl import Workbook

    from analysis.export import _excel_cell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("citizen")
    sheet.freeze_panes = "A2"
    sheet.append(columns)
    for frame in frames:
        for record in frame.reindex(columns=columns).itertuples(index=False, name=None):
            sheet.append([_excel_cell(v) for v in record])
    book.save(path)


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
        ours, theirs = Path(tmp) / "ours.xlsx", Path(tmp) / "openpyxl.xlsx"
        t_ours = best(lambda: write_xlsx(ours, {"citizen": (columns, frames)}), args.repeat)
        t_openpyxl = best(lambda: openpyxl_write_only(theirs, columns, frames), args.repeat)
        t_csv = best(lambda: sum(len(c) for c in frame_csv_chunks(frames, columns)), args.repeat)
        same = cells(ours) == cells(theirs)
        size = ours.stat().st_size
    print(
        f"{rows:,} rows x {len(columns)} columns; read from the database in {read:.2f} s; "
        f"best of {args.repeat}; seconds per 10,000 rows:"
    )
    print(f"write_xlsx (XlsxWriter)      {t_ours * per:7.2f}   ({size / 1e6:.1f} MB)")
    print(f"openpyxl write-only (before) {t_openpyxl * per:7.2f}")
    print(f"CSV of the same rows         {t_csv * per:7.2f}")
    print(f"ratio XlsxWriter / openpyxl: {t_ours / t_openpyxl:.2f}; same cells: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
