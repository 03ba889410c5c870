"""Files every host of the app sees alike, kept in the database (`StoredFile`).

Several app hosts and workers share one database and no disk: a weighting run's inputs and
results, and a links file waiting for its one download, are rows keyed by a path-like name
(``runs/12/out/scores.csv``). Every function works in the caller's transaction.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .models import StoredFile, utcnow


def put(session: Session, key: str, content: bytes) -> None:
    """Keep `content` under `key`, replacing what was there."""
    session.execute(delete(StoredFile).where(StoredFile.key == key))
    session.add(StoredFile(key=key, content=content, size=len(content), created_at=utcnow()))
    session.flush()


def keep(session: Session, key: str, content: bytes) -> None:
    """Keep `content` under `key` unless something is there already: two hosts storing the same
    thing at once leave one row and no error."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(StoredFile)
        .values(key=key, content=content, size=len(content), created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
    )


def get(session: Session, key: str) -> bytes | None:
    return session.scalar(select(StoredFile.content).where(StoredFile.key == key))


def exists(session: Session, key: str) -> bool:
    return session.scalar(select(StoredFile.size).where(StoredFile.key == key)) is not None


def names(session: Session, prefix: str) -> list[str]:
    """The keys under `prefix` (a folder: ending with "/"), without it, sorted."""
    keys = session.scalars(
        select(StoredFile.key).where(StoredFile.key.startswith(prefix, autoescape=True))
    )
    return sorted(key[len(prefix) :] for key in keys)


def take(session: Session, key: str) -> bytes | None:
    """The content under `key`, removed as it is read: of two transactions taking the same key,
    one gets it and the other None (the delete is the claim)."""
    return session.scalar(
        delete(StoredFile).where(StoredFile.key == key).returning(StoredFile.content)
    )


def remove(session: Session, prefix: str) -> int:
    """Delete every file whose key starts with `prefix`; returns how many."""
    result = session.execute(
        delete(StoredFile).where(StoredFile.key.startswith(prefix, autoescape=True))
    )
    return result.rowcount
