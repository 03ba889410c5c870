"""A database that drops its connections or gives up a transaction costs no 500 (survey_app/db.py,
survey_app/web.py): a connection cut while idle in the pool is replaced before use, a GET whose
connection is cut while it runs is run again, and a POST whose transaction was lost stores none of
it and asks, with a 503, for the form to be sent again.

The faults are real. On PostgreSQL the server ends the app's backends (pg_terminate_backend,
from a connection of the test's own) and a real deadlock is made between the app and the test.
SQLite has no server to end a connection: the driver's connection is closed under the pool,
which SQLAlchemy takes for a disconnect as it takes PostgreSQL's; and its conflict is a writer
holding the database's lock. Every test runs on both databases.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time

import pytest
from app_support import PASSWORD, make_app, reset_database
from html_client import csrf_token, fill, parse_forms, path_of
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from survey_app.db import passing_fault
from survey_app.extensions import db
from survey_app.models import Answer, Response

#: How long a test waits for the server to do what it was asked (a backend to end, a lock to be
#: waited on) before it fails saying so: a bound on waiting, never a measured time.
PATIENCE_SECONDS = 30


class Cutter:
    """Cuts the connections of one app's engine, and watches its pool for cut ones returned."""

    def __init__(self, app, url: str) -> None:
        self.engine = db.engine_of(app)
        self.postgres = self.engine.dialect.name == "postgresql"
        #: The outside connection that ends the app's backends (PostgreSQL).
        self.admin = create_engine(url, poolclass=NullPool) if self.postgres else None
        #: Every driver connection the app's pool opened, the cut ones, and the cut ones the pool
        #: took back to hand out again (there must be none).
        self.opened: list = []
        self.cut: list = []
        self.returned_dead: list = []
        event.listen(self.engine, "connect", self._opened)
        event.listen(self.engine, "checkin", self._checked_in)

    def _opened(self, dbapi_connection, _record) -> None:
        self.opened.append(dbapi_connection)

    def _checked_in(self, dbapi_connection, _record) -> None:
        # An invalidated connection is checked in as None: only a live-looking one is kept.
        if dbapi_connection is not None and any(dbapi_connection is c for c in self.cut):
            self.returned_dead.append(dbapi_connection)

    def cut_idle(self) -> int:
        """End every connection of the app's (all idle between requests); how many there were."""
        if self.postgres:
            with self.admin.connect() as conn:
                ended = conn.scalars(
                    text(
                        "SELECT pg_terminate_backend(pid, :wait) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND backend_type = 'client backend'"
                    ),
                    {"wait": PATIENCE_SECONDS * 1000},
                ).all()
            assert all(ended), "a backend did not end"
        else:
            ended = [c for c in self.opened if not any(c is d for d in self.cut)]
            for connection in ended:
                connection.close()
        self.cut.extend(self.opened)
        return len(ended)

    def cut_one(self, pooled) -> None:
        dbapi_connection = pooled.dbapi_connection
        if self.postgres:
            pid = dbapi_connection.info.backend_pid
            with self.admin.connect() as conn:
                ended = conn.scalar(
                    text("SELECT pg_terminate_backend(:pid, :wait)"),
                    {"pid": pid, "wait": PATIENCE_SECONDS * 1000},
                )
            assert ended, "the backend did not end"
        else:
            dbapi_connection.close()
        self.cut.append(dbapi_connection)

    def cut_at(self, matches, times: int = 1) -> list[str]:
        """Cut the connection that is about to run a statement `matches` accepts, `times` times;
        the statements at which it was cut, filled in as it happens."""
        cut_before: list[str] = []

        def before(conn, _cursor, statement, _parameters, _context, _executemany):
            if len(cut_before) < times and matches(statement):
                cut_before.append(statement)
                self.cut_one(conn.connection)

        event.listen(self.engine, "before_cursor_execute", before)
        return cut_before

    def close(self) -> None:
        event.remove(self.engine, "connect", self._opened)
        event.remove(self.engine, "checkin", self._checked_in)
        if self.admin is not None:
            self.admin.dispose()


@pytest.fixture
def faulty(database_url):
    """An app whose connections the test can cut (watched from the first one it opens)."""
    app = make_app(database_url)
    cutter = Cutter(app, database_url)
    reset_database(app)
    yield app, cutter
    cutter.close()


