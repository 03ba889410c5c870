"""Respondent pages under load: gunicorn on PostgreSQL, measured with wrk.

Prints requests/s and p50/p99 latency for a 30-question page (GET) and its save (POST) at 16 and
64 connections, beside two bare Flask apps doing the same page and save by hand, served the same
way in the same run, with the ratios; then checks that what the database holds equals what the
accepted POSTs sent. The two baselines:

- `BARE_WTF_APP`, issue 13's own baseline ("a bare Flask + WTForms page of 30 questions", "a bare
  Flask + SQLAlchemy one-transaction save (4 statements)"): a Flask-WTF form of 30 radio fields
  rendered from one query's answers; its save validates the form (CSRF token, choices) and stores
  the page in one transaction of 4 statements;
- `BARE_DB_APP`, stricter: the same page written out in a Jinja loop with no form library, and a
  save that checks nothing before its 4 statements. No app that takes answers from the public can
  be this bare; it shows what the framework and the database alone cost.

    python benchmarks/respond.py [--duration 10] [--workers 3] [--threads 4]
    python benchmarks/respond.py --cpu [--requests 300]

`--cpu` measures instead the CPU time each request costs, the server's process and its
PostgreSQL backends together (from /proc), one gunicorn worker answering one request at a
time: a figure that a machine shared with other work changes far less than requests/s. Beside
ours and the two baselines it measures two floors: `FLOOR_APP`, the least a page (the session
read, one query, 28 KB returned) and a checked save (CSRF and choices checked, one read, one
write) can cost, and the bare Flask endpoint.

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

#: What both bare apps share: the respondent found from the session cookie as ours finds it, the
#: one query reading the stored answers, and the save as one transaction of 4 statements (the
#: response row locked, the answers upserted, the response updated, commit).
BARE_COMMON = """
import hashlib
import os

from flask import Flask, redirect, render_template, request, session
from jinja2 import DictLoader
from sqlalchemy import create_engine, text

app = Flask(__name__)
app.secret_key = os.environ["SECRET_KEY"]
# The page is a template of the app's, compiled once and kept as render_template keeps a file's.
app.jinja_loader = DictLoader({})
engine = create_engine(os.environ["DATABASE_URL"], pool_size=4, max_overflow=8)
CODES = [f"q{i:02d}" for i in range(1, QUESTIONS + 1)]


def key():
    code = session["responses"]["bench"]
    return hashlib.sha256(("resume:" + code).encode()).hexdigest()


def stored():
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.item_code, a.value FROM response r "
                "LEFT JOIN answer a ON a.response_id = r.id WHERE r.key_hash = :k"
            ),
            {"k": key()},
        ).all()
    return {c: v for c, v in rows if c}


def store(answers):
    with engine.begin() as conn:
        rid = conn.execute(
            text("SELECT id FROM response WHERE key_hash = :k FOR UPDATE"), {"k": key()}
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO answer (response_id, item_code, value) VALUES (:r, :c, :v) "
                "ON CONFLICT (response_id, item_code) DO UPDATE SET value = EXCLUDED.value"
            ),
            [{"r": rid, "c": c, "v": answers[c]} for c in CODES],
        )
        conn.execute(
            text(
                "UPDATE response SET updated_at = now(), page_index = 1, "
                "furthest_page = GREATEST(furthest_page, 1) WHERE id = :r"
            ),
            {"r": rid},
        )
    return redirect("/page", 303)
"""

#: The stricter baseline: the same 30 questions of 5 radio buttons written out in a Jinja loop,
#: no form library; the save stores what the form holds without checking it.
BARE_DB_APP = (
    BARE_COMMON
    + """
PAGE = '''<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bench</title></head>
<body><form method="post"><input type="hidden" name="csrf_token" value="x">
{% for code in codes %}<fieldset><legend>Question number {{ loop.index }}</legend>
{% for value in range(1, 6) %}<label><input type="radio" name="{{ code }}" value="{{ value }}"
{% if answers.get(code) == value|string %} checked{% endif %}> Option {{ value }}</label>
{% endfor %}</fieldset>{% endfor %}<button name="action" value="next">Next</button></form>
</body></html>'''
app.jinja_loader.mapping["page.html"] = PAGE


