"""`seed-demo` at national scale, beside a bare COPY of the same rows into the same tables.

Seeds --responses citizens (and a quarter as many leaders, a tenth delegates, as `seed-demo`
does) into a fresh database, timing wall and CPU time. Then, on PostgreSQL, copies the rows it
wrote back into empty tables with the same columns, indexes and foreign key (COPY from memory):
what the database alone needs to store them, twice: with the answers' key checked row by row as
COPY writes them (how seed_demo stored them until it checked the key once), and with the key
added after the COPY, which checks every row in one join (as seed_demo does now): the floor
this way of seeding pays. The ratios of the seeding to these are the figures to compare between
runs.

    python benchmarks/seed_demo.py [--responses 100000]

BENCH_DATABASE_URL names the database (default: par_bench_seed on 127.0.0.1:5432 as user
postgres); it is dropped and created anew. A SQLite URL works too (no baseline then).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/par_bench_seed"
)
RESPONSE_COLUMNS = (
    "id, wave_id, questionnaire_code, questionnaire_version_id, key_hash, status, language, "
    "page_index, furthest_page, started_at, updated_at, completed_at"
)


TWIN_KEY = (
    "ALTER TABLE twin_answer ADD FOREIGN KEY (response_id) "
    "REFERENCES twin_response (id) ON DELETE CASCADE"
)


def copy_baseline(engine, responses, answers, key_after: bool) -> float:
    """Seconds to COPY the seeded rows, read into memory first, into new twin tables; their
    foreign key made before the COPY (checked row by row) or after it (`key_after`)."""
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS twin_answer, twin_response"))
        conn.execute(text("CREATE TABLE twin_response (LIKE response INCLUDING ALL)"))
        conn.execute(text("CREATE TABLE twin_answer (LIKE answer INCLUDING ALL)"))
        if not key_after:
            conn.execute(text(TWIN_KEY))
    started = time.perf_counter()
    with engine.begin() as conn, conn.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY twin_response ({RESPONSE_COLUMNS}) FROM STDIN") as copy:
            for row in responses:
                copy.write_row(row)
        with cursor.copy("COPY twin_answer (response_id, item_code, value) FROM STDIN") as copy:
            for row in answers:
                copy.write_row(row)
        if key_after:
            conn.execute(text(TWIN_KEY))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=100_000)
    args = parser.parse_args()

    from dashboard import fresh_database, make_app

    from survey_app.commands.demo_data import seed_demo
    from survey_app.extensions import db
    from survey_app.questionnaire.store import sync_questionnaires
    from survey_app.schema import upgrade

    fresh_database(DATABASE_URL)
    app = make_app(DATABASE_URL)
    with app.app_context():
        upgrade(db.engine)
        with db.transaction() as tx:
            sync_questionnaires(tx, app.config["QUESTIONNAIRE_DIR"])
        wall, cpu = time.perf_counter(), time.process_time()
        with db.transaction() as tx:
            made = seed_demo(tx, args.responses)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        total = sum(made.values())
        groups = ", ".join(f"{code} {n:,}" for code, n in made.items())
        print(
            f"seed_demo --responses {args.responses:,}: {total:,} responses ({groups}) in "
            f"{wall:.1f} s wall, {cpu:.1f} s CPU in this process"
        )
        from survey_app.appraisal.demo import seed_demo_round

        wall = time.perf_counter()
        with db.transaction() as tx:
            seed_demo_round(tx)
        print(
            f"the demo appraisal round (seed-demo adds it once): {time.perf_counter() - wall:.2f} s"
        )
        if db.engine.dialect.name != "postgresql":
            return
        with db.engine.connect() as conn:
            responses = conn.execute(text(f"SELECT {RESPONSE_COLUMNS} FROM response")).all()
            answers = conn.execute(text("SELECT response_id, item_code, value FROM answer")).all()
        per_row = copy_baseline(db.engine, responses, answers, key_after=False)
        key_after = copy_baseline(db.engine, responses, answers, key_after=True)
        print(
            f"baseline: COPY of the same {len(responses):,} responses and {len(answers):,} "
            f"answers into twin tables: {per_row:.1f} s with the key checked per row, "
            f"{key_after:.1f} s with the key added after"
        )
        print(f"ratio seed / COPY: {wall / per_row:.2f} (per row), {wall / key_after:.2f} (after)")


if __name__ == "__main__":
    main()
