"""`flask --app survey_app worker`: execute weighting runs and e-mail sendings from the job queue
(PostgreSQL), on as many hosts as wanted; docs/deploy.md says how it is kept running."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext

from ..i18n import in_cli_locale
from .support import fail


@click.command("worker")
@with_appcontext
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Runs executed at once by this worker (each uses one core while it weights).",
)
@click.option("--name", default=None, help="The worker's name in the queue's tables and logs.")
def worker_command(concurrency: int, name: str | None) -> None:
    """Execute weighting runs from the job queue until stopped (SIGTERM finishes runs under way).

    Only with RUN_QUEUE=procrastinate, or auto on PostgreSQL: on SQLite the app's own process
    executes its runs and no worker is needed."""
    from ..fieldwork import mailing  # noqa: F401 - registers the sending task
    from ..stats import queue

    with in_cli_locale():
        if queue.mode(current_app) != "procrastinate":
            fail(
                _(
                    "error: runs execute inside the app's process here (SQLite, or "
                    "RUN_QUEUE=in-process); a worker needs PostgreSQL and RUN_QUEUE auto or "
                    "procrastinate."
                )
            )
        click.echo(
            ngettext(
                "Worker started: %(num)s run at a time; stop it with Ctrl+C or SIGTERM.",
                "Worker started: %(num)s runs at once; stop it with Ctrl+C or SIGTERM.",
                concurrency,
            )
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    queue.work(current_app._get_current_object(), concurrency=concurrency, worker_name=name)
