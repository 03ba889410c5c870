"""Invitees' identities have a lifetime (Decree 13/2023 on personal data protection).

A wave says until when its invitees' names, e-mails and phones are kept
(`Wave.identities_kept_until`); after that day, or when a person asks, their identity is erased:
name, e-mail and phone emptied, the day of the erasure kept. What is not personal stays: the
group, agency and unit (response rates, the finite population correction) and whether they
answered. Their answers were never linked to them and stay as they are. What mailing kept
about them goes too: their sealed link and the mail servers' reasons (`mailing.forget`).
Each erasure is logged, without the data it erased.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..accounts import audit
from ..models import Invitation, Invitee, Wave, utcnow

REASONS = ("retention", "request")


class AlreadyErased(ValueError):
    """The invitee's identity is erased already."""


def erase(session: Session, invitee_ids: Sequence[int], reason: str) -> int:
    """Erase these invitees' identities in the caller's transaction, one audit event each;
    invitations not yet answered are revoked (nobody is left to remind). Returns how many."""
    if reason not in REASONS:
        raise ValueError(reason)
    people = session.scalars(
        select(Invitee)
        .where(Invitee.id.in_(list(invitee_ids)), Invitee.erased_on.is_(None))
        .order_by(Invitee.id)
        .with_for_update()
    ).all()
    if not people:
        return 0
    today = utcnow().date()
    codes = dict(session.execute(select(Wave.id, Wave.code)).all())
    for person in people:
        person.name = person.email = person.phone = None
        person.erased_on = today
        audit.record(
            session,
            "identity_erased",
            {
                "wave": codes.get(person.wave_id),
                "questionnaire": person.questionnaire_code,
                "invitee": person.id,
                "reason": reason,
            },
        )
    session.execute(
        update(Invitation)
        .where(
            Invitation.invitee_id.in_([p.id for p in people]),
            Invitation.status.in_(("issued", "opened")),
        )
        .values(status="revoked")
    )
    from .mailing import forget  # the job queue's module: loaded only where mail is handled

    forget(session, [p.id for p in people])
    session.flush()
    return len(people)


def erase_one(session: Session, invitee_id: int) -> Invitee:
    """A person asked to be forgotten; raises LookupError, AlreadyErased."""
    person = session.get(Invitee, invitee_id)
    if person is None:
        raise LookupError(invitee_id)
    if person.erased_on is not None:
        raise AlreadyErased(_("This person's name and contacts are erased already."))
    erase(session, [invitee_id], "request")
    return person


def due(session: Session, today: dt.date | None = None) -> list[int]:
    """Invitees whose wave keeps identities until a day before `today`, not yet erased."""
    today = today or utcnow().date()
    return list(
        session.scalars(
            select(Invitee.id)
            .join(Wave, Wave.id == Invitee.wave_id)
            .where(
                Wave.identities_kept_until.is_not(None),
                Wave.identities_kept_until < today,
                Invitee.erased_on.is_(None),
            )
            .order_by(Invitee.id)
        )
    )


def erase_expired(session: Session, today: dt.date | None = None) -> int:
    """Erase every identity kept past its wave's day (`flask invitations erase-expired`,
    run daily)."""
    return erase(session, due(session, today), "retention")
