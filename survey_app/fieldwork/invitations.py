"""Named invitations: import an invitee file whole or not at all, revoke, reissue, list.

A token exists only in the value returned when it is made (the links); the database keeps its
hash. The file itself is read by `fieldwork.invitee_file`; links handed over once by the web
pages wait in `fieldwork.link_store`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from analysis.problems import Problem

from ..accounts import audit
from ..models import Invitation, Invitee, Wave, utcnow
from ..questionnaire.store import latest_version
from .invitee_file import InviteeFile, InviteeFileInvalid, person_key
from .tokens import new_token, token_hash
from .waves import wave_for, wave_questionnaires

LINK_COLUMNS = ("name", "group", "agency", "unit", "email", "link")
#: Invitations that still wait for an answer: whom a reminder is for.
NEEDS_REMINDER = ("issued", "opened")


class InvitationError(Exception):
    """A request that cannot be done, with a sentence for the person who asked."""


@dataclass(frozen=True)
class IssuedLink:
    """A personal link as handed to the admin. The token exists only in `link`."""

    name: str
    group: str
    agency: str
    unit: str | None
    email: str | None
    link: str


# --- importing ----------------------------------------------------------------------------------


def by_invitation(session: Session, questionnaire_code: str) -> bool:
    """Whether the questionnaire is answered by personal invitation (not through an open link)."""
    version = latest_version(session, questionnaire_code)
    return version is not None and version.access == "invitation"


def invitation_wave(session: Session, wave_code: str | None, questionnaire_code: str) -> Wave:
    """The wave to invite to, after checking that it carries an invited questionnaire; with no
    wave code, the newest wave that carries it."""
    version = latest_version(session, questionnaire_code)
    if version is None:
        raise InvitationError(_("Unknown questionnaire %(code)s.", code=questionnaire_code))
    if version.access != "invitation":
        raise InvitationError(
            _(
                "Questionnaire %(code)s is answered through its open link, not by invitation.",
                code=questionnaire_code,
            )
        )
    wave = wave_for(session, questionnaire_code, wave_code)
    if wave is None and wave_code is None:
        raise InvitationError(_("No wave carries questionnaire %(code)s.", code=questionnaire_code))
    if wave is None:
        raise InvitationError(
            _(
                "Wave %(wave)s does not exist or does not carry questionnaire %(code)s.",
                wave=wave_code,
                code=questionnaire_code,
            )
        )
    return wave


def issue_links(
    session: Session, wave: Wave, questionnaire_code: str, count: int, base_url: str, lang: str
) -> list[str]:
    """`count` personal links for no one in particular (the list of names is kept elsewhere)."""
    tokens = [new_token() for _ in range(count)]
    session.add_all(
        Invitation(wave_id=wave.id, questionnaire_code=questionnaire_code, token_hash=token_hash(t))
        for t in tokens
    )
    session.flush()
    return [personal_link(base_url, lang, token) for token in tokens]


def personal_link(base_url: str, lang: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/{lang}/i/{token}"


def import_invitees(
    session: Session,
    wave: Wave,
    questionnaire_code: str,
    invitees: InviteeFile,
    base_url: str,
    lang: str,
    file_name: str,
) -> list[IssuedLink]:
    """Store every invitee with a fresh invitation, in the caller's transaction, and log it
    (with who did it: the admin on the page, "cli" from a command).

    Someone already invited to this questionnaire in this wave (same name, agency and e-mail)
    is reported as an error of that row, so a file sent twice does not invite people twice.
    """
    existing = {
        person_key(name, agency, email)
        for name, agency, email in session.execute(
            select(Invitee.name, Invitee.agency, Invitee.email).where(
                Invitee.wave_id == wave.id, Invitee.questionnaire_code == questionnaire_code
            )
        )
    }
    repeated = [
        Problem.at_row(
            row.row,
            _(
                "%(name)s (%(agency)s) is already invited to this questionnaire in this wave; "
                "to send a new link, reissue it from the list of invitees.",
                name=row.name,
                agency=row.agency,
            ),
        )
        for row in invitees.rows
        if person_key(row.name, row.agency, row.email) in existing
    ]
    if repeated:
        raise InviteeFileInvalid(repeated)
    people = [
        Invitee(
            wave_id=wave.id,
            questionnaire_code=questionnaire_code,
            name=row.name,
            group=row.group,
            agency=row.agency,
            unit=row.unit,
            email=row.email,
            phone=row.phone,
        )
        for row in invitees.rows
    ]
    session.add_all(people)
    session.flush()
    tokens = [new_token() for _person in people]
    session.add_all(
        Invitation(
            wave_id=wave.id,
            questionnaire_code=questionnaire_code,
            token_hash=token_hash(token),
            invitee_id=person.id,
        )
        for person, token in zip(people, tokens, strict=True)
    )
    session.flush()
    audit.record(
        session,
        "invitations_imported",
        {
            "wave": wave.code,
            "questionnaire": questionnaire_code,
            "count": len(people),
            "file": os.path.basename(file_name)[:200],
        },
    )
    return [
        IssuedLink(p.name, p.group, p.agency, p.unit, p.email, personal_link(base_url, lang, t))
        for p, t in zip(people, tokens, strict=True)
    ]


def links_csv_chunks(links: Iterable[IssuedLink]) -> Iterator[str]:
    """The links as CSV text; written as utf-8-sig, so that Excel shows Vietnamese right."""
    from analysis.export import csv_chunks  # with pandas: not for every command (stats/chain.py)

    rows = ([getattr(link, c) or "" for c in LINK_COLUMNS] for link in links)
    return csv_chunks(list(LINK_COLUMNS), rows)


def links_csv_bytes(links: Iterable[IssuedLink]) -> bytes:
    return "".join(links_csv_chunks(links)).encode("utf-8-sig")


#: The columns of the list of invitees an admin may download (personal data, never the answers).
INVITEE_COLUMNS = ("group", "agency", "unit", "name", "email", "phone")


def invitee_count(
    session: Session, wave_id: int, questionnaire_code: str, erased: bool = False
) -> int:
    """How many invitees still have their identity (or, `erased`, have it erased)."""
    return session.scalar(
        select(func.count(Invitee.id)).where(
            Invitee.wave_id == wave_id,
            Invitee.questionnaire_code == questionnaire_code,
            Invitee.erased_on.is_not(None) if erased else Invitee.erased_on.is_(None),
        )
    )


def invitees_csv_chunks(session: Session, wave_id: int, questionnaire_code: str) -> Iterator[str]:
    """The invitees of a questionnaire in a wave as CSV text, in the order they were imported;
    read as the download streams (a generator, so the query runs inside the response). Erased
    identities are not in it: not even as empty rows."""
    people = session.scalars(
        select(Invitee)
        .where(
            Invitee.wave_id == wave_id,
            Invitee.questionnaire_code == questionnaire_code,
            Invitee.erased_on.is_(None),
        )
        .order_by(Invitee.id)
    )
    rows = ([getattr(person, c) or "" for c in INVITEE_COLUMNS] for person in people)
    from analysis.export import csv_chunks

    yield from csv_chunks(list(INVITEE_COLUMNS), rows)


# --- answering --------------------------------------------------------------------------------


def invitation_by_token(session: Session, token: str) -> Invitation | None:
    """The invitation of a personal link; None for a token no link could carry."""
    if not 16 <= len(token) <= 128:
        return None
    return session.scalars(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    ).first()


def mark_opened(session: Session, invitation_id: int) -> None:
    """The link was followed (its token exchanged for the invitee's session)."""
    session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.status == "issued")
        .values(status="opened")
    )


