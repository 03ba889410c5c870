"""The monitoring dashboard at national scale: 100,000 responses, rendered in under 200 ms.

Seeds a fresh database with a realistic wave (citizen responses over 30 days with a district x sex
x age group quota, some leader responses with invitations), checks the dashboard's figures against
direct counts, then times the full page and its JSON endpoint through Flask's test client as a
logged-in monitor: median and p95 over --requests requests each, and the number of SQL statements
per request.

    python benchmarks/dashboard.py [--responses 100000] [--requests 20] [--without-indexes]

BENCH_DATABASE_URL names the database (default: par_bench_dashboard on 127.0.0.1:5432 as user
postgres); it is dropped and created anew. A SQLite URL works as well (rows inserted with
executemany instead of COPY). --without-indexes drops the indexes of migration 0003 first, to
show what they are worth.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/par_bench_dashboard"
)
PASSWORD = "benchmark password"
COLUMNS = [
    "wave_id",
    "questionnaire_code",
    "questionnaire_version_id",
    "key_hash",
    "status",
    "language",
    "page_index",
    "furthest_page",
    "started_at",
    "updated_at",
    "completed_at",
    "quota_cell_id",
    "over_quota",
    "duration_seconds",
    "straightlined_grids",
]
#: The indexes migration 0003 adds (dropped by --without-indexes).
DASHBOARD_INDEXES = ["ix_response_dashboard"]


def fresh_database(url: str) -> None:
    from survey_app.db import make_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database).unlink(missing_ok=True)
        return
    server = make_engine(parsed.set(database="postgres").render_as_string(False))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    server.dispose()


def make_app(url: str):
    from survey_app import create_app

    return create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "benchmark",
            "SESSION_COOKIE_SECURE": False,
            "QUESTIONNAIRE_DIR": str(ROOT / "questionnaires"),
        }
    )


def seed(app, responses: int, rng: random.Random) -> dict:
    """A wave with `responses` responses: 95 % citizens under a quota, 5 % invited leaders."""
    from survey_app.accounts.auth import create_user
    from survey_app.extensions import db
    from survey_app.fieldwork.waves import ensure_default_wave
    from survey_app.models import Invitation, Quota, QuotaCell
    from survey_app.questionnaire.store import definition, latest_versions, sync_questionnaires
    from survey_app.schema import upgrade

    upgrade(db.engine)
    with db.transaction() as tx:
        sync_questionnaires(tx, app.config["QUESTIONNAIRE_DIR"])
        wave = ensure_default_wave(tx)
        create_user(tx, "monitor@example.org", PASSWORD, "monitor")
        versions = latest_versions(tx)
        citizen = definition(versions["citizen"])
        options = {
            v: [o.key for o in citizen.by_code[v].options] for v in ("district", "sex", "age_group")
        }
        quota = Quota(
            wave_id=wave.id,
            questionnaire_code="citizen",
            name="District x sex x age group",
            variables=["district", "sex", "age_group"],
            when_full="flag",
        )
        keys = [
            f"{d}|{s}|{a}"
            for d in options["district"]
            for s in options["sex"]
            for a in options["age_group"]
        ]
        quota.cells = [QuotaCell(cell_key=key, target=0, complete=0) for key in keys]
        tx.add(quota)
        tx.flush()
        cell_ids = [cell.id for cell in quota.cells]
        wave_id, citizen_id, leader_id = wave.id, versions["citizen"].id, versions["leader"].id
        citizen_pages = len(citizen.pages)
        leader_pages = len(definition(versions["leader"]).pages)

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    leaders = responses // 20
    rows, per_cell = [], dict.fromkeys(cell_ids, 0)
    # Districts near the capital and people of working age are reached more often.
    cell_weights = [
        1.0 / (1 + 0.2 * (i // 8)) * (1.4 if i % 4 in (1, 2) else 0.8) for i in range(len(cell_ids))
    ]
    for i in range(responses):
        code, version, pages = (
            ("leader", leader_id, leader_pages)
            if i < leaders
            else ("citizen", citizen_id, citizen_pages)
        )
        roll = rng.random()
        status = "complete" if roll < 0.72 else "in_progress" if roll < 0.92 else "screened_out"
        # Fieldwork picks up over the month: recent days are busier.
        days_ago = 30 * (1 - math.sqrt(rng.random()))
        started = now - dt.timedelta(days=days_ago, seconds=rng.random() * 3600)
        duration = max(40, int(rng.lognormvariate(math.log(620), 0.45)))
        if rng.random() < 0.04:
            duration = rng.randint(45, 150)  # speeders
        cell = None
        if code == "citizen" and status != "in_progress":
            cell = rng.choices(cell_ids, weights=cell_weights)[0]
        elif code == "citizen" and rng.random() < 0.3:
            cell = rng.choice(cell_ids)
        completed = started + dt.timedelta(seconds=duration) if status != "in_progress" else None
        if completed is not None and completed > now:
            completed = now
        page = pages - 1 if status != "in_progress" else min(int(rng.expovariate(0.35)), pages - 1)
        if status == "complete" and cell is not None:
            per_cell[cell] += 1
        rows.append(
            (
                wave_id,
                code,
                version,
                f"{i:064x}",
                status,
                "vi" if rng.random() < 0.85 else "en",
                page,
                page,
                started,
                completed or started,
                completed,
                cell,
                False,
                duration if status == "complete" else None,
                1 if status == "complete" and rng.random() < 0.06 else 0,
            )
        )
    load_responses(rows)
    with db.transaction() as tx:
        # Targets a little above or below what came in: some cells full, some over target.
        for cell_id, complete in per_cell.items():
            target = max(1, int(complete * rng.uniform(0.9, 1.3)))
            tx.execute(
                QuotaCell.__table__.update()
                .where(QuotaCell.id == cell_id)
                .values(
                    target=target,
                    complete=min(target, complete),
                    over_target=max(0, complete - target),
                )
            )
        tx.execute(
            insert(Invitation),
            [
                {
                    "wave_id": wave_id,
                    "questionnaire_code": "leader",
                    "token_hash": f"{i:064x}",
                    "status": rng.choice(["issued", "opened", "in_progress", "complete"]),
                }
                for i in range(int(leaders * 1.6))
            ],
        )
    # What autovacuum does to a table that has settled: statistics, and the visibility map that
    # lets index-only scans skip the heap.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(
            text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE")
        )
    return {"wave_code": wave.code, "wave_id": wave_id}


def load_responses(rows: list[tuple]) -> None:
    from survey_app.extensions import db
    from survey_app.models import Response

    if db.engine.dialect.name == "postgresql":
        raw = db.engine.raw_connection()
        try:
            with (
                raw.driver_connection.cursor() as cursor,
                cursor.copy(f"COPY response ({', '.join(COLUMNS)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            raw.driver_connection.commit()
        finally:
            raw.close()
        return
    with db.transaction() as tx:
        for start in range(0, len(rows), 10_000):
            tx.execute(
                insert(Response),
                [dict(zip(COLUMNS, r, strict=True)) for r in rows[start : start + 10_000]],
            )


def check_figures(client, app, wave: dict) -> None:
    """The JSON endpoint against direct counts: a benchmark of wrong figures is worth nothing."""
    from survey_app.extensions import db
    from survey_app.models import QuotaCell, Response

    figures = client.get(f"/en/admin/monitor/{wave['wave_code']}/citizen/data").get_json()
    scope = (Response.wave_id == wave["wave_id"], Response.questionnaire_code == "citizen")
    with app.app_context():
        counts = dict(
            db.session.execute(
                select(Response.status, func.count()).where(*scope).group_by(Response.status)
            ).all()
        )
        durations = sorted(
            db.session.scalars(
                select(Response.duration_seconds).where(*scope, Response.status == "complete")
            )
        )
        cells = dict(db.session.execute(select(QuotaCell.cell_key, QuotaCell.complete)).all())
    assert figures["complete"] == counts["complete"], (figures["complete"], counts)
    assert figures["in_progress"] == counts["in_progress"]
    assert figures["screened_out"] == counts["screened_out"]
    assert figures["median_duration_seconds"] == statistics.median(durations)
    limit = statistics.median(durations) / 3
    assert figures["speeders"]["count"] == sum(d < limit for d in durations)
    shown = {c["cell_key"]: c["complete"] for c in figures["quotas"][0]["cells"]}
    assert shown == cells


def login(client) -> None:
    page = client.get("/en/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post(
        "/en/admin/login",
        data={"csrf_token": token, "email": "monitor@example.org", "password": PASSWORD},
    )
    assert answer.status_code == 302, "login failed"


def timed(client, engine, path: str, requests: int) -> tuple[list[float], list[float], int]:
    """Wall time of each request, the time spent in SQL of each, and statements per request."""
    sql_ms: list[float] = []
    statements = []

    def before(conn, *_args):
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, *_args):
        statements.append(1)
        sql_ms[-1] += (time.perf_counter() - conn.info.pop("bench_started")) * 1000

    for _ in range(3):  # warm caches: templates, questionnaire definitions, the pool
        assert client.get(path).status_code == 200
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    times = []
    try:
        for _ in range(requests):
            sql_ms.append(0.0)
            start = time.perf_counter()
            answer = client.get(path)
            answer.get_data()
            times.append((time.perf_counter() - start) * 1000)
            assert answer.status_code == 200, answer.status_code
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return times, sql_ms, len(statements) // requests


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--without-indexes", action="store_true")
    args = parser.parse_args()

    fresh_database(DATABASE_URL)
    app = make_app(DATABASE_URL)
    from survey_app.extensions import db

    started = time.perf_counter()
    with app.app_context():
        wave = seed(app, args.responses, random.Random(args.seed))
        if args.without_indexes:
            with db.engine.begin() as conn:
                for name in DASHBOARD_INDEXES:
                    conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
        engine = db.engine
    seeded = time.perf_counter() - started
    print(
        f"{engine.dialect.name}: seeded {args.responses:,} responses in {seeded:.1f} s"
        + (" (dashboard indexes dropped)" if args.without_indexes else "")
    )

    client = app.test_client()
    login(client)
    check_figures(client, app, wave)
    base = f"/en/admin/monitor/{wave['wave_code']}/citizen"
    print(f"{'request':<34} {'median ms':>10} {'p95 ms':>8} {'SQL ms':>8} {'queries':>8}")
    for label, path in [
        ("dashboard page (en)", base),
        ("dashboard page (vi)", base.replace("/en/", "/vi/")),
        ("dashboard page, district filter", base + "?district=can_loc"),
        ("JSON data endpoint", base + "/data"),
        ("monitoring home", "/en/admin/monitor"),
    ]:
        times, sql_ms, queries = timed(client, engine, path, args.requests)
        print(
            f"{label:<34} {statistics.median(times):>10.1f} {p95(times):>8.1f}"
            f" {statistics.median(sql_ms):>8.1f} {queries:>8}"
        )
    # How fast this machine is, to read the figures above against: a fixed piece of Python.
    start = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    print(f"reference: a 5-million-step Python loop took {time.perf_counter() - start:.2f} s here")
    engine.dispose()


if __name__ == "__main__":
    main()
