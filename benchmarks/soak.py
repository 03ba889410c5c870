"""Respondents walking the real questionnaire for a while, through a killed worker and a cut
database: what is stored, what is lost, how fast, and how long each fault hurts.

Starts gunicorn on a fresh PostgreSQL database prepared by `flask init-db` (questionnaires loaded,
a wave opened), then lets --clients simulated respondents (benchmarks/soak_support.py) walk the
citizen questionnaire's open link over HTTP for --seconds: each presses Start, fills every page
with valid random answers read from the page's form, and starts over for the next person at the
done page. A failed request (no answer, 5xx, 429) is sent again after a short pause, as a person
would. At --kill-at seconds the gunicorn worker serving the most connections gets SIGKILL; at
--cut-at every database connection is terminated. At the end the database is read directly:
every response of a finished walk (found by the resume code its pages showed) must hold exactly
the answers that walk sent.

    .venv/bin/python benchmarks/soak.py [--seconds 60] [--clients 48] [--workers 4] [--threads 4]

BENCH_DATABASE_URL names the database (dropped and created anew, kept afterwards); without it a
temporary database on 127.0.0.1:5432 (user postgres) is made and dropped at the end. Prints
figures and exits 0 whatever the faults caused; it exits 1 only when it cannot run.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from soak_support import Plan, Walk, run_clients  # noqa: E402

SERVER_URL = os.environ.get("BENCH_SERVER_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
HOST = "127.0.0.1"


# --- the database -------------------------------------------------------------------------------


def drop_database(url: str, create_again: bool = False) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        if create_again:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    server.dispose()


def response_key(resume_code: str) -> str:
    """The stored key of a response, from the code its pages show."""
    code = resume_code.replace("-", "")
    try:
        from survey_app.fieldwork.tokens import response_key_for_resume_code
    except ImportError:  # the app moved it: the rule as docs/security.md gives it
        return hashlib.sha256(("resume:" + code).encode()).hexdigest()
    return response_key_for_resume_code(code)


@dataclass
class Stored:
    status: str
    answers: dict[str, str]


def stored_responses(url: str, questionnaire: str) -> tuple[dict[str, Stored], str]:
    """Every response of the questionnaire by its key, and the server's version."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.key_hash, r.status, a.item_code, a.value FROM response r "
                "LEFT JOIN answer a ON a.response_id = r.id WHERE r.questionnaire_code = :q"
            ),
            {"q": questionnaire},
        ).all()
        version = conn.execute(text("SHOW server_version")).scalar()
    engine.dispose()
    found: dict[str, Stored] = {}
    for key, status, item, value in rows:
        response = found.setdefault(key, Stored(status, {}))
        if item is not None:
            response.answers[item] = value
    return found, str(version).split()[0]


# --- the server ---------------------------------------------------------------------------------


def app_environment(url: str, questionnaires: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(32),
        "SESSION_COOKIE_SECURE": "0",
        "QUESTIONNAIRE_DIR": str(questionnaires),
        # Every simulated respondent comes from 127.0.0.1: a limit per address meant for people
        # would stop the load generator, not measure the app.
        "START_RATE_LIMIT": "1000000 per minute",
        "PYTHONPATH": str(ROOT),
    }