def begin_citizen(client) -> str:
    """Start the citizen questionnaire; the address of its first page."""
    page = client.get("/en/s/citizen")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    start = client.post(
        path_of(parse_forms(html)[0].action) or "/en/s/citizen",
        data={"csrf_token": csrf_token(html)},
    )
    assert start.status_code == 302
    return path_of(start.headers["Location"])


def page_post(client, location: str, seed: int = 1) -> tuple[str, dict]:
    """The page at `location` shown, and the POST that answers it."""
    page = client.get(location)
    assert page.status_code == 200, (location, page.status_code)
    form = next(
        f for f in parse_forms(page.get_data(as_text=True)) if ("action", "next") in f.buttons
    )
    data = fill(form, random.Random(seed), "Ý kiến")
    data["action"] = ["next"]
    return path_of(form.action), data


def answer_page(client, location: str, seed: int = 1) -> str:
    """Answer the page at `location`; the address of the next page."""
    path, data = page_post(client, location, seed)
    sent = client.post(path, data=data)
    assert sent.status_code == 302, sent.status_code
    return path_of(sent.headers["Location"])


def stored(app) -> tuple[list, list]:
    """Every response (its progress) and every answer, as they are in the database."""
    with app.app_context():
        responses = db.session.execute(
            select(Response.id, Response.page_index, Response.furthest_page).order_by(Response.id)
        ).all()
        answers = db.session.execute(
            select(Answer.response_id, Answer.item_code, Answer.value).order_by(Answer.id)
        ).all()
        db.session.rollback()
    return [tuple(r) for r in responses], [tuple(a) for a in answers]


def fault_logs(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("database fault")]


def updates_response(statement: str) -> bool:
    # save_page's last statement (on PostgreSQL it writes the page's answers too, in a WITH),
    # after whatever the transaction wrote before it (a first page's response row, the answers
    # on SQLite): a cut there proves all of it is rolled back, not left half-saved.
    return statement.startswith("UPDATE response SET") or ") UPDATE response SET" in statement


def reads_response(statement: str) -> bool:
    return statement.startswith("SELECT") and "FROM response" in statement


def test_connections_cut_while_idle_cost_no_request(faulty, caplog):
    app, cutter = faulty
    client = app.test_client()
    caplog.set_level(logging.WARNING)
    first = begin_citizen(client)
    second = answer_page(client, first, seed=1)
    assert cutter.cut_idle() >= 1
    path, data = page_post(client, second, seed=2)  # a GET on a connection cut in the pool
    assert cutter.cut_idle() >= 1
    _responses, answers_before = stored(app)
    assert cutter.cut_idle() >= 1
    sent = client.post(path, data=data)  # a POST on one, too: it must not be refused
    assert sent.status_code == 302
    assert "/p/" in sent.headers["Location"] or sent.headers["Location"].endswith("/done")
    _responses, answers_after = stored(app)
    assert len(answers_after) > len(answers_before)
    assert cutter.cut_idle() >= 1
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}
    # The pool replaced them before use (the pre-ping): no request met a fault to recover from.
    assert fault_logs(caplog) == []
    assert cutter.returned_dead == []


def test_a_connection_cut_after_the_last_statement_costs_nothing(faulty, caplog):
    app, cutter = faulty
    armed = []

    @app.after_request
    def cut_once_answered(response):
        if armed:
            armed.clear()
            # The request's last statement leaves its transaction open (as a page's rendering
            # may); the connection dies before the session is ended and rolls it back.
            db.session.execute(text("SELECT 1"))
            cutter.cut_one(db.session.connection().connection)
        return response

    client = app.test_client()
    caplog.set_level(logging.WARNING)
    path, data = page_post(client, begin_citizen(client), seed=1)
    armed.append(True)
    sent = client.post(path, data=data)
    assert not armed, "the test never cut the connection"
    assert sent.status_code == 302  # saved, and told so
    responses, answers = stored(app)
    assert len(responses) == 1 and answers
    assert fault_logs(caplog) == ["database fault (connection) while ending a request's session"]
    assert cutter.returned_dead == []
    assert client.get(path_of(sent.headers["Location"])).status_code == 200


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_read_whose_connection_is_cut_is_run_again(faulty, caplog, method):
    app, cutter = faulty
    client = app.test_client()
    caplog.set_level(logging.WARNING)
    location = answer_page(client, begin_citizen(client), seed=1)
    expected = client.get(location)
    assert expected.status_code == 200
    cut = cutter.cut_at(reads_response)
    again = client.open(location, method=method)
    assert cut, "the test never cut the connection"
    assert again.status_code == 200
    if method == "GET":
        assert parse_forms(again.get_data(as_text=True))[0].action == location
    (logged,) = fault_logs(caplog)
    assert "(connection)" in logged and "retried on a fresh connection" in logged
    assert "respond.page" in logged  # the endpoint: a personal link's token never reaches a log
    assert cutter.returned_dead == []
    assert client.get(location).status_code == 200


