"""Two app hosts and the job queue's workers on one PostgreSQL, as docs/deploy.md sets them up.

Two gunicorn processes (two "hosts": no memory or disk of their own is shared, only the database)
and `flask worker` processes. Respondents move between the hosts while 30 finish at once into 5
places; a run started on one host is computed by a worker, then shown and downloaded on the
other; a worker killed in the middle of a run leaves it to another worker, which computes it
again, and a run whose workers die twice ends failed with a message that says so.

A worker is made to be "in the middle of a run" without any hook in the app: the test holds a
lock on the answers table, so the run waits in its first read of the responses until the test
lets go; the worker is killed (SIGKILL: nothing of it runs after) while it waits.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pandas as pd
import psycopg
import pytest
from app_support import PASSWORD, ROOT, make_app, reset_database
from html_client import csrf_token
from server_support import (
    QUOTA_CSV,
    QUOTA_FORM,
    HttpRespondent,
    app_environment,
    output_of,
    serving_app,
    submit_all_at_once,
)
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from survey_app.extensions import db
from survey_app.fieldwork.waves import wave_for
from survey_app.models import AnalysisRun, QuotaCell, Response

#: Seconds without a heartbeat after which a worker counts as dead (short, for the test).
STALE_SECONDS = 4
#: How long the test waits for a worker to recover and finish a run.
RUN_TIMEOUT = float(os.environ.get("TEST_SERVER_START_TIMEOUT") or 120) + 60


#: Several hosts share one PostgreSQL database (TEST_DATABASE_URL); not collected on SQLite.
pytestmark = pytest.mark.postgresql_only


def _needs_postgresql(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.fail("several hosts share one PostgreSQL database: set TEST_DATABASE_URL")
    try:
        import procrastinate  # noqa: F401
    except ImportError:  # pragma: no cover - it is a dependency of the app
        pytest.fail("the job queue is missing: pip install procrastinate (make test installs it)")
    if shutil.which("pg_isready") is None and os.environ.get("CI"):
        pytest.fail("postgresql-client is missing (apt-get install postgresql-client)")


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def deployment(database_url, tmp_path):
    """The database with the demo wave and the quick quota form, and two gunicorn hosts."""
    _needs_postgresql(database_url)
    from survey_app.accounts.auth import create_user
    from survey_app.commands.demo_data import seed_demo

    questionnaires = tmp_path / "questionnaires"
    shutil.copytree(ROOT / "questionnaires", questionnaires)
    (questionnaires / "quick.yaml").write_text(QUOTA_FORM, encoding="utf-8")
    app = make_app(database_url, QUESTIONNAIRE_DIR=str(questionnaires))
    reset_database(app)
    with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
        # jobs and workers of earlier tests, which name runs that are gone
        conn.execute("DELETE FROM procrastinate_jobs")
        conn.execute("DELETE FROM procrastinate_workers")
    with app.app_context(), db.transaction() as tx:
        # the default wave carries every questionnaire found, the quick form among them
        seed_demo(tx, 240)
        create_user(tx, "statistician@example.vn", PASSWORD, "statistician")
    settings = {"RUN_STALE_SECONDS": str(STALE_SECONDS)}
    with (
        serving_app(database_url, questionnaires, workers=2, threads=2, **settings) as first,
        serving_app(database_url, questionnaires, workers=2, threads=2, **settings) as second,
    ):
        yield app, questionnaires, (first, second)


# --- workers ------------------------------------------------------------------------------------


class Worker:
    """`flask --app survey_app worker` in a process group of its own."""

    def __init__(self, database_url: str, questionnaires) -> None:
        self.output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        env = app_environment(
            database_url, questionnaires, RUN_STALE_SECONDS=str(STALE_SECONDS), PAR_LANG="en"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "survey_app", "worker", "--concurrency", "1"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return output_of(self.output)

    def kill(self) -> None:
        """SIGKILL: the worker and its threads stop between two instructions."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.output.close()


@pytest.fixture
def workers(deployment, database_url):
    _app, questionnaires, _hosts = deployment
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(database_url, questionnaires)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


# --- a statistician over HTTP -------------------------------------------------------------------