@app.get("/page")
def page():
    return render_template("page.html", codes=CODES, answers=stored())


@app.post("/page")
def save():
    return store(request.form)
"""
).replace("QUESTIONS", str(QUESTIONS))

#: Issue 13's baseline: the page and save a Flask developer writes with Flask-WTF. One form class
#: of 30 radio fields (5 choices), made once; the page renders the form's own widgets with the
#: stored answers; the save validates the form (CSRF token, each answer one of the choices).
BARE_WTF_APP = (
    BARE_COMMON
    + """
from flask_wtf import FlaskForm
from wtforms import RadioField

CHOICES = [(str(value), f"Option {value}") for value in range(1, 6)]


class PageForm(FlaskForm):
    pass


for number, code in enumerate(CODES, 1):
    setattr(PageForm, code, RadioField(f"Question number {number}", choices=CHOICES))

PAGE = '''<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bench</title></head>
<body><form method="post">{{ form.csrf_token }}
{% for field in form if field.name != "csrf_token" %}<fieldset><legend>{{ field.label }}</legend>
{{ field() }}</fieldset>{% endfor %}<button name="action" value="next">Next</button></form>
</body></html>'''
app.jinja_loader.mapping["page.html"] = PAGE


@app.get("/page")
def page():
    return render_template("page.html", form=PageForm(data=stored()))


@app.post("/page")
def save():
    form = PageForm()
    if not form.validate_on_submit():
        return "invalid", 400
    return store({code: form[code].data for code in CODES})
"""
).replace("QUESTIONS", str(QUESTIONS))

#: The floors: what a page and a save cost with nothing but what any such request must do. The
#: page: the session read and one query through SQLAlchemy, 28 KB returned, nothing rendered. The
#: save: the CSRF token and each answer checked against the 5 codes by hand (no form library),
#: the stored answers read in one query and the page written with one statement, both outside
#: any BEGIN/COMMIT, the write applied only if the response did not move since the read (the
#: least a save that checks its input against what is stored can do: 2 round trips).
FLOOR_APP = """
import hashlib
import os

from flask import Flask, abort, redirect, request, session
from flask_wtf.csrf import validate_csrf
from sqlalchemy import create_engine, text

app = Flask(__name__)
app.secret_key = os.environ["SECRET_KEY"]
engine = create_engine(
    os.environ["DATABASE_URL"], pool_size=4, max_overflow=8, isolation_level="AUTOCOMMIT"
)
CODES = [f"q{i:02d}" for i in range(1, QUESTIONS + 1)]
VALUES = frozenset("12345")
PAGE_BYTES = "x" * 28_600
READ = text(
    "SELECT r.id, r.furthest_page, a.item_code, a.value FROM response r "
    "LEFT JOIN answer a ON a.response_id = r.id WHERE r.key_hash = :k"
)
WRITE = text(
    "WITH r AS (UPDATE response SET updated_at = now(), page_index = 1, "
    "furthest_page = GREATEST(furthest_page, 1) WHERE id = :r AND furthest_page = :seen "
    "RETURNING id), "
    "a AS (INSERT INTO answer (response_id, item_code, value) SELECT r.id, c, v FROM r, "
    "unnest(CAST(:codes AS text[]), CAST(:values AS text[])) AS t(c, v) "
    "ON CONFLICT (response_id, item_code) DO UPDATE SET value = EXCLUDED.value RETURNING 1) "
    "SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM a)"
)


def key():
    code = session["responses"]["bench"]
    return hashlib.sha256(("resume:" + code).encode()).hexdigest()


@app.get("/page")
def page():
    with engine.connect() as conn:
        rows = conn.execute(READ, {"k": key()}).all()
    answers = {c: v for _, _, c, v in rows if c}
    return PAGE_BYTES if answers is not None else ""