def claim_completion(session: Session, invitation_id: int) -> bool:
    """Mark the invitation answered before the last page is stored, in a transaction of its
    own; False if it is answered (or revoked) already, so one invitation never gives two
    responses. The answers are written in a later transaction (docs/security.md)."""
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.status.in_(NEEDS_REMINDER))
        .values(status="complete", completed_on=utcnow().date())
    )
    return claimed.rowcount == 1


def release_completion(session: Session, invitation_id: int) -> None:
    """Undo `claim_completion` when the last page was not stored after all."""
    session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.status == "complete")
        .values(status="opened", completed_on=None)
    )


# --- revoking and reissuing ---------------------------------------------------------------------


def _locked_invitation(session: Session, invitation_id: int) -> Invitation:
    invitation = session.scalars(
        select(Invitation).where(Invitation.id == invitation_id).with_for_update()
    ).first()
    if invitation is None:
        raise LookupError(invitation_id)
    return invitation


def revoke(session: Session, invitation_id: int) -> Invitation:
    """Withdraw a link: it then shows "not valid". A complete invitation keeps its answers."""
    invitation = _locked_invitation(session, invitation_id)
    if invitation.status == "complete":
        raise InvitationError(
            _("This invitation has been answered already; there is nothing left to revoke.")
        )
    if invitation.status == "revoked":
        raise InvitationError(_("This invitation is revoked already."))
    invitation.status = "revoked"
    return invitation