def init_database(env: dict) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "survey_app", "init-db"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"flask init-db failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_gunicorn(args, port: int, env: dict, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "survey_app:create_app()",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.threads),
        "--backlog",
        "2048",
        "--timeout",
        "30",
        "--log-level",
        "warning",
        "--chdir",
        str(ROOT),
    ]
    with log.open("w") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def get_status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=10) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def wait_until_serving(port: int, path: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    status = 0
    while time.monotonic() < deadline and server.poll() is None:
        status = get_status(port, path)
        if status == 200:
            return
        time.sleep(0.2)
    raise SystemExit(
        f"{path} did not answer 200 (last: {status}); gunicorn log:\n{log.read_text()}"
    )


def warm_up(port: int, path: str, count: int) -> None:
    """Each worker parses the questionnaire and compiles its templates at its first requests;
    those would otherwise count as the first seconds' latency."""
    threads = [threading.Thread(target=get_status, args=(port, path)) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields count from the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            pids.append(int(entry.name))
    return sorted(pids)


def client_connections(pid: int, port: int) -> int:
    """How many respondents' connections a worker holds open: the requests it is serving."""
    sockets = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    sockets.add(target[8:-1])
        lines = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return 0
    count = 0
    for line in lines:
        fields = line.split()
        local_port, state, inode = int(fields[1].split(":")[1], 16), fields[3], fields[9]
        # 01 is ESTABLISHED; the listening socket, shared by every worker, is not.
        if local_port == port and state == "01" and inode in sockets:
            count += 1
    return count


def stop_gunicorn(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# --- faults -------------------------------------------------------------------------------------


@dataclass
class Fault:
    name: str
    at: float  # seconds after the start
    #: Does the harm, setting `moment` (time.monotonic()) and `detail`.
    act: Callable[[Fault], None]
    moment: float = 0.0
    detail: str = ""


def kill_worker(fault: Fault, server: subprocess.Popen, port: int, rng: random.Random) -> None:
    """SIGKILL to the worker serving the most requests now: an idle one would test nothing."""
    pids = worker_pids(server.pid)
    if not pids:
        fault.detail = "no worker found"
        return
    busy = {pid: client_connections(pid, port) for pid in pids}
    victim = max(pids, key=lambda pid: (busy[pid], rng.random()))
    fault.moment = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    # How long the master takes to fork a replacement (the app is imported after that).
    while time.monotonic() - fault.moment < 30:
        now = worker_pids(server.pid)
        if len(now) >= len(pids) and victim not in now:
            waited = time.monotonic() - fault.moment
            fault.detail = (
                f"SIGKILL to worker {victim} of {len(pids)}, serving {busy[victim]} "
                f"connections; replaced in {waited:.2f} s"
            )
            return
        time.sleep(0.02)
    fault.detail = f"SIGKILL to worker {victim} of {len(pids)}; not replaced within 30 s"


def cut_connections(fault: Fault, url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        fault.moment = time.monotonic()
        ended = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()) AS terminated"
            ),
            {"db": make_url(url).database},
        ).scalar()
    engine.dispose()
    fault.detail = f"{ended} connections terminated"


def inject(faults: list[Fault], plan: Plan) -> None:
    for fault in sorted(faults, key=lambda f: f.at):
        time.sleep(max(0.0, plan.start + fault.at - time.monotonic()))
        fault.act(fault)


# --- figures ------------------------------------------------------------------------------------


class Hop(NamedTuple):
    """One HTTP request of a client (a redirect followed is a request of its own)."""

    client: int
    started: float
    ended: float
    method: str
    status: int  # 0: no answer came
    error: str  # then, the exception's name

    @property
    def failed(self) -> bool:
        return self.status == 0 or self.status >= 500


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def compare(walks: list[Walk], stored: dict[str, Stored]) -> dict:
    """Every finished walk against its stored response: by the resume code its pages showed, or,
    for a walk that saw none, by its whole set of answers among the responses nobody claimed."""
    figures = Counter()
    differences: list[str] = []
    claimed = {response_key(w.resume_code) for w in walks if w.resume_code}
    unkeyed: list[Walk] = []
    for walk in walks:
        if walk.outcome != "complete":
            continue
        if not walk.resume_code:
            unkeyed.append(walk)
            continue
        response = stored.get(response_key(walk.resume_code))
        if response is None or response.status != "complete":
            figures["lost"] += 1
            state = "missing" if response is None else response.status
            differences.append(f"client {walk.client} {walk.resume_code}: response {state}")
            continue
        figures["stored complete"] += 1
        sent = walk.answers()
        for item in sorted(set(sent) | set(response.answers)):
            figures["answers compared"] += 1
            if sent.get(item) != response.answers.get(item):
                figures["answers differ"] += 1
                if len(differences) < 10:
                    differences.append(
                        f"client {walk.client} {walk.resume_code} {item}: sent "
                        f"{sent.get(item)!r}, stored {response.answers.get(item)!r}"
                    )
    if unkeyed:
        # Without a code, a walk counts as stored when some unclaimed complete response holds
        # exactly its answers (each response used once).
        pool = Counter(
            tuple(sorted(r.answers.items()))
            for key, r in stored.items()
            if key not in claimed and r.status == "complete"
        )
        for walk in unkeyed:
            wanted = tuple(sorted(walk.answers().items()))
            figures["without code"] += 1
            if pool[wanted] > 0:
                pool[wanted] -= 1
                figures["stored complete"] += 1
                figures["matched by answers"] += 1
                figures["answers compared"] += len(wanted)
            else:
                figures["lost"] += 1
    unclaimed = Counter(r.status for key, r in stored.items() if key not in claimed)
    unclaimed["complete"] -= figures["matched by answers"]
    unclaimed = +unclaimed  # without the statuses counted down to nothing
    return {"figures": figures, "differences": differences, "unclaimed": unclaimed}


def phases(faults: list[Fault], start: float) -> list[tuple[str, float, float]]:
    """(name, from, to) in time.monotonic(): before the first fault, then after each."""
    done = sorted((f for f in faults if f.moment), key=lambda f: f.moment)
    bounds = [start] + [f.moment for f in done] + [float("inf")]
    names = ["before faults"] + [f"after {f.name}" for f in done]
    return [(name, bounds[i], bounds[i + 1]) for i, name in enumerate(names)]


def recovery(hops: list[Hop], moment: float, until: float) -> dict:
    """Per client, from the fault to the end of its first answered request that ended after it
    (a request in flight at the fault counts: it is the one a killed worker or a cut connection
    fails); and how long after the fault failures went on, up to the next fault."""
    by_client: dict[int, list[Hop]] = {}
    for hop in sorted(hops, key=lambda h: h.ended):
        by_client.setdefault(hop.client, []).append(hop)
    waits, hit, last_failure = [], [], moment
    for own in by_client.values():
        failed = False
        for hop in own:
            if hop.ended < moment:
                continue
            if hop.failed:
                failed = True
                if hop.ended < until:
                    last_failure = max(last_failure, hop.ended)
                continue
            waits.append(hop.ended - moment)
            if failed:
                hit.append(hop.ended - moment)
            break
    return {"waits": waits, "hit": hit, "failing_for": last_failure - moment}


def report(args, plan: Plan, faults, hops, walks, database, init_output, log, load) -> None:
    ms = 1000
    seconds = max((h.ended for h in hops), default=plan.deadline) - plan.start
    answered = [h for h in hops if h.status]
    stored, version = database
    checked = compare(walks, stored)
    figures = checked["figures"]
    outcomes = Counter(w.outcome for w in walks if w.pages_sent or w.outcome != "cut")
    statuses = Counter(response.status for response in stored.values())
    complete = [w for w in walks if w.outcome == "complete"]

    print(
        f"soak: {args.clients} clients in {args.processes} processes for {seconds:.1f} s; "
        f"gunicorn {args.worker_class} {args.workers} workers x {args.threads} threads; "
        f"PostgreSQL {version}; {os.cpu_count()} cores shared by all"
    )
    # Other work on the machine moves every figure: say how busy it was.
    print(f"load average: {load[0]:.1f} before the run, {load[1]:.1f} after it")
    print("init-db: " + "; ".join(line for line in init_output.splitlines() if line))
    for fault in faults:
        when = f"{fault.moment - plan.start:.1f} s" if fault.moment else "not done"
        print(f"fault at {when}: {fault.name} ({fault.detail})")

    print()
    print(
        f"walks: {outcomes['complete']} completed, {outcomes['cut']} cut by the end of the run, "
        f"{outcomes['sent_to_start']} sent back to the start page, {outcomes['stuck']} stuck"
    )
    print(
        "responses stored: "
        + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        + f"; {sum(checked['unclaimed'].values())} belong to no walk"
        + "".join(f", {n} {status}" for status, n in sorted(checked["unclaimed"].items()))
    )
    without = figures["without code"]
    print(
        f"answers compared: {figures['answers compared']:,} in {figures['stored complete']} "
        f"stored responses of completed walks, {figures['answers differ']} differ; "
        f"lost responses: {figures['lost']}"
        + (f" ({without} walks saw no resume code: matched by answers)" if without else "")
    )
    for line in checked["differences"]:
        print(f"  {line}")
    print(
        f"pages shown again after Back: {sum(w.prefill_checked for w in walks)}, with other "
        f"answers: {sum(w.prefill_wrong for w in walks)}; resume code changed within a walk: "
        f"{sum(w.code_changes for w in walks)}; pages refused and corrected (400): "
        f"{sum(w.refused for w in walks)}; pages sent per completed walk: "
        f"{statistics.mean(w.pages_sent for w in complete) if complete else 0:.1f}"
    )
    for note, n in Counter(w.note for w in walks if w.note).most_common(5):
        print(f"  {n} x {note}")

    print()
    latency = [(h.ended - h.started) * ms for h in answered]
    line = f"requests: {len(hops):,}, {len(answered) / seconds:.0f}/s answered; latency p50 "
    line += f"{percentile(latency, 0.5):.0f} ms, p95 {percentile(latency, 0.95):.0f} ms"
    for method in ("GET", "POST"):
        own = [(h.ended - h.started) * ms for h in answered if h.method == method]
        line += f"; {method} {percentile(own, 0.5):.0f} / {percentile(own, 0.95):.0f} ms"
    print(line)
    windows = 10
    width = (plan.deadline - plan.start) / windows
    counts = Counter(min(windows - 1, int((h.ended - plan.start) / width)) for h in answered)
    print(
        f"answered/s in each {width:.0f} s of the run: "
        + " ".join(f"{counts[i] / width:.0f}" for i in range(windows))
    )
    # A request belongs to the phase in which it ended: those in flight at a fault are its own.
    print(f"{'phase (by end of request)':<34}{'from s':>7}{'requests':>9}{'5xx':>5}", end="")
    print(f"{'no answer':>10}{'429':>5}  what failed")
    for name, begin, end in phases(faults, plan.start):
        own = [h for h in hops if begin <= h.ended < end]
        failures = Counter(str(h.status) if h.status else h.error for h in own if h.failed)
        print(
            f"{name:<34}{begin - plan.start:>7.1f}{len(own):>9,}"
            f"{sum(1 for h in own if h.status >= 500):>5}{sum(1 for h in own if not h.status):>10}"
            f"{sum(1 for h in own if h.status == 429):>5}  "
            + (", ".join(f"{n} x {what}" for what, n in failures.most_common()) or "-")
        )

    print()
    print("recovery: from the fault to each client's next answered request")
    print(f"{'fault':<26}{'median ms':>10}{'max ms':>8}{'clients hit':>12}", end="")
    print(f"{'their max ms':>13}{'failures for s':>15}")
    done = sorted((f for f in faults if f.moment), key=lambda f: f.moment)
    for i, fault in enumerate(done):
        until = done[i + 1].moment if i + 1 < len(done) else float("inf")
        r = recovery(hops, fault.moment, until)
        median = statistics.median(r["waits"]) * ms if r["waits"] else float("nan")
        print(
            f"{fault.name:<26}{median:>10.0f}{max(r['waits'], default=float('nan')) * ms:>8.0f}"
            f"{len(r['hit']):>12}{max(r['hit'], default=0) * ms:>13.0f}{r['failing_for']:>15.2f}"
        )
    print()
    print(server_log_summary(log))


def server_log_summary(log: Path) -> str:
    """What the server said: its errors by exception, and its own messages about workers."""
    text = log.read_text(errors="replace")
    errors = Counter(
        m.group(1) for m in re.finditer(r"^([\w.]+(?:Error|Exception|Exit)):", text, re.M)
    )
    # gunicorn's own lines ("[time] [pid] [ERROR] ...") and Flask's ("[time] ERROR in web: ..."),
    # with numbers and addresses made alike so that the same message counts once.
    messages = re.finditer(
        r"^\[[^\]]+\] (?:\[\d+\] \[(?:ERROR|WARNING|CRITICAL)\]|(?:ERROR|WARNING|CRITICAL) in \w+:)"
        r" (.*)$",
        text,
        re.M,
    )
    gunicorn = Counter(re.sub(r"\d+", "N", m.group(1))[:140] for m in messages)
    lines = [
        f"server log ({len(text.splitlines())} lines): "
        + (", ".join(f"{n} x {name}" for name, n in errors.most_common(8)) or "no exceptions")
    ]
    lines += [f"  {n} x {message}" for message, n in gunicorn.most_common(6)]
    return "\n".join(lines)


# --- the run ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=48)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread", choices=("gthread", "sync"))
    parser.add_argument("--kill-at", type=float, help="seconds (default: a third of the run)")
    parser.add_argument("--cut-at", type=float, help="seconds (default: two thirds of the run)")
    parser.add_argument("--no-faults", action="store_true", help="a baseline without faults")
    parser.add_argument("--questionnaire", default="citizen")
    parser.add_argument("--languages", default="vi,en", help="shared among the clients")
    parser.add_argument("--processes", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--retry-pause", type=float, default=0.25, help="seconds, on average")
    parser.add_argument("--back-rate", type=float, default=0.05, help="share of pages left by Back")
    parser.add_argument(
        "--slip-rate", type=float, default=0.05, help="share of pages with a question skipped"
    )
    parser.add_argument("--think", type=float, default=0, help="mean seconds before each page")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--server-log", type=Path, help="where to keep gunicorn's output")
    args = parser.parse_args()
    args.processes = max(1, min(args.processes, args.clients))
    if args.worker_class == "sync":
        args.threads = 1  # with more, gunicorn runs gthread workers whatever the class says

    given = os.environ.get("BENCH_DATABASE_URL")
    url = given or f"{SERVER_URL}/par_soak_{secrets.token_hex(4)}"
    drop_database(url, create_again=True)
    try:
        with tempfile.TemporaryDirectory(prefix="par-soak-") as tmp:
            workdir = Path(tmp)
            env = app_environment(url, ROOT / "questionnaires")
            init_output = init_database(env)
            port = free_port()
            log = workdir / "gunicorn.log"
            server = start_gunicorn(args, port, env, log)
            start_path = f"/{args.languages.split(',')[0]}/s/{args.questionnaire}"
            try:
                wait_until_serving(port, start_path, server, log)
                warm_up(port, start_path, 4 * args.workers * args.threads)
                load_before = os.getloadavg()[0]
                hops, walks, plan, faults = run(args, port, server, url)
                load = (load_before, os.getloadavg()[0])
            finally:
                stop_gunicorn(server)
            if args.server_log:
                shutil.copyfile(log, args.server_log)
            database = stored_responses(url, args.questionnaire)
            report(args, plan, faults, hops, walks, database, init_output, log, load)
    finally:
        if given or args.keep_database:
            print(f"database kept: {url}")
        else:
            drop_database(url)


def run(args, port: int, server: subprocess.Popen, url: str):
    rng = random.Random(args.seed)
    faults = []
    if not args.no_faults:
        faults = [
            Fault(
                "worker killed",
                args.seconds / 3 if args.kill_at is None else args.kill_at,
                lambda fault: kill_worker(fault, server, port, rng),
            ),
            Fault(
                "database connections cut",
                2 * args.seconds / 3 if args.cut_at is None else args.cut_at,
                lambda fault: cut_connections(fault, url),
            ),
        ]
    plan = Plan(
        host=HOST,
        port=port,
        questionnaire=args.questionnaire,
        languages=tuple(args.languages.split(",")),
        start=0.0,
        deadline=0.0,
        seed=args.seed,
        retry_pause=args.retry_pause,
        back_rate=args.back_rate,
        slip_rate=args.slip_rate,
        think=args.think,
        timeout=30.0,
    )
    shares = [args.clients // args.processes] * args.processes
    for i in range(args.clients % args.processes):
        shares[i] += 1
    firsts = [sum(shares[:i]) for i in range(args.processes)]
    # Spawned, not forked: the clients' processes start clean of this one's threads and engines.
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.processes) as pool:
        # Time for the processes to start before the common start moment.
        start = time.monotonic() + 3.0
        plan = replace(plan, start=start, deadline=start + args.seconds)
        pending = pool.starmap_async(
            run_clients, [(plan, first, n) for first, n in zip(firsts, shares, strict=True)]
        )
        inject(faults, plan)
        parts = pending.get()
    hops = [Hop(*record) for part, _ in parts for record in part]
    walks = [w for _, part in parts for w in part]
    return hops, walks, plan, faults


if __name__ == "__main__":
    main()
