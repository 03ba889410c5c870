"""The database: one engine per app, a session per request, transactions that mean the same on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session, sessionmaker


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _sqlite_like_a_server(engine)
        return engine
    # Sessions and connections end their own transactions before going back to the pool, so the
    # pool's extra ROLLBACK on return would only cost a round trip per request.
    return create_engine(
        url,
        pool_pre_ping=False,
        pool_size=5,
        max_overflow=10,
        pool_reset_on_return=None,
        pool_recycle=1800,
    )


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