class Browser:
    """Cookies kept across both hosts (one site behind a load balancer); redirects followed."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, url: str) -> tuple[int, dict[str, str], bytes]:
        try:
            with self.opener.open(url, timeout=60) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, dict(error.headers), error.read()

    def post(self, url: str, fields: dict) -> str:
        boundary, body = encode_multipart(fields)
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
        with self.opener.open(request, timeout=60) as answer:
            return answer.geturl()

    def token(self, url: str) -> str:
        return csrf_token(self.get(url)[2].decode())

    def login(self, base: str, email: str) -> None:
        fields = {"csrf_token": self.token(f"{base}/en/admin/login")}
        fields |= {"email": email, "password": PASSWORD}
        assert "/admin/login" not in self.post(f"{base}/en/admin/login", fields)


def _targets() -> str:
    """Sex, age and district targets of the demo wave (as tests/stats/test_stats.py has them)."""
    districts = [
        "ha_tinh_city", "hong_linh", "ky_anh_town", "cam_xuyen", "can_loc", "duc_tho",
        "huong_khe", "huong_son", "ky_anh_district", "loc_ha", "nghi_xuan", "thach_ha", "vu_quang",
    ]  # fmt: skip
    lines = ["variable,level,target", "sex,male,650000", "sex,female,650000"]
    ages = {"age18_30": 400000, "age31_45": 400000, "age46_60": 300000, "age61_plus": 200000}
    lines += [f"age_group,{level},{n}" for level, n in ages.items()]
    lines += [f"district,{d},100000" for d in districts]
    return "\n".join(lines) + "\n"


def start_run(browser: Browser, base: str) -> int:
    wave_page = f"{base}/en/stats/waves/demo"
    upload = {"csrf_token": browser.token(wave_page), "kind": "targets"}
    upload["file"] = FileStorage(io.BytesIO(_targets().encode()), filename="targets.csv")
    browser.post(f"{wave_page}/inputs", upload)
    fields = {"csrf_token": browser.token(wave_page), "scheme": "par2022.yaml", "method": "rake"}
    location = browser.post(f"{wave_page}/runs", fields)
    return int(location.rstrip("/").rsplit("/", 1)[1])


# --- waiting on the database --------------------------------------------------------------------


def run_state(app, run_id: int) -> tuple[str, int]:
    with app.app_context():
        run = db.session.get(AnalysisRun, run_id)
        db.session.refresh(run)
        state = (run.status, run.attempts)
        db.session.remove()
    return state


def wait_for(what: str, check, timeout: float, workers_started=()) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- worker {n}:\n{w.log()}" for n, w in enumerate(workers_started))
            pytest.fail(f"{what} did not happen within {timeout:g} s\n{logs}", pytrace=False)
        time.sleep(0.2)


@contextlib.contextmanager
def answers_locked(database_url: str):
    """The answers table locked until the block ends: a run waits in its first read of them."""
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute("LOCK TABLE answer IN ACCESS EXCLUSIVE MODE")
        yield conn
        conn.rollback()


def waiting_on_the_lock(database_url: str) -> bool:
    with psycopg.connect(_libpq(database_url), autocommit=True) as conn:
        count = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        ).fetchone()[0]
    return count > 0


# --- the tests ----------------------------------------------------------------------------------


def test_thirty_finish_at_once_into_five_places_across_two_hosts(deployment, tmp_path):
    app, _questionnaires, hosts = deployment
    path = tmp_path / "quota.csv"
    path.write_text(QUOTA_CSV, encoding="utf-8")
    with app.app_context():  # the wave the open link answers into
        wave = wave_for(db.session, "quick", None).code
    result = app.test_cli_runner().invoke(
        args=["quotas", "import", str(path), "--wave", wave, "--questionnaire", "quick"],
        env={"PAR_LANG": "en"},
    )
    assert result.exit_code == 0, result.output
    # each respondent answers the first page on one host and finishes on the other
    respondents = [HttpRespondent(hosts[n % 2]) for n in range(30)]
    for respondent in respondents:
        respondent.answer_profile()
    for number, respondent in enumerate(respondents):
        respondent.base = hosts[(number + 1) % 2]
    outcomes = submit_all_at_once(respondents)
    assert outcomes == ["/en/s/quick/done"] * 30
    with app.app_context():
        statuses = dict(
            db.session.execute(
                select(Response.status, func.count(Response.id))
                .where(Response.questionnaire_code == "quick")
                .group_by(Response.status)
            ).all()
        )
        cell = db.session.scalars(
            select(QuotaCell).where(QuotaCell.cell_key == "can_loc|female")
        ).one()
    assert statuses == {"complete": 5, "screened_out": 25}
    assert (cell.complete, cell.over_target) == (5, 0)


def test_a_run_started_on_one_host_is_shown_and_served_by_the_other(deployment, workers):
    app, _questionnaires, (first, second) = deployment
    browser = Browser()
    browser.login(first, "statistician@example.vn")
    worker = workers()
    run_id = start_run(browser, first)
    wait_for(
        "the run's end",
        lambda: run_state(app, run_id)[0] in ("done", "failed"),
        RUN_TIMEOUT,
        [worker],
    )
    assert run_state(app, run_id) == ("done", 1), worker.log()
    status, _headers, page = browser.get(f"{second}/en/stats/runs/{run_id}")
    assert status == 200 and "Kish design effect" in page.decode()
    downloads = {}
    for base in (second, first):
        status, headers, body = browser.get(f"{base}/en/stats/runs/{run_id}/files/scores.csv")
        assert status == 200 and "attachment" in headers["Content-Disposition"]
        downloads[base] = body
    assert downloads[first] == downloads[second]
    scores = pd.read_csv(io.BytesIO(downloads[second]))
    assert {"kind", "code", "estimate", "se"} <= set(scores.columns) and len(scores) > 10
    status, _headers, report = browser.get(f"{second}/en/stats/waves/demo/report?run={run_id}")
    assert status == 200 and report.count(b"<svg") >= 2


def test_a_run_whose_worker_is_killed_is_computed_again_then_failed(
    deployment, workers, database_url
):
    app, _questionnaires, (first, second) = deployment
    browser = Browser()
    browser.login(first, "statistician@example.vn")

    def killed_mid_run(worker, run_id: int, attempt: int) -> None:
        wait_for(
            f"attempt {attempt} of run {run_id} waiting in the middle",
            lambda: (
                run_state(app, run_id) == ("running", attempt) and waiting_on_the_lock(database_url)
            ),
            RUN_TIMEOUT,
            [worker],
        )
        worker.kill()

    # Killed once: another worker finds the job stalled and computes the run again.
    with answers_locked(database_url):
        first_worker = workers()
        run_id = start_run(browser, first)
        killed_mid_run(first_worker, run_id, attempt=1)
        second_worker = workers()
        wait_for(
            "the run's return to the queue",
            lambda: run_state(app, run_id) == ("queued", 1) or run_state(app, run_id)[1] == 2,
            RUN_TIMEOUT,
            [second_worker],
        )
        status, _headers, page = browser.get(f"{second}/en/stats/runs/{run_id}")
        assert status == 200
    wait_for(
        "the retried run's end",
        lambda: run_state(app, run_id)[0] in ("done", "failed"),
        RUN_TIMEOUT,
        [second_worker],
    )
    assert run_state(app, run_id) == ("done", 2), second_worker.log()
    status, _headers, page = browser.get(f"{second}/en/stats/runs/{run_id}")
    assert status == 200 and "Kish design effect" in page.decode()

    # Killed on both attempts: the run fails, saying that its worker stopped, not its input.
    with answers_locked(database_url):
        run_id = start_run(browser, second)
        killed_mid_run(second_worker, run_id, attempt=1)
        third_worker = workers()
        killed_mid_run(third_worker, run_id, attempt=2)
        fourth_worker = workers()
        wait_for(
            "the run's failure",
            lambda: run_state(app, run_id)[0] == "failed",
            RUN_TIMEOUT,
            [third_worker, fourth_worker],
        )
    assert run_state(app, run_id) == ("failed", 2)
    status, _headers, page = browser.get(f"{first}/en/stats/runs/{run_id}")
    text = page.decode()
    assert status == 200 and "The run failed" in text
    assert "The worker computing this run stopped before it ended, 2 times" in text
    assert "Your files and choices were not the cause" in text
    # the queue agrees: the job is failed, not left "doing" for ever
    with psycopg.connect(_libpq(database_url)) as conn:
        job_status = conn.execute(
            "SELECT status FROM procrastinate_jobs WHERE args->>'run_id' = %s", (str(run_id),)
        ).fetchone()[0]
    assert job_status == "failed"