def test_a_read_that_fails_again_is_a_503_not_a_500(faulty, caplog):
    app, cutter = faulty
    client = app.test_client()
    caplog.set_level(logging.WARNING)
    location = answer_page(client, begin_citizen(client), seed=1)
    cut = cutter.cut_at(reads_response, times=2)
    failed = client.get(location)
    assert len(cut) == 2
    assert failed.status_code == 503
    assert failed.headers["Retry-After"].isdigit()
    assert "Something went wrong on our side" in failed.get_data(as_text=True)
    retried, failed_again = fault_logs(caplog)
    assert retried.endswith("; retried on a fresh connection")
    assert failed_again.endswith("; failed again; answered 503")
    assert cutter.returned_dead == []
    assert client.get(location).status_code == 200


@pytest.mark.parametrize("page_number", [1, 2], ids=["first-page", "later-page"])
def test_a_page_whose_connection_is_cut_while_saving_is_not_saved_and_can_be_sent_again(
    faulty, caplog, page_number
):
    app, cutter = faulty
    client = app.test_client()
    caplog.set_level(logging.WARNING)
    location = begin_citizen(client)
    if page_number == 2:
        location = answer_page(client, location, seed=1)
    path, data = page_post(client, location, seed=page_number)
    before = stored(app)
    cut = cutter.cut_at(updates_response)
    refused = client.post(path, data=data)
    assert cut, "the test never cut the connection"
    assert refused.status_code == 503
    assert refused.headers["Retry-After"].isdigit()
    html = refused.get_data(as_text=True)
    assert "Your last answers were not saved" in html
    assert "submit the page again" in html
    assert f'href="{location}"' in html  # the page again, by its GET
    # Nothing of the page is stored: not its answers (written before the cut), not its progress.
    assert stored(app) == before
    (logged,) = fault_logs(caplog)
    assert "(connection)" in logged and "POST respond.page" in logged
    assert cutter.returned_dead == []
    # The respondent goes back and sends the same page again: it is saved, once.
    again = client.post(path, data=data)
    assert again.status_code == 302
    responses, answers = stored(app)
    assert len(responses) == 1 and responses[0][1] > (before[0][0][1] if before[0] else 0)
    assert len(answers) > len(before[1])
    assert len({(a[0], a[1]) for a in answers}) == len(answers)


def test_a_staff_form_whose_connection_is_cut_is_not_saved_either(faulty):
    from survey_app.accounts.auth import create_user

    app, cutter = faulty
    with app.app_context(), db.transaction() as tx:
        create_user(tx, "admin@example.vn", PASSWORD, "admin")
    client = app.test_client()
    page = client.get("/en/admin/login")
    form = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "email": "admin@example.vn",
        "password": PASSWORD,
    }
    cut = cutter.cut_at(lambda statement: statement.startswith("INSERT INTO audit_event"))
    refused = client.post("/en/admin/login", data=form)
    assert cut, "the test never cut the connection"
    assert refused.status_code == 503
    html = refused.get_data(as_text=True)
    assert "Your last changes were not saved" in html and "submit the form again" in html
    assert 'href="/en/admin/login"' in html
    assert cutter.returned_dead == []
    assert client.get("/en/admin/").status_code == 302  # not logged in
    assert client.post("/en/admin/login", data=form).status_code == 302  # logged in


