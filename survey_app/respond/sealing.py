"""Finished responses to invited questionnaires, rewritten in batches.

Rows are stored in the order they are written (PostgreSQL's heap, SQLite's row ids), and a dump
keeps that order; with the access log's order of first visits it would pair invitees with
responses. Sealing rewrites a batch of finished responses under random ids, their answers and
the day's answered invitations in a shuffled order, so within a batch the order says nothing
(docs/security.md). A batch is sealed as soon as `BATCH` finished responses wait;
`flask privacy seal` seals whatever waits (nightly, and before a backup).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator, Sequence

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from ..models import Answer, Invitation, QuestionnaireVersion, Response, utcnow

#: Finished responses that wait before they are sealed together: the fewest people among whom
#: a sealed response's row order cannot tell.
BATCH = 10
#: Sealed responses take random ids from here up (below: ids the database hands out in order).
FIRST_SEALED_ID = 2**30
LAST_ID = 2**31 - 1
#: Kept well under SQLite's limit on bound parameters per statement.
_CHUNK = 500


def _waiting():
    return (
        select(Response.id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_version_id)
        .where(
            QuestionnaireVersion.access == "invitation",
            Response.status != "in_progress",
            Response.sealed.is_(False),
            # An admin's test responses are no one's: they must not fill a batch that hides
            # the order of real ones.
            Response.test.is_(False),
        )
    )


def waiting_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(_waiting().subquery()))


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def seal(session: Session, minimum: int = 1, rng: secrets.SystemRandom | None = None) -> int:
    """Seal every finished, unsealed invited response, in the caller's transaction, if there
    are at least `minimum`; returns how many were sealed."""
    ids = list(session.scalars(_waiting().with_for_update(of=Response)))
    if not ids or len(ids) < minimum:
        return 0
    rng = rng or secrets.SystemRandom()
    table, answers_table = Response.__table__, Answer.__table__
    responses, answers = [], []
    for chunk in _chunks(ids):
        responses += session.execute(select(table).where(table.c.id.in_(chunk))).mappings().all()
        answers += (
            session.execute(select(answers_table).where(answers_table.c.response_id.in_(chunk)))
            .mappings()
            .all()
        )
    taken = set(session.scalars(select(Response.id).where(Response.id >= FIRST_SEALED_ID)))
    new_id: dict[int, int] = {}
    for old in ids:
        drawn = rng.randint(FIRST_SEALED_ID, LAST_ID)
        while drawn in taken:
            drawn = rng.randint(FIRST_SEALED_ID, LAST_ID)
        taken.add(drawn)
        new_id[old] = drawn
    for chunk in _chunks(ids):
        session.execute(delete(Answer).where(Answer.response_id.in_(chunk)))
        session.execute(delete(Response).where(Response.id.in_(chunk)))
    rows = [{**row, "id": new_id[row["id"]], "sealed": True} for row in responses]
    rng.shuffle(rows)
    session.execute(insert(table), rows)
    if answers:
        moved = [
            {
                "response_id": new_id[answer["response_id"]],
                "item_code": answer["item_code"],
                "value": answer["value"],
            }
            for answer in answers
        ]
        rng.shuffle(moved)
        session.execute(insert(answers_table), moved)
    _shuffle_answered_invitations(session, rng)
    return len(ids)


def _shuffle_answered_invitations(session: Session, rng: secrets.SystemRandom) -> None:
    """Write again, in a random order, the invitations answered yesterday and today: on
    PostgreSQL each write moves the row, so their order no longer follows the answers'."""
    since = utcnow().date() - dt.timedelta(days=1)
    ids = list(
        session.scalars(
            select(Invitation.id).where(
                Invitation.status == "complete", Invitation.completed_on >= since
            )
        )
    )
    if not ids:
        return
    rng.shuffle(ids)
    table = Invitation.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("invitation")).values(status="complete"),
        [{"invitation": i} for i in ids],
    )


def seal_when_due(session: Session) -> int:
    """After an invited response finished: seal a batch once `BATCH` wait."""
    if waiting_count(session) < BATCH:
        session.rollback()
        return 0
    try:
        sealed = seal(session, minimum=BATCH)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return sealed
