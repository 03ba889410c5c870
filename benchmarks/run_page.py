"""The statistician's run page and the wave report of a finished run, with their baselines.

Seeds the demo wave (--responses), uploads targets, appraisal scores and last year's index, runs
the whole chain (rake, index) in the app's process, then times, through Flask's test client as a
logged-in statistician (median of --requests views each):

- bare: a bare Flask route returning the same number of bytes (the floor: routing, the test
  client, no database);
- before: the page as every view built it before the results were kept (the scheme's YAML
  parsed, the run's tables read, four charts drawn, the tables walked), by dropping what is kept
  and the process's parsed scheme before each view;
- first view: nothing kept yet for this run and language, the scheme parsed already in this
  process (the first statistician to open a finished run);
- reload: what every later view costs, on any host (the results HTML read from the database).

    python benchmarks/run_page.py [--responses 2000] [--requests 7]

BENCH_DATABASE_URL names the database (default: a temporary SQLite file); a PostgreSQL one is
emptied and migrated first (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/par_bench_runpage).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "stats"))

from sqlalchemy import text  # noqa: E402


def measure(call, requests: int, setup=None) -> float:
    """Median milliseconds of `requests` calls, each after `setup` (not timed)."""
    times = []
    for _ in range(requests):
        if setup is not None:
            setup()
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=7)
    args = parser.parse_args()

    from app_support import PASSWORD, make_app, reset_database
    from flask import Flask
    from html_client import csrf_token
    from test_stats import full_run

    from survey_app import storage
    from survey_app.accounts.auth import create_user
    from survey_app.commands.demo_data import seed_demo
    from survey_app.db import make_engine
    from survey_app.extensions import db
    from survey_app.schema import upgrade
    from survey_app.stats import services

    workdir = Path(tempfile.mkdtemp(prefix="par-bench-runpage-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    app = make_app(url, RUN_QUEUE="in-process", TESTING=False)
    reset_database(app)
    started = time.perf_counter()
    with app.app_context(), db.transaction() as tx:
        seed_demo(tx, args.responses)
        create_user(tx, "statistician@example.vn", PASSWORD, "statistician")
    print(f"database: {engine.dialect.name}; seeded {args.responses} responses in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip

    client = app.test_client()
    page = client.get("/en/admin/login").get_data(as_text=True)
    client.post(
        "/en/admin/login",
        data={"csrf_token": csrf_token(page), "email": "statistician@example.vn",
              "password": PASSWORD},
    )  # fmt: skip
    started = time.perf_counter()
    run_id, _page = full_run(client)
    print(f"run {run_id} (rake, index) done in {time.perf_counter() - started:.1f} s")

    pages = {
        "run page": f"/en/stats/runs/{run_id}",
        "wave report": f"/en/stats/waves/demo/report?run={run_id}",
    }
    folder = f"runs/{run_id}/pages/"

    def forget(scheme_too: bool) -> None:
        with app.app_context(), db.transaction() as tx:
            storage.remove(tx, folder)
        if scheme_too:
            services._load_scheme.cache_clear()

    print(f"\n{'page':<12} {'bytes':>7} {'bare':>8} {'before':>9} {'first view':>11} "
          f"{'reload':>8} {'before/reload':>14} {'reload/bare':>12}")  # fmt: skip
    for name, path in pages.items():
        body = client.get(path).get_data()
        assert b"<svg" in body, f"{name}: no charts"
        bare = Flask("bare")
        bare.add_url_rule("/page", "page", lambda body=body: body)
        bare_client = bare.test_client()
        floor = measure(lambda bare_client=bare_client: bare_client.get("/page"), args.requests)

        view = lambda path=path: client.get(path)  # noqa: E731
        old = measure(view, args.requests, setup=lambda: forget(scheme_too=True))
        cold = measure(view, args.requests, setup=lambda: forget(scheme_too=False))
        client.get(path)  # kept again
        warm = measure(view, args.requests)
        print(f"{name:<12} {len(body):>7} {floor:>6.1f}ms {old:>7.0f}ms {cold:>9.0f}ms "
              f"{warm:>6.1f}ms {old / warm:>13.0f}x {warm / floor:>11.1f}x")  # fmt: skip
    db.engine_of(app).dispose()


if __name__ == "__main__":
    main()