def reissue(session: Session, invitation_id: int) -> tuple[Invitation, str]:
    """A new token for the same invitee; the old link stops working at once.

    Answers saved under the old link can still be reached with the resume code shown on
    every page (the response knows nothing of the invitation).
    """
    invitation = _locked_invitation(session, invitation_id)
    if invitation.status == "complete":
        raise InvitationError(
            _("This invitation has been answered already; a new link would let them answer twice.")
        )
    if invitation.invitee_id is not None:
        person = session.get(Invitee, invitation.invitee_id)
        if person is not None and person.erased_on is not None:
            raise InvitationError(
                _("This person's identity is erased: there is nobody to send a new link to.")
            )
    token = new_token()
    invitation.token_hash = token_hash(token)
    invitation.status = "issued"
    invitation.issued_on = utcnow().date()
    return invitation, token


# --- listing ------------------------------------------------------------------------------------


def status_counts(session: Session, wave_id: int, questionnaire_code: str) -> dict[str, int]:
    rows = session.execute(
        select(Invitation.status, func.count(Invitation.id))
        .where(Invitation.wave_id == wave_id, Invitation.questionnaire_code == questionnaire_code)
        .group_by(Invitation.status)
    ).all()
    counts = Counter(dict(rows))
    return {
        "issued": counts["issued"],
        "opened": counts["opened"],
        "complete": counts["complete"],
        "revoked": counts["revoked"],
        "reminder": sum(counts[s] for s in NEEDS_REMINDER),
        "total": sum(counts.values()),
    }


def invited_questionnaires(session: Session) -> list[tuple[Wave, str]]:
    """Every (wave, questionnaire) pair whose questionnaire is answered by invitation."""
    invited: dict[str, bool] = {}
    found = []
    for wave, code in wave_questionnaires(session):
        if code not in invited:
            invited[code] = by_invitation(session, code)
        if invited[code]:
            found.append((wave, code))
    return found


def invitation_rows(
    session: Session,
    wave_id: int,
    questionnaire_code: str,
    status: str | None = None,
    reminder: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[tuple[Invitation, Invitee | None]], int]:
    """Invitations with their invitee (none for links issued in bulk), by agency and name, and
    how many there are in all under the filter."""
    where = [Invitation.wave_id == wave_id, Invitation.questionnaire_code == questionnaire_code]
    if status:
        where.append(Invitation.status == status)
    if reminder:
        where.append(Invitation.status.in_(NEEDS_REMINDER))
    total = session.scalar(select(func.count(Invitation.id)).where(*where))
    query = (
        select(Invitation, Invitee)
        .outerjoin(Invitee, Invitee.id == Invitation.invitee_id)
        .where(*where)
        .order_by(Invitee.agency, Invitee.name, Invitation.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return [tuple(row) for row in session.execute(query).all()], total
