"""Background jobs of the app, one mechanism for all: procrastinate's queue in PostgreSQL, or a
small thread pool inside the app's process on SQLite (``RUN_QUEUE``; `auto` picks by the
database). Weighting runs (`stats.queue`) and e-mail sendings (`fieldwork.mailing`) use it; each
registers its task here, and `flask worker` works them all (`stats.queue.work`).

procrastinate is imported only here and only where a job is deferred or worked: the web process
on SQLite never loads it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app
from sqlalchemy import event
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


def _bound(app: Flask, function: Callable[..., None]) -> Callable[..., None]:
    def task(**kwargs) -> None:
        function(app, **kwargs)

    task.__name__ = function.__name__
    return task
