"""Where runs execute: procrastinate's job queue on PostgreSQL, a thread of the app on SQLite.

Why procrastinate: the queue lives in the PostgreSQL the app already runs (no Redis or RabbitMQ
to deploy, back up and watch), a run's job is deferred in the same transaction as its row (no
run without a job, no job without a run), and its workers beat: a job whose worker stopped
beating is found by `JobManager.get_stalled_jobs` and retried. Workers are started with
``flask --app survey_app worker`` on any host.

SQLite (the `make run` default) has no such queue: runs go to a small thread pool inside the app
process, as before, and a run that process left running is failed when next looked at
(`recover_in_process`). ``RUN_QUEUE`` chooses; `auto` picks by the database.

procrastinate is imported only here and only where a job is deferred or worked: the web process
on SQLite never loads it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import AnalysisRun
from . import runs

log = logging.getLogger(__name__)

QUEUE = "analysis"
TASK = "par_survey.run_analysis"
#: Any number, the same on every worker: the advisory lock that lets one worker at a time
#: recover stalled runs.
RECOVERY_LOCK = 741_305_113


def mode(app: Flask | None = None) -> str:
    """ "procrastinate" or "in-process", after RUN_QUEUE and the database."""
    app = app or current_app
    chosen = app.config["RUN_QUEUE"]
    if chosen == "auto":
        postgresql = make_url(app.config["DATABASE_URL"]).get_backend_name() == "postgresql"
        return "procrastinate" if postgresql else "in-process"
    return chosen


#: The other background jobs of the app (e-mail sendings), on the same queue and workers:
#: task name -> (queue, function(app, **kwargs)). Each module registers its own at import.
TASKS: dict[str, tuple[str, Callable[..., None]]] = {}


def register_task(name: str, queue: str, function: Callable[..., None]) -> None:
    TASKS[name] = (queue, function)


def defer(session: Session, name: str, **kwargs) -> int | None:
    """Have a registered task executed, in the caller's transaction, as `enqueue` does for
    runs: deferred on the same connection (procrastinate; returns the job's id), or handed to
    the app's threads once the transaction commits (None)."""
    queue_name, function = TASKS[name]
    if mode() == "procrastinate":
        connection = session.connection().connection.driver_connection
        job = _job_app(current_app).configure_task(name, queue=queue_name, connection=connection)
        return job.defer(**kwargs)
    app = current_app._get_current_object()
    event.listen(
        session,
        "after_commit",
        lambda _session: _executor().submit(function, app, **kwargs),
        once=True,
    )
    return None


def enqueue(session: Session, run: AnalysisRun) -> None:
    """Have the run executed, in the caller's transaction: the job is deferred on the same
    connection (procrastinate), or the thread is started once the transaction commits."""
    if mode() == "procrastinate":
        connection = session.connection().connection.driver_connection
        job = _job_app(current_app).configure_task(TASK, queue=QUEUE, connection=connection)
        run.job_id = job.defer(run_id=run.id)
        return
    app = current_app._get_current_object()
    run_id = run.id
    # once: the session may commit again in this request, and must not start the run twice
    event.listen(
        session,
        "after_commit",
        lambda _session: _executor().submit(_guarded, app, run_id),
        once=True,
    )


# ---------------------------------------------------------------------------------------------
# In the app's process (SQLite)

_executor_instance: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _executor_instance
    with _executor_lock:
        if _executor_instance is None:
            _executor_instance = ThreadPoolExecutor(max_workers=2, thread_name_prefix="run")
        return _executor_instance


def _guarded(app: Flask, run_id: int) -> None:
    runs.execute(app, run_id)


def recover_in_process(session: Session) -> int:
    """Fail the runs whose thread stopped beating (the process that ran them ended); how many.
    Only where runs execute in the app's process: queue workers recover their own."""
    if mode() != "in-process":
        return 0
    lost = runs.stale_runs(session)
    for run in lost:
        # not started again: no worker of this kind outlives the process that was lost
        runs.worker_lost(run, may_retry=False)
    return len(lost)


# ---------------------------------------------------------------------------------------------
# The job queue (PostgreSQL)


def conninfo(app: Flask) -> str:
    """libpq's form of DATABASE_URL (procrastinate speaks psycopg directly, not SQLAlchemy)."""
    url = make_url(app.config["DATABASE_URL"]).set(drivername="postgresql")
    url = url.difference_update_query(["prepare_threshold"])  # the app's option, not libpq's
    return url.render_as_string(hide_password=False)


def _job_app(app: Flask):
    """The procrastinate app of a Flask app, made once; never opened in the web process (jobs
    are deferred on the request's own connection)."""
    job_app = app.extensions.get("par_jobs")
    if job_app is None:
        import procrastinate

        # a worker's pool: jobs being fetched and finished, heartbeats, the recovery (which
        # holds one connection for its lock while it uses another)
        connector = procrastinate.PsycopgConnector(conninfo=conninfo(app), min_size=1, max_size=8)
        job_app = procrastinate.App(connector=connector)
        app.extensions["par_jobs"] = job_app
    return job_app


def work(app: Flask, concurrency: int = 2, worker_name: str | None = None) -> None:
    """Be a worker until SIGINT or SIGTERM: execute run jobs, and every few seconds retry (or
    fail) the runs of workers that stopped beating. On SIGTERM, runs under way are finished
    first; a worker killed outright is what the recovery is for."""
    job_app = _job_app(app)

    @job_app.task(name=TASK, queue=QUEUE)
    def run_analysis(run_id: int) -> None:
        runs.execute(app, run_id)

    for name, (queue_name, function) in TASKS.items():
        job_app.task(name=name, queue=queue_name)(_bound(app, function))

    stale = runs.stale_after(app).total_seconds()

    async def main() -> None:
        async with job_app.open_async():
            recovery = asyncio.create_task(_recover_forever(app, job_app, stale))
            try:
                await job_app.run_worker_async(
                    queues=[QUEUE, *sorted({q for q, _f in TASKS.values()})],
                    concurrency=concurrency,
                    name=worker_name,
                    update_heartbeat_interval=runs.heartbeat_every(app),
                    stalled_worker_timeout=stale,
                )
            finally:
                recovery.cancel()

    asyncio.run(main())


def _bound(app: Flask, function: Callable[..., None]) -> Callable[..., None]:
    def task(**kwargs) -> None:
        function(app, **kwargs)

    task.__name__ = function.__name__
    return task


async def _recover_forever(app: Flask, job_app, stale: float) -> None:
    while True:
        try:
            await recover_stalled(app, job_app, stale)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the next round tries again
            log.exception("recovering stalled runs failed")
        await asyncio.sleep(max(1.0, stale / 3))


async def recover_stalled(app: Flask, job_app, stale: float) -> list[tuple[int, str]]:
    """Jobs of workers silent for `stale` seconds (procrastinate's heartbeats): each run goes
    back to the queue once, then fails (`runs.worker_lost`). One worker at a time does it (a
    session advisory lock); returns what was done, as (run id, "retried" or "failed")."""
    from procrastinate.jobs import Status

    manager = job_app.job_manager
    done: list[tuple[int, str]] = []
    async with job_app.connector.pool.connection() as lock_connection:
        cursor = await lock_connection.execute("SELECT pg_try_advisory_lock(%s)", (RECOVERY_LOCK,))
        if not (await cursor.fetchone())[0]:
            return done
        try:
            stalled = await manager.get_stalled_jobs(task_name=TASK, seconds_since_heartbeat=stale)
            for job in stalled:
                run_id = int(job.task_kwargs["run_id"])
                again = await asyncio.to_thread(_worker_lost, app, run_id)
                if again:
                    await manager.retry_job(job)
                else:
                    await manager.finish_job(job, Status.FAILED, delete_job=False)
                done.append((run_id, "retried" if again else "failed"))
        finally:
            await lock_connection.execute("SELECT pg_advisory_unlock(%s)", (RECOVERY_LOCK,))
    return done


def _worker_lost(app: Flask, run_id: int) -> bool:
    """The run's side of a stalled job: True when it is to be started again."""
    with app.app_context():
        try:
            with db.transaction() as session:
                run = session.get(AnalysisRun, run_id, with_for_update=True)
                if run is None or run.status not in ("queued", "running"):
                    return False
                return runs.worker_lost(run)
        finally:
            db.session.remove()
