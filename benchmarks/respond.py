"""Respondent pages under load: gunicorn on PostgreSQL, measured with wrk.

Prints requests/s and p50/p99 latency for a 30-question page (GET) and its save (POST) at 16 and
64 connections, beside a bare Flask endpoint and a bare Flask + SQLAlchemy app doing the same page
and save by hand (`BARE_DB_APP`), served the same way in the same run, with the ratios; then
checks that what the database holds equals what the accepted POSTs sent.

    python benchmarks/respond.py [--duration 10] [--workers 3] [--threads 4]
    python benchmarks/respond.py --cpu [--requests 300]

`--cpu` measures instead the CPU time each request costs, the server's process and its
PostgreSQL backends together (from /proc), one gunicorn sync worker answering one request at a
time: a figure that a machine shared with other work changes far less than requests/s. Beside
ours and the bare Flask + SQLAlchemy app it measures two floors: the bare app's page without
its template (`FLOOR_APP`: the session read, the one query, 28 KB returned) and the bare Flask
endpoint.

Needs wrk (apt-get install wrk) and a PostgreSQL server (BENCH_DATABASE_URL, default: a database
par_bench on 127.0.0.1:5432 as user postgres, dropped and created anew).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = 30
RESPONSES = 2048
SERVER_URL = os.environ.get("BENCH_SERVER_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", f"{SERVER_URL}/par_bench")

BARE_APP = """
from flask import Flask
app = Flask(__name__)

@app.get("/")
def index():
    return "ok"
"""

#: The baseline of the issue: a bare Flask + SQLAlchemy app doing the same work by hand. Its page
#: reads the respondent's answers in one query (the response found from the session cookie, as
#: ours) and renders the same 30 questions of 5 radio buttons with Jinja; its save is one
#: transaction of 4 statements (the response row locked, the answers upserted, the response
#: updated, commit), then a redirect.
BARE_DB_APP = """
import hashlib
import os

from flask import Flask, redirect, render_template_string, request, session
from sqlalchemy import create_engine, text

app = Flask(__name__)
app.secret_key = os.environ["SECRET_KEY"]
engine = create_engine(os.environ["DATABASE_URL"], pool_size=4, max_overflow=8)
CODES = [f"q{i:02d}" for i in range(1, QUESTIONS + 1)]
PAGE = '''<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bench</title></head>
<body><form method="post"><input type="hidden" name="csrf_token" value="x">
{% for code in codes %}<fieldset><legend>Question number {{ loop.index }}</legend>
{% for value in range(1, 6) %}<label><input type="radio" name="{{ code }}" value="{{ value }}"
{% if answers.get(code) == value|string %} checked{% endif %}> Option {{ value }}</label>
{% endfor %}</fieldset>{% endfor %}<button name="action" value="next">Next</button></form>
</body></html>'''


def key():
    code = session["responses"]["bench"]
    return hashlib.sha256(("resume:" + code).encode()).hexdigest()


@app.get("/page")
def page():
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.item_code, a.value FROM response r "
                "LEFT JOIN answer a ON a.response_id = r.id WHERE r.key_hash = :k"
            ),
            {"k": key()},
        ).all()
    answers = {c: v for c, v in rows if c}
    return render_template_string(PAGE, codes=CODES, answers=answers)


@app.post("/page")
def save():
    form = request.form
    with engine.begin() as conn:
        rid = conn.execute(
            text("SELECT id FROM response WHERE key_hash = :k FOR UPDATE"), {"k": key()}
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO answer (response_id, item_code, value) VALUES (:r, :c, :v) "
                "ON CONFLICT (response_id, item_code) DO UPDATE SET value = EXCLUDED.value"
            ),
            [{"r": rid, "c": c, "v": form[c]} for c in CODES],
        )
        conn.execute(
            text(
                "UPDATE response SET updated_at = now(), page_index = 1, "
                "furthest_page = GREATEST(furthest_page, 1) WHERE id = :r"
            ),
            {"r": rid},
        )
    return redirect("/page", 303)
""".replace("QUESTIONS", str(QUESTIONS))

#: The bare page with nothing rendered: what reading the session and one query through
#: SQLAlchemy cost by themselves, the least any page showing stored answers can cost.
FLOOR_APP = BARE_DB_APP.replace(
    "return render_template_string(PAGE, codes=CODES, answers=answers)", "return PAGE_BYTES"
).replace("app = Flask(__name__)", "app = Flask(__name__)\nPAGE_BYTES = 'x' * 28_600")

LUA = r"""
local lines = {}
local counter = 0
local nthreads = 1
local method = "GET"
local made = 0
id = 0  -- a global, so that setup() can give each thread its own

