"""On PostgreSQL a sending is a job of the procrastinate queue that weighting runs use: deferred
in the transaction that writes it, and sent by a `flask worker` process (no thread of the web
process), at the rate asked."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time

import psycopg
import pytest
from app_support import ROOT, make_app, reset_database
from mail_support import SMTPServer, queue_sending, start_worker
from server_support import app_environment
from sqlalchemy import select
from sqlalchemy.engine import make_url

from survey_app.extensions import db
from survey_app.models import MailDelivery, Mailing

pytestmark = pytest.mark.postgresql_only

WAVE = f"wave-{__import__('datetime').date.today().year}"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_a_worker_process_sends_a_queued_sending(database_url):
    with SMTPServer() as smtp_server:
        settings = {k: str(v) for k, v in smtp_server.settings().items()}
        app = make_app(database_url, RUN_QUEUE="procrastinate", **smtp_server.settings())
        reset_database(app)
        with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
            conn.execute("DELETE FROM procrastinate_jobs")
        addresses = [f"p{i}@hatinh.example.vn" for i in range(3)]
        mailing_id = queue_sending(app, WAVE, addresses, per_minute=120)
        with app.app_context():
            job_id = db.session.get(Mailing, mailing_id).job_id
            db.session.remove()
        assert job_id is not None
        with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
            job = conn.execute(
                "SELECT task_name, queue_name, args FROM procrastinate_jobs WHERE id = %s",
                (job_id,),
            ).fetchone()
        assert job[:2] == ("par_survey.send_mailing", "mail")
        assert job[2] == {"mailing_id": mailing_id}  # no token, no address in the queue
        time.sleep(0.5)
        assert smtp_server.handler.received == []  # nothing in this process sends it
        output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
        env = app_environment(database_url, ROOT / "questionnaires", PAR_LANG="en", **settings)
        worker = start_worker(env, output)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and len(smtp_server.handler.received) < 3:
                time.sleep(0.1)
            output.seek(0)
            assert len(smtp_server.handler.received) == 3, output.read().decode()[-3000:]
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
            output.close()
        times = sorted(c.at for c in smtp_server.handler.received)
        assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.45
        with app.app_context():
            statuses = db.session.scalars(
                select(MailDelivery.status).where(MailDelivery.mailing_id == mailing_id)
            ).all()
            assert statuses == ["sent"] * 3
            assert db.session.get(Mailing, mailing_id).status == "done"
