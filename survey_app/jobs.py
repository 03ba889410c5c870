"""Background jobs of the app, one mechanism for all: procrastinate's queue in PostgreSQL, or a
small thread pool inside the app's process on SQLite (``RUN_QUEUE``; `auto` picks by the
database). Weighting runs (`stats.queue`) and e-mail sendings (`fieldwork.mailing`) use it; each
registers its task here, and `flask worker` works them all (`stats.queue.work`).

A job whose process died is found by its own module, which registers a recovery here: every
worker runs the recoveries when it starts and then every few seconds (`stats.queue.work`); in
the app's process, a request runs them when they have not run for a while (`init_app`), the
first request after a restart included.

procrastinate is imported only here and only where a job is deferred or worked: the web process
on SQLite never loads it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session


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


@dataclass(frozen=True)
class Recovery:
    #: function(app), called in an app context: finds the jobs of its kind whose process died
    #: and has them done again.
    function: Callable[[Flask], object]
    #: function(app): how many seconds may pass between two rounds.
    every: Callable[[Flask], float]


RECOVERIES: dict[str, Recovery] = {}


def register_recovery(
    name: str, function: Callable[[Flask], object], every: Callable[[Flask], float]
) -> None:
    RECOVERIES[name] = Recovery(function, every)


def recovery_every(app: Flask, *others: float) -> float:
    """Seconds between two rounds of recoveries: a third of the shortest period asked."""
    periods = [recovery.every(app) for recovery in RECOVERIES.values()] + list(others)
    return max(1.0, min(periods, default=60.0) / 3)


def recover_all(app: Flask) -> None:
    """Every recovery once, in the current app context; one failing does not stop the others."""
    for name, recovery in RECOVERIES.items():
        try:
            recovery.function(app)
        except Exception:  # noqa: BLE001 - the next round tries again
            app.logger.exception("recovering %s failed", name)


def init_app(app: Flask) -> None:
    """Where jobs run in the app's process, run the recoveries from a request now and then: no
    other process is there to notice that a previous one died with a job under way."""
    state = {"last": None}
    lock = threading.Lock()

    @app.before_request
    def _recover_now_and_then() -> None:
        if not RECOVERIES or mode(app) != "in-process":
            return
        now = time.monotonic()
        with lock:
            last = state["last"]
            if last is not None and now - last < recovery_every(app):
                return
            state["last"] = now
        recover_all(app)


def pending(session: Session, name: str) -> list[dict]:
    """The arguments of the jobs of task `name` deferred and not finished: waiting in the queue
    or taken by a worker (whose death the worker's recovery closes the job for), or in this
    process's threads. Such a job may wait long behind others, and is not lost."""
    if mode() == "procrastinate":
        rows = session.execute(
            text(
                "SELECT args FROM procrastinate_jobs "
                "WHERE task_name = :name AND status IN ('todo', 'doing')"
            ),
            {"name": name},
        )
        return [row[0] for row in rows]
    app = current_app._get_current_object()
    with _pending_lock:
        return [dict(kwargs) for owner, task, kwargs in _pending if (owner, task) == (app, name)]


def defer(session: Session, name: str, **kwargs) -> int | None:
    """Have a registered task executed, in the caller's transaction, as `enqueue` does for
    runs: deferred on the same connection (procrastinate; returns the job's id), or handed to
    the app's threads once the transaction commits (None)."""
    queue_name, function = TASKS[name]
    if mode() == "procrastinate":
        connection = session.connection().connection.driver_connection
        job = _deferring_app(current_app).configure_task(
            name, queue=queue_name, connection=connection
        )
        return job.defer(**kwargs)
    app = current_app._get_current_object()
    event.listen(
        session,
        "after_commit",
        lambda _session: _submit(name, function, app, kwargs),
        once=True,
    )
    return None


#: The in-process jobs submitted and not finished, as (app, task name, sorted kwargs).
_pending: list[tuple[Flask, str, tuple]] = []
_pending_lock = threading.Lock()


def _submit(name: str, function: Callable[..., None], app: Flask, kwargs: dict) -> None:
    key = (app, name, tuple(sorted(kwargs.items())))
    with _pending_lock:
        _pending.append(key)

    def run() -> None:
        try:
            function(app, **kwargs)
        finally:
            with _pending_lock:
                _pending.remove(key)

    _executor().submit(run)


_executor_instance: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _executor_instance
    with _executor_lock:
        if _executor_instance is None:
            _executor_instance = ThreadPoolExecutor(max_workers=2, thread_name_prefix="run")
        return _executor_instance


def conninfo(app: Flask) -> str:
    """libpq's form of DATABASE_URL (procrastinate speaks psycopg directly, not SQLAlchemy)."""
    url = make_url(app.config["DATABASE_URL"]).set(drivername="postgresql")
    url = url.difference_update_query(["prepare_threshold"])  # the app's option, not libpq's
    return url.render_as_string(hide_password=False)


def _job_app(app: Flask):
    """The procrastinate app of a worker, made once and opened by it (`stats.queue.work`)."""
    job_app = app.extensions.get("par_jobs")
    if job_app is None:
        import procrastinate

        # a worker's pool: jobs being fetched and finished, heartbeats, the recovery (which
        # holds one connection for its lock while it uses another)
        connector = procrastinate.PsycopgConnector(conninfo=conninfo(app), min_size=1, max_size=8)
        job_app = procrastinate.App(connector=connector)
        app.extensions["par_jobs"] = job_app
    return job_app


def _deferring_app(app: Flask):
    """The procrastinate app that defers jobs on the caller's own connection: never opened, so
    that it writes on that connection synchronously, also in a worker (whose job app, opened
    for its event loop, would take the connection for an asynchronous one)."""
    job_app = app.extensions.get("par_jobs_defer")
    if job_app is None:
        import procrastinate

        connector = procrastinate.PsycopgConnector(conninfo=conninfo(app), min_size=1, max_size=1)
        job_app = procrastinate.App(connector=connector)
        app.extensions["par_jobs_defer"] = job_app
    return job_app


def _bound(app: Flask, function: Callable[..., None]) -> Callable[..., None]:
    def task(**kwargs) -> None:
        function(app, **kwargs)

    task.__name__ = function.__name__
    return task
