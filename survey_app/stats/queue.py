"""Where runs execute: procrastinate's job queue on PostgreSQL, a thread of the app on SQLite.

Why procrastinate: the queue lives in the PostgreSQL the app already runs (no Redis or RabbitMQ
to deploy, back up and watch), a run's job is deferred in the same transaction as its row (no
run without a job, no job without a run), and its workers beat: a job whose worker stopped
beating is found by `JobManager.get_stalled_jobs` and retried. Workers are started with
``flask --app survey_app worker`` on any host.

SQLite (the `make run` default) has no such queue: runs go to a small thread pool inside the app
process, as before, and a run that process left running is failed when next looked at
(`recover_in_process`). ``RUN_QUEUE`` chooses; `auto` picks by the database.

The queue's machinery is shared with the e-mail sendings (`survey_app/jobs.py`); this module
adds what is particular to runs (their recovery) and the worker's loop, which works every
registered task. procrastinate is imported only where a job is deferred or worked: the web
process on SQLite never loads it.
"""

from __future__ import annotations

import asyncio
import logging

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from ..jobs import (
    TASKS,
    _bound,
    _deferring_app,
    _executor,
    _job_app,
    conninfo,
    defer,
    mode,
    recover_all,
    recovery_every,
    register_task,
)
from ..models import AnalysisRun
from . import runs

__all__ = ["conninfo", "defer", "enqueue", "mode", "recover_in_process", "register_task", "work"]

log = logging.getLogger(__name__)

QUEUE = "analysis"
TASK = "par_survey.run_analysis"
#: Any number, the same on every worker: the advisory lock that lets one worker at a time
#: recover stalled runs.
RECOVERY_LOCK = 741_305_113


def enqueue(session: Session, run: AnalysisRun) -> None:
    """Have the run executed, in the caller's transaction: the job is deferred on the same
    connection (procrastinate), or the thread is started once the transaction commits."""
    if mode() == "procrastinate":
        connection = session.connection().connection.driver_connection
        job = _deferring_app(current_app).configure_task(TASK, queue=QUEUE, connection=connection)
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


async def _recover_forever(app: Flask, job_app, stale: float) -> None:
    """From the worker's start, every few seconds: the stalled runs, then the other kinds of
    jobs' own recoveries (`jobs.RECOVERIES`: e-mail sendings silent too long). Beside the
    worker's jobs rather than a periodic task of the queue, which would wait for a free slot
    while long sendings hold them all."""
    while True:
        try:
            await recover_stalled(app, job_app, stale)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the next round tries again
            log.exception("recovering stalled runs failed")
        await asyncio.to_thread(_recover_others, app)
        await asyncio.sleep(recovery_every(app, stale))


def _recover_others(app: Flask) -> None:
    with app.app_context():
        try:
            recover_all(app)
        finally:
            db.session.remove()


async def recover_stalled(app: Flask, job_app, stale: float) -> list[tuple[int, str]]:
    """Jobs of workers silent for `stale` seconds (procrastinate's heartbeats): each run goes
    back to the queue once, then fails (`runs.worker_lost`); a job of another task is closed as
    failed (its own recovery does it anew). One worker at a time does it (a session advisory
    lock); returns what was done to runs, as (run id, "retried" or "failed")."""
    from procrastinate.jobs import Status

    manager = job_app.job_manager
    done: list[tuple[int, str]] = []
    async with job_app.connector.pool.connection() as lock_connection:
        cursor = await lock_connection.execute("SELECT pg_try_advisory_lock(%s)", (RECOVERY_LOCK,))
        if not (await cursor.fetchone())[0]:
            return done
        try:
            for name in TASKS:
                # the other tasks' jobs are done anew by their own recovery: the dead worker's
                # job is only closed, so that it does not stay `doing` for ever
                others = await manager.get_stalled_jobs(
                    task_name=name, seconds_since_heartbeat=stale
                )
                for job in others:
                    await manager.finish_job(job, Status.FAILED, delete_job=False)
                    log.warning("job %s (%s): its worker stopped; closed", job.id, name)
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
