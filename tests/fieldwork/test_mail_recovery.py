"""A sending whose process died is resumed without anyone: by the app at its next request where
sendings run in its threads, by a `flask worker` on PostgreSQL. It goes on from where it stopped
(a real aiosmtpd server receives each remaining recipient once, nobody twice), a message caught
in flight is not sent again, a process that was only frozen stops when it wakes, and of two
resumes at once one happens."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import os
import signal
import subprocess
import tempfile
import threading
import time

import psycopg
import pytest
from app_support import ROOT, make_app, reset_database
from auth_support import AuthActions
from html_client import csrf_token
from mail_support import SMTPServer, queue_sending, start_worker, wait_for
from server_support import app_environment
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from survey_app import jobs
from survey_app.extensions import db
from survey_app.fieldwork import mailing
from survey_app.models import AuditEvent, Invitation, Invitee, MailDelivery, Mailing, utcnow

WAVE = f"wave-{dt.date.today().year}"
ADDRESSES = [f"p{i}@hatinh.example.vn" for i in range(6)]
LONG_AGO = dt.timedelta(minutes=10)


@pytest.fixture
def smtp_server():
    with SMTPServer() as server:
        yield server


def mail_app(database_url, server: SMTPServer, **settings):
    defaults = {"RUN_QUEUE": "in-process", "MAIL_STALE_SECONDS": 1}
    app = make_app(database_url, **{**defaults, **server.settings(), **settings})
    reset_database(app)
    return app


def written_by_a_dead_process(app, monkeypatch, per_minute: int = 600) -> int:
    """A sending whose process died before its job ran (the job is never executed)."""
    with monkeypatch.context() as patch:
        patch.setattr(jobs, "defer", lambda *args, **kwargs: None)
        return queue_sending(app, WAVE, ADDRESSES, per_minute=per_minute)


def age(app, mailing_id: int, **values) -> None:
    """Make the sending silent for LONG_AGO (and set `values`), as time would."""
    with app.app_context(), db.transaction() as tx:
        sending = tx.get(Mailing, mailing_id)
        sending.created_at -= LONG_AGO
        if sending.beat_at is not None:
            sending.beat_at -= LONG_AGO
        for key, value in values.items():
            setattr(sending, key, value)


def wait_until_done(app, mailing_id: int) -> None:
    def done() -> bool:
        with app.app_context():
            status = db.session.get(Mailing, mailing_id).status
            db.session.remove()
        return status == "done"

    wait_for(done, what=f"the end of sending {mailing_id}")


def deliveries(app, mailing_id: int) -> dict[str, MailDelivery]:
    with app.app_context():
        rows = db.session.execute(
            select(Invitee.email, MailDelivery)
            .join(Invitation, Invitation.invitee_id == Invitee.id)
            .join(MailDelivery, MailDelivery.invitation_id == Invitation.id)
            .where(MailDelivery.mailing_id == mailing_id)
        ).all()
        db.session.expunge_all()
        return dict(rows)


def resumes(app) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "mail_sending_resumed")
        ).all()
        db.session.expunge_all()
        return list(events)


def received(server: SMTPServer) -> collections.Counter:
    return collections.Counter(c.to[0] for c in server.handler.received)


def test_a_sending_left_by_a_dead_process_is_resumed_at_the_next_request(
    database_url, smtp_server, monkeypatch
):
    app = mail_app(database_url, smtp_server)
    mailing_id = written_by_a_dead_process(app, monkeypatch)
    # as the process left it: two sent, the third being handed to the server when it died
    with app.app_context(), db.transaction() as tx:
        rows = tx.scalars(
            select(MailDelivery)
            .where(MailDelivery.mailing_id == mailing_id)
            .order_by(MailDelivery.id)
        ).all()
        for row in rows[:2]:
            row.status, row.sent_at = "sent", utcnow() - LONG_AGO
        rows[2].sent_at = utcnow() - LONG_AGO
        sending = tx.get(Mailing, mailing_id)
        sending.status, sending.beat_at = "sending", utcnow()
    age(app, mailing_id)
    time.sleep(0.3)
    assert smtp_server.handler.received == []  # nothing runs it until a request comes
    # a respondent's request, say: its address is not the system's to carry in the log
    visitor = app.test_client().get("/healthz", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert visitor.status_code == 200
    wait_until_done(app, mailing_id)
    assert received(smtp_server) == {address: 1 for address in ADDRESSES[3:]}
    status = deliveries(app, mailing_id)
    assert [status[a].status for a in ADDRESSES] == ["sent"] * 2 + ["failed"] + ["sent"] * 3
    assert status[ADDRESSES[2]].reason == mailing.INTERRUPTED
    (event,) = resumes(app)
    assert event.actor == "system"
    assert event.ip is None
    assert event.details == {
        "wave": WAVE,
        "questionnaire": "leader",
        "mailing": mailing_id,
        "remaining": 3,
        "resumes": 1,
    }
    client = app.test_client()
    AuthActions(client).login("admin")
    listing = client.get(f"/en/admin/invitations/{WAVE}/leader").get_data(as_text=True)
    assert "it may have arrived, and was not sent again" in listing
    log = client.get("/en/admin/audit").get_data(as_text=True)
    assert "Stopped e-mail sending resumed" in log and "system" in log


def test_a_frozen_process_that_wakes_up_stops_and_nobody_gets_two(database_url, smtp_server):
    app = mail_app(database_url, smtp_server)
    mailing_id = queue_sending(app, WAVE, ADDRESSES, per_minute=120)
    wait_for(lambda: len(smtp_server.handler.received) >= 2, what="two messages")
    # its process is silent as if frozen for a while, and is still there: it must not go on
    # beside the process that resumes the sending
    with app.app_context(), db.transaction() as tx:
        tx.execute(
            update(Mailing).where(Mailing.id == mailing_id).values(beat_at=utcnow() - LONG_AGO)
        )
    assert app.test_client().get("/healthz").status_code == 200
    wait_until_done(app, mailing_id)
    time.sleep(0.6)  # a message the first process had in hand would be there now
    assert received(smtp_server) == {address: 1 for address in ADDRESSES}
    assert [e.actor for e in resumes(app)] == ["system"]


@pytest.mark.parametrize("second", ["system", "admin"])
def test_two_resumes_at_once_resume_it_once(database_url, smtp_server, monkeypatch, second):
    app = mail_app(database_url, smtp_server)
    mailing_id = written_by_a_dead_process(app, monkeypatch)
    age(app, mailing_id)
    start = threading.Barrier(2)
    outcomes = []

    def automatic() -> None:
        with app.app_context():
            start.wait()
            outcomes.extend(mailing.recover_stalled(app))
            db.session.remove()

    def by_hand() -> None:
        with app.app_context():
            start.wait()
            try:
                with db.transaction() as tx:
                    mailing.resume(tx, mailing_id, actor="admin@example.vn")
                outcomes.append(mailing_id)
            except ValueError:
                pass
            finally:
                db.session.remove()

    threads = [threading.Thread(target=automatic)]
    threads.append(threading.Thread(target=automatic if second == "system" else by_hand))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes == [mailing_id]
    assert len(resumes(app)) == 1
    wait_until_done(app, mailing_id)
    assert received(smtp_server) == {address: 1 for address in ADDRESSES}


def test_a_sending_waiting_for_a_free_thread_is_left_to_it(database_url, smtp_server):
    app = mail_app(database_url, smtp_server)
    release = threading.Event()
    busy = [jobs._executor().submit(release.wait, 60) for _thread in range(2)]
    try:
        mailing_id = queue_sending(app, WAVE, ADDRESSES)
        age(app, mailing_id)
        with app.app_context():
            assert mailing.recover_stalled(app) == []
            db.session.remove()
    finally:
        release.set()
    for future in busy:
        future.result(10)
    wait_until_done(app, mailing_id)
    assert received(smtp_server) == {address: 1 for address in ADDRESSES}
    assert resumes(app) == []


def test_a_sending_that_fails_the_same_way_each_time_is_left_to_an_admin(
    database_url, smtp_server, monkeypatch, caplog
):
    """A message that cannot be built (a subject with a lone brace, as an older version could
    keep) kills the job before any message, each time: the workers resume it AUTO_RESUMES
    times, then leave it; once mended, the admin's resume sends it all."""
    app = mail_app(database_url, smtp_server)
    mailing_id = written_by_a_dead_process(app, monkeypatch)
    age(app, mailing_id, subject={"en": "Survey {survey"})

    def job_ended() -> bool:
        with app.app_context():
            running = jobs.pending(db.session, mailing.TASK)
            db.session.remove()
        return running == []

    for attempt in range(1, mailing.AUTO_RESUMES + 1):
        with app.app_context():
            assert mailing.recover_stalled(app) == [mailing_id], attempt
            db.session.remove()
        wait_for(job_ended, what=f"the end of resume {attempt}")
        age(app, mailing_id)
    with app.app_context():
        assert mailing.recover_stalled(app) == []  # left to an admin from now on
        sending = db.session.get(Mailing, mailing_id)
        assert (sending.status, sending.idle_resumes) == ("sending", mailing.AUTO_RESUMES)
        assert mailing.left_to_admin(sending)
        db.session.remove()
    assert smtp_server.handler.received == []
    assert [e.details["resumes"] for e in resumes(app)] == [1, 2, 3]
    assert f"mailing {mailing_id} stopped" in caplog.text
    assert "left to an admin" in caplog.text

    client = app.test_client()
    AuthActions(client).login("admin")
    listing = client.get(f"/en/admin/invitations/{WAVE}/leader").get_data(as_text=True)
    assert "after being resumed 3 times without an e-mail sent" in listing
    assert "Resume sending" in listing
    vietnamese = client.get(f"/vi/admin/invitations/{WAVE}/leader").get_data(as_text=True)
    assert "after being resumed 3 times" not in vietnamese and "3 lần" in vietnamese

    age(app, mailing_id, subject={"en": "Survey {survey}"})  # mended
    resumed = client.post(
        f"/en/admin/invitations/mailings/{mailing_id}/resume",
        data={"csrf_token": csrf_token(listing)},
    )
    assert resumed.status_code == 302
    wait_until_done(app, mailing_id)
    assert received(smtp_server) == {address: 1 for address in ADDRESSES}
    with app.app_context():
        assert db.session.get(Mailing, mailing_id).idle_resumes == 0  # it went on
    assert [e.actor for e in resumes(app)] == ["system"] * 3 + ["admin@example.vn"]


