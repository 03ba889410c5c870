"""The database: one engine per app, a session per request, transactions that mean the same on
SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import psycopg
from flask import Flask, current_app
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session, sessionmaker

#: What went wrong when a database fault is passing rather than a fault of the program:
#: "connection", the connection died or could not be had (it is not to be used again);
#: "conflict", the transaction lost to another one (serialization failure, deadlock, a lock not
#: had in time) and was rolled back, on a connection that is sound.
Fault = Literal["connection", "conflict"]


def make_engine(url: str) -> Engine:
    # The pre-ping costs a round trip each time a request takes a connection from the pool. It is
    # paid so that a connection the server ended while it lay idle (a restart, a failover,
    # pg_terminate_backend, a firewall dropping idle sockets) is replaced before a request uses
    # it, instead of failing that request: a POST that meets a dead connection is refused (see
    # web.py), never retried, so this is the only way such a POST still goes through.
    # SQLite's ping is a call within the process; it is on there too so that both databases
    # recover the same way.
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_pre_ping=True,
        )
        _sqlite_like_a_server(engine)
        return engine
    # Sessions and connections end their own transactions before going back to the pool, so the
    # pool's extra ROLLBACK on return would only cost a round trip per request.
    url, connect_args = _psycopg_options(url)
    return create_engine(
        url,
        connect_args=connect_args,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_reset_on_return=None,
        pool_recycle=1800,
    )


def _psycopg_options(url: str) -> tuple[URL, dict]:
    """`prepare_threshold` taken out of the URL's query and given to psycopg as a number, or
    `none` for no server-side prepared statements: behind PgBouncer in transaction mode older than
    1.21 (without max_prepared_statements), a statement prepared on one server connection is not
    there on the next (docs/deploy.md)."""
    parsed = make_url(url)
    if "prepare_threshold" not in parsed.query:
        return parsed, {}
    raw = parsed.query["prepare_threshold"]
    value = raw if isinstance(raw, str) else raw[-1]
    threshold = None if value.strip().lower() in ("none", "") else int(value)
    return parsed.difference_update_query(["prepare_threshold"]), {"prepare_threshold": threshold}


def _sqlite_like_a_server(engine: Engine) -> None:
    """WAL for concurrent readers, foreign keys on, and BEGIN IMMEDIATE so that a transaction that
    reads and then writes holds the write lock from its start: two respondents finishing into the
    same quota cell are serialised instead of both reading the old count."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass
class _Bound:
    """One app's database: its engine and its scoped sessions (one per thread, ended with the
    app context)."""

    engine: Engine
    session: scoped_session[Session]


class Database:
    """The extension object: holds no engine itself, so two apps in one process (the tests, a
    benchmark beside its baseline) each keep their own; `db.engine` and `db.session` are those
    of the current app."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
        bound = _Bound(engine, scoped_session(sessionmaker(engine, expire_on_commit=False)))
        app.extensions["par_db"] = bound

        @app.teardown_appcontext
        def _remove_session(_exc):
            try:
                bound.session.remove()
            except DBAPIError as error:
                # The connection died after the request's last statement, as its transaction was
                # being rolled back: the answer is made and the server has ended that transaction
                # with the connection, so the request is not failed for it.
                fault = passing_fault(error)
                if fault is None:
                    raise
                app.logger.warning("database fault (%s) while ending a request's session", fault)
                bound.session().invalidate()
                bound.session.remove()

    @staticmethod
    def _bound() -> _Bound:
        return current_app.extensions["par_db"]

    @staticmethod
    def engine_of(app: Flask) -> Engine:
        """An app's engine, outside its context (to dispose of it when the app is done)."""
        return app.extensions["par_db"].engine

    @property
    def engine(self) -> Engine:
        return self._bound().engine

    @property
    def session(self) -> scoped_session[Session]:
        return self._bound().session

    def discard_session(self, fault: Fault) -> None:
        """End the current session after `fault`, so that what follows (a retry, the error page,
        the next request) starts on a sound connection. A connection that may be dead is
        invalidated, never given back to the pool: SQLAlchemy does so itself for the errors it
        knows as disconnects, this covers those it does not."""
        session = self.session()
        if fault == "conflict":
            try:
                session.rollback()
            except DBAPIError as error:
                if passing_fault(error) is None:
                    raise
                fault = "connection"  # it died as well, while rolling back
        if fault == "connection":
            session.invalidate()
        self.session.remove()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed whole or rolled back whole."""
        session = self.session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


#: The SQLSTATEs of a transaction the server gave up for another one's sake and rolled back: a
#: serialization failure, a deadlock, a lock not had within lock_timeout. (psycopg's classes for
#: them are not all under one parent: they are told by their codes.)
_CONFLICTS = frozenset({"40001", "40P01", "55P03"})


def passing_fault(error: BaseException) -> Fault | None:
    """The kind of a database fault that another attempt on a fresh connection may not meet, or
    None for any other error (a fault of the program, or of the data, happens again)."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return "connection"
        cause = error.orig
    else:
        cause = error  # raised by psycopg itself, outside SQLAlchemy
    if isinstance(cause, psycopg.Error) and cause.sqlstate in _CONFLICTS:
        return "conflict"
    if (
        isinstance(cause, sqlite3.OperationalError)
        and cause.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
    ):
        # Another writer held SQLite's lock past the busy timeout: nothing was written.
        return "conflict"
    if isinstance(cause, psycopg.errors.QueryCanceled):
        # A statement timeout: the same query would time out again, at twice the cost to a
        # server that is slow already.
        return None
    if isinstance(cause, psycopg.OperationalError):
        # The server could not be reached, took no more connections or is shutting down.
        return "connection"
    return None
