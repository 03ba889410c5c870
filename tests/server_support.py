"""Servers in processes of their own for the tests that need real concurrency or several hosts
(gunicorn, `flask worker`), and the quick quota form with a browser-less respondent for it."""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from app_support import ROOT
from html_client import csrf_token, path_of

QUOTA_FORM = """\
code: quick
group: citizen
access: open
title: {vi: Phiếu nhanh, en: Quick form}
intro: {vi: Giới thiệu, en: Introduction}
pages:
  - code: profile
    title: {vi: Thông tin, en: Profile}
    items:
      - {code: district, type: dropdown, list: districts, required: true, profile: true,
         label: {vi: Huyện, en: District}}
      - code: sex
        type: single
        required: true
        profile: true
        label: {vi: Giới tính, en: Sex}
        options:
          - {value: male, label: {vi: Nam, en: Male}}
          - {value: female, label: {vi: Nữ, en: Female}}
  - code: opinion
    title: {vi: Ý kiến, en: Opinion}
    items:
      - {code: overall, type: single, scale: satisfaction5, label: {vi: Hài lòng, en: Satisfied}}
"""

QUOTA_CSV = "district,sex,target\ncan_loc,female,5\ncan_loc,male,3\nduc_tho,female,0\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: Seconds a server started by the tests gets to answer: three gunicorn workers importing the app
#: at once took 30 s on a busy 2-core machine. TEST_SERVER_START_TIMEOUT overrides it.
SERVER_START_TIMEOUT = float(os.environ.get("TEST_SERVER_START_TIMEOUT") or 120)


def output_of(output) -> str:
    output.flush()
    output.seek(0)
    return output.read().decode(errors="replace")[-4000:] or "(none)"


def wait_until_ready(process: subprocess.Popen, url: str, output, name: str) -> None:
    """Return once `url` answers 200; fail, with the server's output, if the server exits first
    or does not answer within SERVER_START_TIMEOUT seconds."""
    started = time.monotonic()
    last_error: object = "no answer yet"
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"{name} exited with code {process.returncode} before answering {url}; "
                f"its output:\n{output_of(output)}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
                last_error = f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:  # it answers, but not yet (or never) with 200
            last_error = f"HTTP {exc.code}"
            exc.close()
        except OSError as exc:  # refused until it listens, timeouts
            last_error = exc
        waited = time.monotonic() - started
        if waited > SERVER_START_TIMEOUT:
            pytest.fail(
                f"{name} did not answer {url} within {SERVER_START_TIMEOUT:g} s "
                f"(TEST_SERVER_START_TIMEOUT); last: {last_error}; "
                f"its output:\n{output_of(output)}",
                pytrace=False,
            )
        time.sleep(0.25)


def stop_group(process: subprocess.Popen) -> None:
    """Stop the process and everything in its process group (gunicorn's workers): SIGTERM, then
    SIGKILL what is left after 30 s. The process is always waited for."""
    try:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        else:  # the master died by itself: workers it left behind go too
            os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    finally:
        process.wait()


@contextlib.contextmanager
def serving(args: list[str], env: dict[str, str], ready_url: str, name: str):
    """Run the server `args` in a process group of its own until the block ends, once
    `ready_url` answers 200. Its output goes to a temporary file, not a pipe: nothing to fill up
    while the tests run, shown when it fails to start, and closed with the process stopped
    however the block ends, a failed start included."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_ready(process, ready_url, output, name)
            yield process
        finally:
            stop_group(process)


def app_environment(database_url: str, questionnaire_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of an app process (gunicorn or a flask command) on the test database."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "QUESTIONNAIRE_DIR": str(questionnaire_dir),
        "SESSION_COOKIE_SECURE": "0",
        "PYTHONPATH": str(ROOT),
        # every respondent of these tests comes from 127.0.0.1, so the per-address start limit
        # (20 a minute by default) would refuse the 30 of a quota race; tests/respond/
        # test_start_limit.py checks the limit itself
        "START_RATE_LIMIT": "10000 per minute",
        **settings,
    }


@contextlib.contextmanager
def serving_app(database_url: str, questionnaire_dir: Path, workers: int, threads: int, **settings):
    """The app in gunicorn (`workers` processes x `threads` threads) until the block ends; yields
    its base URL."""
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "survey_app:create_app()",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        # a worker slow to import the app on a busy machine is not killed and started again
        "--timeout",
        str(int(SERVER_START_TIMEOUT)),
        "--log-level",
        "warning",
    ]
    base = f"http://127.0.0.1:{port}"
    env = app_environment(database_url, questionnaire_dir, **settings)
    with serving(args, env, f"{base}/healthz", "gunicorn"):
        yield base


class HttpRespondent:
    """A browser-less respondent over real HTTP with its own cookies."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.read().decode()

    def post(self, path: str, data: dict) -> str:
        body = urllib.parse.urlencode(data).encode()
        with self.opener.open(self.base + path, data=body, timeout=60) as response:
            return path_of(response.geturl())

    def answer_profile(self) -> None:
        self.post("/en/s/quick", {"csrf_token": csrf_token(self.get("/en/s/quick"))})
        token = csrf_token(self.get("/en/s/quick/p/0"))
        assert (
            self.post(
                "/en/s/quick/p/0",
                {"csrf_token": token, "district": "can_loc", "sex": "female", "action": "next"},
            )
            == "/en/s/quick/p/1"
        )
        self.last_token = csrf_token(self.get("/en/s/quick/p/1"))

    def submit(self) -> str:
        return self.post(
            "/en/s/quick/p/1", {"csrf_token": self.last_token, "overall": "5", "action": "next"}
        )


def submit_all_at_once(respondents: list[HttpRespondent]) -> list[str]:
    """Every respondent's last page sent at the same moment (a barrier), each from its own
    thread; the address each ended on. Any failure fails the caller's test."""
    barrier = threading.Barrier(len(respondents))
    outcomes: list[str] = []
    failures: list[BaseException] = []

    def finish_now(respondent: HttpRespondent) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes.append(respondent.submit())
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=finish_now, args=(r,)) for r in respondents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    return outcomes
