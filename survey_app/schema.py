"""Create or upgrade the schema with Alembic, on whatever database the app is bound to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class DanglingReferences(RuntimeError):
    """The migrations would leave rows that refer to rows not there; nothing was changed."""


def include_name(name: str | None, type_: str, _parent_names=None) -> bool:
    """What Alembic compares with the models: everything but the job queue's tables, which are
    procrastinate's (created by migration 0007 on PostgreSQL)."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine)
    with migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine)
    with migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@contextmanager
def migrating(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for the migrations, committed only if every reference
    still finds its row.

    On SQLite, Alembic's batch mode changes a table by copying it, dropping the original and
    renaming the copy. With foreign keys on (the app turns them on, db.py), dropping the original
    deletes its rows first and fires the ON DELETE actions of the tables that refer to it: every
    answer of the responses, the audit log's user ids. So foreign keys are off while migrating,
    as SQLite's documentation prescribes for such changes ("Making Other Kinds Of Table Schema
    Changes", lang_altertable.html), and checked before committing. The pragma does nothing
    inside a transaction: it is set before this one begins."""
    with engine.connect() as connection:
        on_sqlite = connection.dialect.name == "sqlite"
        if on_sqlite:
            _sqlite_foreign_keys(connection, on=False)
        try:
            with connection.begin():
                before = _heads(connection)
                yield connection
                # checked only when a migration ran: init-db at every release scans nothing
                if on_sqlite and _heads(connection) != before:
                    _refuse_dangling(connection)
        finally:
            if on_sqlite:
                try:
                    _sqlite_foreign_keys(connection, on=True)
                except Exception:
                    connection.invalidate()  # never back to the pool with foreign keys off
                    raise


def _heads(connection: Connection) -> tuple[str, ...]:
    return MigrationContext.configure(connection).get_current_heads()


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    # on the driver's connection: SQLAlchemy's own execute would begin the transaction first
    raw = connection.connection.driver_connection
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    if raw.execute("PRAGMA foreign_keys").fetchone()[0] != int(on):
        raise RuntimeError("PRAGMA foreign_keys was not changed: a transaction is open")


def _refuse_dangling(connection: Connection) -> None:
    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if not dangling:
        return
    shown = "; ".join(
        _(
            "%(table)s row %(rowid)s refers to a missing row of %(parent)s",
            table=table,
            rowid=rowid,
            parent=parent,
        )
        for table, rowid, parent, _fk in dangling[:20]
    )
    raise DanglingReferences(
        ngettext(
            "The database was not changed: after the migrations %(num)d row would refer to a "
            "row that is not there (%(rows)s). Restore the row it refers to, or delete it, and "
            "run the upgrade again.",
            "The database was not changed: after the migrations %(num)d rows would refer to "
            "rows that are not there (%(rows)s). Restore the rows they refer to, or delete "
            "them, and run the upgrade again.",
            len(dangling),
            rows=shown,
        )
    )