function setup(thread)
  thread:set("id", made)
  made = made + 1
end

function init(args)
  method = args[1]
  local path = args[2]
  nthreads = tonumber(args[3])
  local n = 0
  for line in io.lines(path) do
    if n % nthreads == id then table.insert(lines, line) end
    n = n + 1
  end
end

function request()
  counter = counter + 1
  local line = lines[(counter % #lines) + 1]
  local cookie, body = line:match("([^\t]*)\t(.*)")
  local headers = {}
  headers["Cookie"] = cookie
  if method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format("POST", nil, headers, body)
  end
  return wrk.format("GET", nil, headers, nil)
end
"""


def questionnaire_yaml() -> str:
    items = "\n".join(
        f"      - {{code: q{i:02d}, type: single, scale: satisfaction5, "
        f"label: {{vi: Câu hỏi số {i}, en: Question number {i}}}}}"
        for i in range(1, QUESTIONS + 1)
    )
    return f"""code: bench
group: citizen
access: open
title: {{vi: Phiếu đo tốc độ, en: Speed benchmark}}
intro: {{vi: Đo tốc độ, en: Measures speed}}
pages:
  - code: p1
    title: {{vi: Ba mươi câu hỏi, en: Thirty questions}}
    items:
{items}
  - code: p2
    title: {{vi: Trang cuối, en: Last page}}
    items:
      - {{code: note, type: text, label: {{vi: Ghi chú, en: Note}}}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database() -> None:
    from sqlalchemy import create_engine, text

    server = create_engine(f"{SERVER_URL}/postgres", isolation_level="AUTOCOMMIT")
    name = DATABASE_URL.rsplit("/", 1)[1]
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()


def prepare(workdir: Path) -> tuple[list[str], list[str], list[dict]]:
    """Schema, questionnaire, and RESPONSES open responses each with a session cookie."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    from survey_app import create_app
    from survey_app.extensions import db
    from survey_app.fieldwork.tokens import response_key_for_resume_code
    from survey_app.fieldwork.waves import ensure_default_wave
    from survey_app.models import utcnow
    from survey_app.questionnaire.store import latest_version, sync_questionnaires
    from survey_app.respond.services import new_resume_code, start_response
    from survey_app.schema import upgrade

    app = create_app(
        {
            "DATABASE_URL": DATABASE_URL,
            "SECRET_KEY": "bench-secret",
            "QUESTIONNAIRE_DIR": str(workdir),
            "SESSION_COOKIE_SECURE": False,
        }
    )
    serializer = app.session_interface.get_signing_serializer(app)
    get_lines, post_lines, bodies = [], [], []
    rng = random.Random(1)
    with app.app_context():
        upgrade(db.engine)
        with db.transaction() as tx:
            sync_questionnaires(tx, workdir)
            wave = ensure_default_wave(tx)
            version = latest_version(tx, "bench")
            codes = []
            for _ in range(RESPONSES):
                code = new_resume_code()
                key = response_key_for_resume_code(code)
                start_response(tx, wave, version, key, "en", utcnow())
                codes.append(code)
    for code in codes:
        with app.test_request_context("/en/s/bench/p/0"):
            session["responses"] = {"bench": code}
            token = generate_csrf()
            cookie = f"session={serializer.dumps(dict(session))}"
        answers = {f"q{i:02d}": str(rng.randint(1, 5)) for i in range(1, QUESTIONS + 1)}
        body = "&".join(f"{k}={v}" for k, v in answers.items())
        body += f"&csrf_token={token}&action=next"
        get_lines.append(f"{cookie}\t")
        post_lines.append(f"{cookie}\t{body}")
        bodies.append({"code": code, "answers": answers})
    db.engine_of(app).dispose()
    return get_lines, post_lines, bodies


def start_gunicorn(
    target: str, port: int, workers: int, threads: int, env: dict, chdir: Path
) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        target,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
        "--chdir",
        str(chdir),
    ]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gunicorn did not start on port {port}")


def run_wrk(
    url: str, connections: int, duration: int, method: str, lines_file: Path | None, script: Path
) -> dict:
    threads = 2
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--latency",
        "--timeout",
        "5s",
    ]
    if lines_file is not None:
        command += ["-s", str(script), url, "--", method, str(lines_file), str(threads)]
    else:
        command += [url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def _ms(value: str) -> float:
    number = float(re.match(r"[\d.]+", value).group())
    if value.endswith("us"):
        return number / 1000
    if value.endswith("ms"):
        return number
    if value.endswith("s"):
        return number * 1000
    return number


def parse_wrk(output: str) -> dict:
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for pct in ("50", "99"):
        match = re.search(rf"\s{pct}%\s+([\d.]+\w+)", output)
        result[f"p{pct}"] = _ms(match.group(1)) if match else float("nan")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["bad"] = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors: (.*)", output)
    result["socket_errors"] = errors.group(1) if errors else ""
    result["requests"] = int(re.search(r"(\d+) requests in", output).group(1))
    return result


def verify(bodies: list[dict]) -> tuple[int, int]:
    """Every response that was saved holds exactly the answers its POSTs sent."""
    from sqlalchemy import create_engine, text

    from survey_app.fieldwork.tokens import response_key_for_resume_code

    engine = create_engine(DATABASE_URL)
    by_key = {response_key_for_resume_code(b["code"]): b["answers"] for b in bodies}
    saved = mismatched = 0
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.key_hash, a.item_code, a.value FROM response r "
                "JOIN answer a ON a.response_id = r.id"
            )
        ).all()
    stored: dict[str, dict[str, str]] = {}
    for key, item, value in rows:
        stored.setdefault(key, {})[item] = value
    for key, answers in stored.items():
        saved += 1
        if answers != by_key[key]:
            mismatched += 1
    engine.dispose()
    return saved, mismatched


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _backend_pids() -> list[int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{SERVER_URL}/postgres")
    with engine.connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
            {"name": DATABASE_URL.rsplit("/", 1)[1]},
        ).scalars()
        found = list(pids)
    engine.dispose()
    return found


def cpu_per_request(port: int, path: str, lines: list[str], method: str, pids: list[int]):
    """CPU milliseconds per request of the server's processes and of its database backends."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port)

    def send(line: str) -> None:
        cookie, body = line.split("\t")
        headers = {"Cookie": cookie}
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body if method == "POST" else None, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status not in (200, 302, 303):
            raise SystemExit(f"{method} {path} answered {response.status}")

    for line in lines[:20]:  # warm up
        send(line)
    backends = _backend_pids()
    app_before = sum(_cpu_ticks(pid) for pid in pids)
    db_before = sum(_cpu_ticks(pid) for pid in backends)
    for line in lines:
        send(line)
    app_after = sum(_cpu_ticks(pid) for pid in pids)
    db_after = sum(_cpu_ticks(pid) for pid in _backend_pids())  # a backend started anew counts
    conn.close()
    scale = 1000 / os.sysconf("SC_CLK_TCK") / len(lines)
    return (app_after - app_before) * scale, (db_after - db_before) * scale


def main_cpu(workdir: Path, env: dict, get_lines, post_lines) -> None:
    servers = [
        ("ours", "survey_app:create_app()", ROOT, "/en/s/bench/p/0", ("GET", "POST", "GET")),
        ("bare Flask+SQLAlchemy", "bare_db_app:app", workdir, "/page", ("GET", "POST", "GET")),
        ("bare page, nothing rendered", "floor_app:app", workdir, "/page", ("GET",)),
        ("bare Flask endpoint", "bare_app:app", workdir, "/", ("GET",)),
    ]
    print("CPU ms per request, one gunicorn sync worker, one request at a time")
    print(f"{'server':<30}{'method':>7}{'server':>9}{'database':>10}{'total':>8}")
    totals: dict[tuple[str, str], float] = {}
    for label, target, chdir, path, methods in servers:
        port = free_port()
        server = start_gunicorn(target, port, 1, 1, env, chdir)
        try:
            time.sleep(1)
            children = subprocess.run(
                ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
            ).stdout.split()
            pids = [server.pid, *map(int, children)]
            for method in methods:
                lines = post_lines if method == "POST" else get_lines
                app_ms, db_ms = cpu_per_request(port, path, lines, method, pids)
                totals[(label, method)] = app_ms + db_ms  # the second GET (with answers) wins
                print(f"{label:<30}{method:>7}{app_ms:>9.2f}{db_ms:>10.2f}{app_ms + db_ms:>8.2f}")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    bare, ours = "bare Flask+SQLAlchemy", "ours"
    print(
        "  ratios (bare CPU / ours: the requests/s ratio of a machine busy with nothing else): "
        f"page {totals[(bare, 'GET')] / totals[(ours, 'GET')]:.2f}, "
        f"save {totals[(bare, 'POST')] / totals[(ours, 'POST')]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--cpu", action="store_true", help="CPU per request instead of load")
    parser.add_argument("--requests", type=int, default=300, help="per measurement (--cpu)")
    args = parser.parse_args()
    if not args.cpu and shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        shutil.copy(ROOT / "questionnaires" / "shared.yaml", workdir / "shared.yaml")
        (workdir / "bench.yaml").write_text(questionnaire_yaml(), encoding="utf-8")
        (workdir / "bare_app.py").write_text(BARE_APP)
        (workdir / "bare_db_app.py").write_text(BARE_DB_APP)
        (workdir / "floor_app.py").write_text(FLOOR_APP)
        script = workdir / "load.lua"
        script.write_text(LUA)
        recreate_database()
        get_lines, post_lines, bodies = prepare(workdir)
        (workdir / "get.txt").write_text("\n".join(get_lines) + "\n")
        (workdir / "post.txt").write_text("\n".join(post_lines) + "\n")
        env = {
            **os.environ,
            "DATABASE_URL": DATABASE_URL,
            "SECRET_KEY": "bench-secret",
            "QUESTIONNAIRE_DIR": str(workdir),
            "SESSION_COOKIE_SECURE": "0",
            "PYTHONPATH": str(ROOT),
        }
        if args.cpu:
            main_cpu(workdir, env, get_lines[: args.requests], post_lines[: args.requests])
            return
        app_port, bare_port, db_port = free_port(), free_port(), free_port()
        servers = [
            start_gunicorn(
                "survey_app:create_app()", app_port, args.workers, args.threads, env, ROOT
            ),
            start_gunicorn("bare_app:app", bare_port, args.workers, args.threads, env, workdir),
            start_gunicorn("bare_db_app:app", db_port, args.workers, args.threads, env, workdir),
        ]
        try:
            page = f"http://127.0.0.1:{app_port}/en/s/bench/p/0"
            # Warm up every worker: questionnaire parsed, form class built, templates compiled.
            for _ in range(2):
                run_wrk(page, 16, 3, "GET", workdir / "get.txt", script)
            print(
                f"gunicorn gthread, {args.workers} workers x {args.threads} threads; "
                f"wrk 2 threads, {args.duration} s per run; {os.cpu_count()} cores shared"
            )
            print(f"{'what':<34}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-3xx':>9}")
            bare_page = f"http://127.0.0.1:{db_port}/page"
            cases = [
                ("bare Flask endpoint (GET)", f"http://127.0.0.1:{bare_port}/", None, "GET"),
                ("bare Flask+SQLAlchemy page (GET)", bare_page, workdir / "get.txt", "GET"),
                (f"page of {QUESTIONS} questions (GET)", page, workdir / "get.txt", "GET"),
                ("bare Flask+SQLAlchemy save (POST)", bare_page, workdir / "post.txt", "POST"),
                (f"save of {QUESTIONS} answers (POST)", page, workdir / "post.txt", "POST"),
            ]
            run_wrk(bare_page, 16, 3, "GET", workdir / "get.txt", script)  # warm up
            for connections in (16, 64):
                rates = {}
                for label, url, lines, method in cases:
                    r = run_wrk(url, connections, args.duration, method, lines, script)
                    rates[label] = r["rps"]
                    note = f"  socket errors: {r['socket_errors']}" if r["socket_errors"] else ""
                    print(
                        f"{label:<34}{connections:>6}{r['rps']:>10.0f}{r['p50']:>9.1f}"
                        f"{r['p99']:>9.1f}{r['bad']:>9}{note}"
                    )
                labels = [case[0] for case in cases]
                print(
                    f"  ratios at {connections} connections (ours / bare Flask+SQLAlchemy, "
                    f"requests/s): page {rates[labels[2]] / rates[labels[1]]:.2f}, "
                    f"save {rates[labels[4]] / rates[labels[3]]:.2f}"
                )
        finally:
            for server in servers:
                os.killpg(server.pid, signal.SIGTERM)
            for server in servers:
                server.wait(timeout=30)
        saved, mismatched = verify(bodies)
        print(
            f"check: {saved} responses saved, {mismatched} differ from the POSTs they accepted"
            f" ({'OK' if saved and not mismatched else 'FAILED'})"
        )
        if not saved or mismatched:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