class Conflict:
    """A real conflict between the app's transaction and one of the test's, at a statement of
    the app's: on PostgreSQL a deadlock the server breaks by rolling the app's transaction back;
    on SQLite the database's write lock held by the test when the app begins its transaction."""

    def __init__(self, app, url: str) -> None:
        self.engine = db.engine_of(app)
        self.url = url
        self.made = 0

    def at(self, matches) -> None:
        if self.engine.dialect.name == "postgresql":
            self._deadlock_at(matches)
        else:
            self._locked_at(matches)

    def _deadlock_at(self, matches) -> None:
        # The app holds its response's row (locked first by every page POST); the test holds
        # the waves, then asks for the response rows and waits. The app, at `matches`, asks for
        # the waves instead: a cycle. The app's deadlock_timeout is the short one, so it is the
        # app's transaction the server rolls back.
        other = create_engine(self.url, poolclass=NullPool)
        holder = other.connect()
        holder.execute(text("SET deadlock_timeout = '10min'"))
        holder.execute(text("SELECT id FROM wave FOR UPDATE"))
        waiting = threading.Thread(
            target=lambda: holder.execute(text("SELECT id FROM response FOR UPDATE"))
        )

        def before(_conn, cursor, statement, parameters, _context, _executemany):
            if self.made or not matches(statement):
                return statement, parameters
            self.made += 1
            waiting.start()
            self._wait_until_waiting(other, holder)
            cursor.execute("SET LOCAL deadlock_timeout = '10ms'")
            return "SELECT id FROM wave FOR UPDATE", None

        event.listen(self.engine, "before_cursor_execute", before, retval=True)

        def release() -> None:
            waiting.join(PATIENCE_SECONDS)
            holder.rollback()
            holder.close()
            other.dispose()

        self.release = release

    @staticmethod
    def _wait_until_waiting(engine, holder) -> None:
        pid = holder.connection.dbapi_connection.info.backend_pid
        give_up = time.monotonic() + PATIENCE_SECONDS
        with engine.connect() as watch:
            while not watch.scalar(
                text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted"),
                {"pid": pid},
            ):
                assert time.monotonic() < give_up, "the test's transaction never waited"
                watch.rollback()
                time.sleep(0.01)

    def _locked_at(self, matches) -> None:
        holder = sqlite3.connect(self.engine.url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")

        def before(conn, _cursor, statement, _parameters, _context, _executemany):
            if not self.made and matches(statement):
                self.made += 1
                # Fail at once rather than after the app's 30 seconds of patience.
                conn.connection.dbapi_connection.execute("PRAGMA busy_timeout=0")

        event.listen(self.engine, "before_cursor_execute", before)

        def release() -> None:
            holder.rollback()
            holder.close()

        self.release = release


def test_a_page_that_loses_a_conflict_is_not_saved_and_can_be_sent_again(
    database_url, faulty, caplog
):
    app, cutter = faulty
    client = app.test_client()
    caplog.set_level(logging.WARNING)
    location = answer_page(client, begin_citizen(client), seed=1)
    path, data = page_post(client, location, seed=2)
    before = stored(app)
    conflict = Conflict(app, database_url)
    postgres = cutter.postgres
    conflict.at(updates_response if postgres else lambda s: s == "BEGIN IMMEDIATE")
    try:
        refused = client.post(path, data=data)
    finally:
        conflict.release()
    assert conflict.made == 1
    assert refused.status_code == 503
    assert "Your last answers were not saved" in refused.get_data(as_text=True)
    (logged,) = fault_logs(caplog)
    assert "(conflict)" in logged
    assert ("DeadlockDetected" if postgres else "database is locked") in logged
    assert stored(app) == before
    again = client.post(path, data=data)
    assert again.status_code == 302
    assert len(stored(app)[1]) > len(before[1])


def test_only_passing_faults_are_taken_for_passing(faulty):
    """A fault of the program or of the data is not run again: it would fail the same way."""
    app, cutter = faulty
    with app.app_context():
        errors = []
        for statement in ("SELECT * FROM no_such_table", "INSERT INTO wave (id) VALUES (NULL)"):
            with pytest.raises(DBAPIError) as caught, db.transaction() as tx:
                tx.execute(text(statement))
            errors.append(caught.value)
        if cutter.postgres:
            with pytest.raises(DBAPIError) as caught, db.transaction() as tx:
                tx.execute(text("SET LOCAL statement_timeout = '1ms'"))
                tx.execute(text("SELECT pg_sleep(5)"))
            errors.append(caught.value)
        assert [passing_fault(error) for error in errors] == [None] * len(errors)
        assert db.session.scalar(select(func.count(Response.id))) == 0