# --- PostgreSQL: the job queue and `flask worker` ------------------------------------------------


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _jobs_of(database_url: str, mailing_id: int) -> list[tuple[int, str]]:
    with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
        return conn.execute(
            "SELECT id, status FROM procrastinate_jobs WHERE task_name = %s "
            "AND (args->>'mailing_id')::int = %s ORDER BY id",
            (mailing.TASK, mailing_id),
        ).fetchall()


def _empty_queue(database_url: str) -> None:
    with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
        conn.execute("DELETE FROM procrastinate_jobs")


@pytest.mark.postgresql_only
def test_the_queue_resumes_a_lost_sending_once_and_leaves_one_whose_job_is_pending(
    database_url, smtp_server
):
    app = mail_app(database_url, smtp_server, RUN_QUEUE="procrastinate")
    _empty_queue(database_url)
    mailing_id = queue_sending(app, WAVE, ADDRESSES)
    age(app, mailing_id)
    ((first_job, status),) = _jobs_of(database_url, mailing_id)
    assert status == "todo"

    def job_is(status: str) -> None:
        with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
            conn.execute(
                "UPDATE procrastinate_jobs SET status = %s WHERE id = %s", (status, first_job)
            )

    with app.app_context():
        # no worker has taken its job yet: it waits, it is not lost
        assert mailing.recover_stalled(app) == []
        # a worker has just taken it and not yet begun the sending
        job_is("doing")
        assert mailing.recover_stalled(app) == []
        db.session.remove()
    job_is("failed")  # as the recovery closes the job of a worker that died
    start = threading.Barrier(2)
    outcomes = []

    def automatic() -> None:
        with app.app_context():
            start.wait()
            outcomes.extend(mailing.recover_stalled(app))
            db.session.remove()

    threads = [threading.Thread(target=automatic) for _twice in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes == [mailing_id]
    jobs_now = _jobs_of(database_url, mailing_id)
    assert [s for _id, s in jobs_now] == ["failed", "todo"]
    with app.app_context():
        assert db.session.get(Mailing, mailing_id).job_id == jobs_now[1][0]
        db.session.remove()
    assert [e.actor for e in resumes(app)] == ["system"]


def _kill(worker: subprocess.Popen, how: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, how)
    worker.wait(timeout=30)


@pytest.mark.postgresql_only
def test_a_worker_killed_mid_sending_is_replaced_by_the_next_one(database_url, smtp_server):
    settings = {"MAIL_STALE_SECONDS": 2, "RUN_STALE_SECONDS": 2}
    app = mail_app(database_url, smtp_server, RUN_QUEUE="procrastinate", **settings)
    _empty_queue(database_url)
    mailing_id = queue_sending(app, WAVE, ADDRESSES, per_minute=60)
    env = app_environment(
        database_url,
        ROOT / "questionnaires",
        PAR_LANG="en",
        **{k: str(v) for k, v in {**smtp_server.settings(), **settings}.items()},
    )
    with tempfile.TemporaryFile() as output:
        first = start_worker(env, output)
        try:
            wait_for(lambda: len(smtp_server.handler.received) >= 2, 90, "two messages")
        finally:
            _kill(first, signal.SIGKILL)  # no goodbye: as the host going down
        before = received(smtp_server)
        assert 2 <= sum(before.values()) < len(ADDRESSES)
        second = start_worker(env, output)
        try:
            wait_until_done(app, mailing_id)
            # the dead worker's job is closed, not left `doing` for ever
            wait_for(
                lambda: (
                    [s for _id, s in _jobs_of(database_url, mailing_id)] == ["failed", "succeeded"]
                ),
                30,
                "the jobs' end",
            )
        except AssertionError:
            output.seek(0)
            print(output.read().decode(errors="replace")[-4000:])
            raise
        finally:
            _kill(second, signal.SIGTERM)
    time.sleep(0.3)
    got = received(smtp_server)
    assert max(got.values()) == 1, got  # nobody twice
    status = deliveries(app, mailing_id)
    for address in ADDRESSES:
        if status[address].status == "sent":
            assert got[address] == 1, address
        else:  # at most the one the first worker was handing over when it was killed
            assert (status[address].status, status[address].reason) == (
                "failed",
                mailing.INTERRUPTED,
            )
    assert sum(s.status == "sent" for s in status.values()) >= len(ADDRESSES) - 1
    assert [e.actor for e in resumes(app)] == ["system"]
