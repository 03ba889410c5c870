"""The anonymity promise of docs/security.md, played by an attacker.

The attacker holds what any staff member could: the list of invitees with their personal links,
the server's access log (gunicorn's format, with times to the microsecond: finer than a real
log) and a dump of the database (pg_dump on PostgreSQL, SQLite's own dump). Ten invitees answer
the leader questionnaire one after the other, from their own addresses; one stops part-way; two
only follow their link. The attacker tries each way of linking a person to a response, and the
test, which knows who gave which answers, scores every attempt.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import random
import re
import sqlite3
import subprocess
import time
from urllib.parse import quote

import pytest
from html_client import csrf_token, fill, parse_forms, path_of, walk
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from survey_app.extensions import db
from survey_app.models import Answer, Invitation, Invitee, Response
from survey_app.respond import sealing

FINISHING = sealing.BATCH  # the last of them fills the batch that is sealed
WAVE = f"wave-{dt.date.today().year}"


class AccessLog:
    """What the server writes for each request: address, time, request line, status, referrer."""

    def __init__(self, app) -> None:
        self.inner = app.wsgi_app
        self.lines: list[str] = []
        app.wsgi_app = self

    def __call__(self, environ, start_response):
        status = []

        def capture(code, headers, exc_info=None):
            status.append(code.split()[0])
            return start_response(code, headers, exc_info)

        body = self.inner(environ, capture)
        query = environ.get("QUERY_STRING")
        target = quote(environ.get("PATH_INFO", "")) + (f"?{query}" if query else "")
        moment = dt.datetime.now(dt.UTC).strftime("%d/%b/%Y:%H:%M:%S.%f +0000")
        self.lines.append(
            f"{environ.get('REMOTE_ADDR', '-')} - - [{moment}] "
            f'"{environ["REQUEST_METHOD"]} {target} HTTP/1.1" {status[0]} - '
            f'"{environ.get("HTTP_REFERER", "-")}" "{environ.get("HTTP_USER_AGENT", "-")}"'
        )
        return body

    def parsed(self) -> list[tuple[str, dt.datetime, str, str]]:
        """(address, time, method, path) of every line, as the attacker reads them."""
        pattern = re.compile(r'^(\S+) - - \[([^\]]+)\] "(\S+) (\S+) HTTP/1\.1"')
        rows = []
        for line in self.lines:
            address, moment, method, path = pattern.match(line).groups()
            rows.append(
                (address, dt.datetime.strptime(moment, "%d/%b/%Y:%H:%M:%S.%f %z"), method, path)
            )
        return rows


def _people(count: int) -> bytes:
    rows = [("name", "group", "agency", "unit", "email", "phone")]
    rows += [
        (f"Lãnh đạo số {i}", "leader", f"Sở số {i}", "", f"lanhdao{i}@hatinh.gov.vn", "")
        for i in range(count)
    ]
    return "\n".join(",".join(row) for row in rows).encode("utf-8-sig")


def _client(app, number: int):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"203.0.113.{number}"
    return client


# --- the dump, as the attacker reads it -----------------------------------------------------------

_SQL_VALUE = re.compile(r"'(?:[^']|'')*'|NULL|-?\d+(?:\.\d+)?")


def dump(app) -> tuple[str, dict[str, list[dict[str, str | None]]]]:
    """The database's dump as text, and the rows of each table in the order the dump has them."""
    url = make_url(app.config["DATABASE_URL"])
    tables: dict[str, list[dict[str, str | None]]] = {}
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database)
        try:
            text = "\n".join(connection.iterdump())
            for table in ("response", "answer", "invitation", "invitee"):
                columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
                tables[table] = []
                for line in text.splitlines():
                    if line.startswith(f'INSERT INTO "{table}" VALUES('):
                        values = _SQL_VALUE.findall(line[line.index("VALUES(") :])
                        cells = [None if v == "NULL" else v.strip("'") for v in values]
                        tables[table].append(dict(zip(columns, cells, strict=True)))
        finally:
            connection.close()
        return text, tables
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    text = subprocess.run(
        ["pg_dump", "--data-only", "--no-owner", plain],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for match in re.finditer(
        r"^COPY public\.(\w+) \(([^)]*)\) FROM stdin;\n(.*?)^\\\.$", text, re.M | re.S
    ):
        columns = [c.strip().strip('"') for c in match.group(2).split(",")]
        rows = []
        for line in match.group(3).splitlines():
            cells = [None if v == "\\N" else v for v in line.split("\t")]
            rows.append(dict(zip(columns, cells, strict=True)))
        tables[match.group(1)] = rows
    return text, tables


# --- the truth, known to the test only ------------------------------------------------------------


def owners(app, answered: dict[str, dict[str, list[str]]]) -> dict[int, str]:
    """Response id -> the address of the person who gave its answers."""
    with app.app_context():
        stored: dict[int, dict[str, str]] = {}
        for response_id, code, value in db.session.execute(
            select(Answer.response_id, Answer.item_code, Answer.value)
            .join(Response)
            .where(Response.questionnaire_code == "leader", Response.status == "complete")
        ):
            stored.setdefault(response_id, {})[code] = value
    truth = {}
    for response_id, values in stored.items():
        scores = {
            address: sum(values.get(code) == " ".join(posted) for code, posted in given.items())
            for address, given in answered.items()
        }
        best = max(scores, key=scores.get)
        assert scores[best] == len(answered[best]), "a response lost some of its answers"
        truth[response_id] = best
    assert sorted(truth.values()) == sorted(answered), "every person's answers, once each"
    return truth


def order_attacks(tables, started_order: list[str]) -> dict[str, dict[int, str]]:
    """Pair the k-th person to begin (by the access log) with the k-th response, by each order
    the dump gives: response ids, response rows, and the answers' rows."""
    finished = [r for r in tables["response"] if r["status"] == "complete"]
    by_rows = [int(r["id"]) for r in finished]
    by_ids = sorted(by_rows)
    by_answers = []
    for row in tables["answer"]:
        response_id = int(row["response_id"])
        if response_id in by_rows and response_id not in by_answers:
            by_answers.append(response_id)
    people = [address for address in started_order if address is not None]
    return {
        name: dict(zip(order, people, strict=False))
        for name, order in (("ids", by_ids), ("rows", by_rows), ("answers", by_answers))
    }


def correct(guess: dict[int, str], truth: dict[int, str]) -> int:
    return sum(truth.get(response_id) == address for response_id, address in guess.items())


# --- the test -----------------------------------------------------------------------------------


def test_an_attacker_with_the_dump_the_access_log_and_the_invitees_links_nobody(
    app, runner, tmp_path, monkeypatch
):
    # The seal's shuffle, made repeatable so the test gives the same answer on every run.
    monkeypatch.setattr(sealing.secrets, "SystemRandom", lambda: random.Random(20261202))
    log = AccessLog(app)
    source, links_file = tmp_path / "invitees.csv", tmp_path / "links.csv"
    source.write_bytes(_people(FINISHING + 3))
    imported = runner.invoke(
        args=["invitations", "import", str(source), "--wave", WAVE, "--questionnaire", "leader"]
        + ["--links-out", str(links_file)]
    )
    assert imported.exit_code == 0, imported.output
    with links_file.open(encoding="utf-8-sig") as handle:
        invitees = list(csv.DictReader(handle))  # the attacker's list: names, e-mails, links
    links = [path_of(row["link"]) for row in invitees]
    tokens = [link.rsplit("/", 1)[1] for link in links]

    answered: dict[str, dict[str, list[str]]] = {}
    for number, link in enumerate(links[: FINISHING - 1]):
        walked = walk(_client(app, number), link, seed=100 + number)
        answered[f"203.0.113.{number}"] = walked.answers
        time.sleep(0.01)  # each person's requests apart from the next one's in the log

    # Before the batch is full, the order of the rows gives everyone away: the attack is real.
    _text, tables = dump(app)
    truth = owners(app, answered)
    began = _first_requests(log, tokens)
    unsealed = order_attacks(tables, began)
    assert max(correct(guess, truth) for guess in unsealed.values()) == FINISHING - 1

    # The last of the batch finishes; one person stops after the first page; two only look.
    last = FINISHING - 1
    walked = walk(_client(app, last), links[last], seed=100 + last)
    answered[f"203.0.113.{last}"] = walked.answers
    partial = _client(app, last + 1)
    start = partial.get(links[last + 1], follow_redirects=True)
    moved = partial.post(start.request.path, data={"csrf_token": csrf_token(start.text)})
    first = partial.get(path_of(moved.headers["Location"]))
    form = next(f for f in parse_forms(first.text) if ("action", "next") in f.buttons)
    assert (
        partial.post(path_of(form.action), data=fill(form, random.Random(9), "x")).status_code
        == 302
    )
    for number in (last + 2, last + 3):
        assert _client(app, number).get(links[number], follow_redirects=True).status_code == 200

    text, tables = dump(app)
    truth = owners(app, answered)
    began = _first_requests(log, tokens)

    # 1. Nothing stored with a response or an answer comes from a token.
    derived = set(tokens)
    for token in tokens:
        for prefix in ("", "response:", "resume:", "invitation:", "key:", "answer:"):
            derived.add(hashlib.sha256((prefix + token).encode()).hexdigest())
            derived.add(hashlib.md5((prefix + token).encode()).hexdigest())
    for table in ("response", "answer"):
        for row in tables[table]:
            assert not derived & set(row.values()), (table, row)
    hashes = {row["token_hash"] for row in tables["invitation"]}
    assert all(text.count(h) == 1 for h in hashes)  # only in the invitation's own row
    # No column of a response or an answer refers to an invitation or an invitee.
    for model in (Response, Answer):
        targets = {key.column.table.name for key in model.__table__.foreign_keys}
        assert not targets & {"invitation", "invitee"}

    # 2. The access log has each token once, on the first request, answered by a redirect to
    # an address without it; everything after is the same for everybody.
    for token in tokens[: FINISHING + 3]:
        carrying = [line for line in log.lines if token in line]
        assert len(carrying) == 1 and '" 303 ' in carrying[0], carrying
    generic = re.compile(r"^/(vi|en)/i/(p/\d+|done|resume)?$")
    for _address, _moment, _method, path in log.parsed():
        if "/i/" in path and not any(token in path for token in tokens):
            assert generic.match(path), path

    # 3. Times: an invited response keeps the day, no finer, and no duration or language, so
    # the log's times and /vi/ or /en/ match every response of the day alike.
    invited = [r for r in tables["response"]]
    assert (
        len(
            {
                (r["started_at"], r["updated_at"], r["completed_at"])
                for r in invited
                if r["completed_at"]
            }
        )
        == 1
    )
    for row in invited:
        for column in ("started_at", "updated_at", "completed_at"):
            if row[column] is not None:
                moment = dt.datetime.fromisoformat(row[column])
                assert moment.minute == 0 and moment.second == 0 and moment.microsecond == 0
        assert row["duration_seconds"] is None and row["language"] in ("", None)
    for row in tables["invitation"]:
        assert "issued_at" not in row and "page_reached" not in row
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["issued_on"])

    # 4. Order: sealed, the rows' order says nothing; the pairing is no better than chance
    # (before the seal, the same attack paired all nine: above).
    sealed = order_attacks(tables, began)
    assert {r["sealed"] for r in tables["response"] if r["status"] == "complete"} <= {"1", "t"}
    for name, guess in sealed.items():
        # Chance pairs one of ten on average; six or more happens once in 1,700 shuffles.
        assert correct(guess, truth) <= 5, (name, correct(guess, truth))

    # 5. Those who have not finished: the one response in progress could be any of the three
    # invitees whose link was followed and who did not finish.
    with app.app_context():
        opened = db.session.scalars(select(Invitation).where(Invitation.status == "opened")).all()
        in_progress = db.session.scalars(
            select(Response).where(Response.status == "in_progress")
        ).all()
        assert len(opened) == 3 and len(in_progress) == 1
        assert db.session.query(Invitee).count() == FINISHING + 3