@app.post("/page")
def save():
    form = request.form
    validate_csrf(form.get("csrf_token"))
    values = [form.get(c, "") for c in CODES]
    if not all(value in VALUES for value in values):
        abort(400)
    with engine.connect() as conn:
        rows = conn.execute(READ, {"k": key()}).all()
        written, _ = conn.execute(
            WRITE, {"r": rows[0][0], "seen": rows[0][1], "codes": CODES, "values": values}
        ).one()
    if not written:
        abort(409)
    return redirect("/page", 303)
""".replace("QUESTIONS", str(QUESTIONS))

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


def _backend_pids(application: str) -> list[int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{SERVER_URL}/postgres")
    with engine.connect() as conn:
        pids = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :name "
                "AND application_name = :application"
            ),
            {"name": DATABASE_URL.rsplit("/", 1)[1], "application": application},
        ).scalars()
        found = list(pids)
    engine.dispose()
    return found


class Measured:
    """One server of the CPU measurement: its processes, its PostgreSQL backends (told apart by
    `application_name`), and the CPU ticks and requests counted per method."""

    def __init__(self, label: str, target: str, chdir: Path, path: str, env: dict) -> None:
        self.label, self.path, self.port = label, path, free_port()
        self.application = f"bench_{self.port}"  # one port, one server
        env = {**env, "DATABASE_URL": f"{DATABASE_URL}?application_name={self.application}"}
        self.server = start_gunicorn(target, self.port, 1, 1, env, chdir)
        self.ticks: dict[str, list[int]] = {}
        self.count: dict[str, int] = {}

    def pids(self) -> list[int]:
        children = subprocess.run(
            ["pgrep", "-P", str(self.server.pid)], capture_output=True, text=True
        ).stdout.split()
        return [self.server.pid, *map(int, children)]

    def send(self, method: str, lines: list[str], measure: bool = True) -> None:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port)
        pids, backends = self.pids(), _backend_pids(self.application)
        app_before = sum(_cpu_ticks(pid) for pid in pids)
        db_before = sum(_cpu_ticks(pid) for pid in backends)
        for line in lines:
            cookie, body = line.split("\t")
            headers = {"Cookie": cookie}
            if method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(
                method, self.path, body=body if method == "POST" else None, headers=headers
            )
            response = conn.getresponse()
            response.read()
            if response.status not in (200, 302, 303):
                raise SystemExit(f"{self.label}: {method} {self.path} answered {response.status}")
        app_after = sum(_cpu_ticks(pid) for pid in pids)
        # a backend started during the requests counts from zero
        db_after = sum(_cpu_ticks(pid) for pid in _backend_pids(self.application))
        conn.close()
        if measure:
            app, db = self.ticks.setdefault(method, [0, 0])
            self.ticks[method] = [app + app_after - app_before, db + db_after - db_before]
            self.count[method] = self.count.get(method, 0) + len(lines)

    def ms(self, method: str) -> tuple[float, float]:
        scale = 1000 / os.sysconf("SC_CLK_TCK") / self.count[method]
        app, db = self.ticks[method]
        return app * scale, db * scale

    def stop(self) -> None:
        os.killpg(self.server.pid, signal.SIGTERM)
        self.server.wait(timeout=30)


WTF = "bare Flask+WTForms+SQLAlchemy"
BARE = "bare Flask+SQLAlchemy"
FLOOR = "floor: least page and save"


def main_cpu(workdir: Path, env: dict, get_lines, post_lines, requests: int) -> None:
    """All servers up at once, measured in turns of 50 requests each, so that a spell of other
    work on the machine falls on every server alike. Each server saves responses of its own:
    every measured save is a response's first (30 answers inserted), every measured GET shows
    30 stored answers."""
    specs = [
        ("ours", "survey_app:create_app()", ROOT, "/en/s/bench/p/0", True),
        (WTF, "bare_wtf_app:app", workdir, "/page", True),
        (BARE, "bare_db_app:app", workdir, "/page", True),
        (FLOOR, "floor_app:app", workdir, "/page", True),
        ("bare Flask endpoint", "bare_app:app", workdir, "/", False),
    ]
    servers, shares = [], {}
    try:
        for number, (label, target, chdir, path, saves) in enumerate(specs):
            servers.append(Measured(label, target, chdir, path, env))
            first = number * requests if saves else 0
            shares[label] = (
                post_lines[first : first + requests],
                get_lines[first : first + requests],
            )
        time.sleep(1)
        for server in servers:  # warm up: the first requests build caches and connections
            server.send("GET", shares[server.label][1][:20], measure=False)
        turn = 50
        for start in range(0, requests, turn):
            for server in servers:
                posts, gets = shares[server.label]
                if server.path != "/":
                    server.send("POST", posts[start : start + turn])
        for start in range(0, requests, turn):
            for server in servers:
                server.send("GET", shares[server.label][1][start : start + turn])
    finally:
        for server in servers:
            server.stop()
    print(f"CPU ms per request, one gunicorn worker each, one request at a time, {requests} each")
    print(f"{'server':<32}{'method':>7}{'server':>9}{'database':>10}{'total':>8}")
    totals: dict[tuple[str, str], float] = {}
    for server in servers:
        for method in ("GET", "POST"):
            if method not in server.count:
                continue
            app_ms, db_ms = server.ms(method)
            totals[(server.label, method)] = app_ms + db_ms
            print(
                f"{server.label:<32}{method:>7}{app_ms:>9.2f}{db_ms:>10.2f}{app_ms + db_ms:>8.2f}"
            )
    print(
        "ratios, the reference's CPU / ours (the requests/s ratio of a machine doing nothing else):"
    )
    for bare in (WTF, BARE, FLOOR):
        print(
            f"  {bare:<30}page {totals[(bare, 'GET')] / totals[('ours', 'GET')]:.2f}, "
            f"save {totals[(bare, 'POST')] / totals[('ours', 'POST')]:.2f}"
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
        (workdir / "bare_wtf_app.py").write_text(BARE_WTF_APP)
        (workdir / "floor_app.py").write_text(FLOOR_APP)
        script = workdir / "load.lua"
        script.write_text(LUA)
        recreate_database()
        if args.cpu:  # each server that saves has responses of its own
            global RESPONSES
            RESPONSES = max(RESPONSES, 4 * args.requests)
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
            main_cpu(workdir, env, get_lines, post_lines, args.requests)
            return
        app_port, bare_port, db_port, wtf_port = free_port(), free_port(), free_port(), free_port()
        servers = [
            start_gunicorn(
                "survey_app:create_app()", app_port, args.workers, args.threads, env, ROOT
            ),
            start_gunicorn("bare_app:app", bare_port, args.workers, args.threads, env, workdir),
            start_gunicorn("bare_db_app:app", db_port, args.workers, args.threads, env, workdir),
            start_gunicorn("bare_wtf_app:app", wtf_port, args.workers, args.threads, env, workdir),
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
            wtf_page = f"http://127.0.0.1:{wtf_port}/page"
            get, post = workdir / "get.txt", workdir / "post.txt"
            cases = [
                ("bare Flask endpoint (GET)", f"http://127.0.0.1:{bare_port}/", None, "GET"),
                ("page: bare Flask+WTForms", wtf_page, get, "GET"),
                ("page: bare Flask, no forms", bare_page, get, "GET"),
                (f"page of {QUESTIONS} questions (GET)", page, get, "GET"),
                ("save: bare Flask+WTForms", wtf_page, post, "POST"),
                ("save: bare Flask, no checks", bare_page, post, "POST"),
                (f"save of {QUESTIONS} answers (POST)", page, post, "POST"),
            ]
            run_wrk(bare_page, 16, 3, "GET", get, script)  # warm up
            run_wrk(wtf_page, 16, 3, "GET", get, script)
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
                rate = [rates[case[0]] for case in cases]
                print(
                    f"  ratios at {connections} connections (ours / bare, requests/s): "
                    f"to Flask+WTForms page {rate[3] / rate[1]:.2f}, save {rate[6] / rate[4]:.2f}; "
                    f"to Flask without forms page {rate[3] / rate[2]:.2f}, "
                    f"save {rate[6] / rate[5]:.2f}"
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