def _first_requests(log: AccessLog, tokens: list[str]) -> list[str | None]:
    """The addresses in the order they first used a token: when each person began."""
    order = []
    for address, _moment, _method, path in log.parsed():
        if any(token in path for token in tokens) and address not in order:
            order.append(address)
    return order


@pytest.mark.postgresql_only
def test_the_xmin_join_of_the_issue_pairs_nobody_on_postgresql(app, runner, tmp_path):
    """Issue 10 paired invitations with responses by the transaction that wrote them both
    (`join response r on r.xmin = v.xmin`). Each person's own writes must never share one; the
    seal writes a batch of them in one, where every invitation meets every response alike."""
    source, links_file = tmp_path / "invitees.csv", tmp_path / "links.csv"
    source.write_bytes(_people(4))
    imported = runner.invoke(
        args=["invitations", "import", str(source), "--wave", WAVE, "--questionnaire", "leader"]
        + ["--links-out", str(links_file)]
    )
    assert imported.exit_code == 0, imported.output
    with links_file.open(encoding="utf-8-sig") as handle:
        links = [path_of(row["link"]) for row in csv.DictReader(handle)]
    for number, link in enumerate(links[:3]):
        walk(_client(app, number), link, seed=200 + number)
    assert _client(app, 3).get(links[3], follow_redirects=True).status_code == 200

    joins = {
        "response": "select v.id, r.id from invitation v join response r on r.xmin = v.xmin",
        "answer": "select v.id, a.response_id from invitation v join answer a on a.xmin = v.xmin",
        "invitee": "select v.id, r.id from invitee v join response r on r.xmin = v.xmin",
    }
    with app.app_context():
        complete = db.session.scalar(
            select(func.count()).select_from(Invitation).where(Invitation.status == "complete")
        )
        assert complete == 3 and db.session.query(Response).count() == 3
        for name, query in joins.items():
            assert db.session.execute(text(query)).all() == [], name

    sealed = runner.invoke(args=["privacy", "seal"])
    assert sealed.exit_code == 0, sealed.output
    with app.app_context():
        pairs = db.session.execute(text(joins["response"])).all()
        answered = {invitation for invitation, _response in pairs}
        # the seal's one transaction: each answered invitation meets all three responses
        assert len(answered) == 3 and len(pairs) == 3 * 3
        assert db.session.execute(text(joins["invitee"])).all() == []
