"""E-mail invitations and reminders, sent in the background at a set rate.

An admin writes a sending (`create_mailing`): who gets it is decided then (an invitation for
those never mailed, a reminder for those who have not completed; never an erased identity, an
opted-out person or a revoked link), and the sending goes to the job queue (`jobs`:
procrastinate on PostgreSQL, the app's threads on SQLite). The job (`send_mailing`) sends one
message every 60/per_minute seconds, and records for each invitee sent or failed with the
server's reason.

A sending whose process died is resumed once it has made no progress for MAIL_STALE_SECONDS
(`recover_stalled`, run by the workers, or by the app where it sends itself; `resume` is also
the admin's button): the process's hold is a compare-and-set on `beat_at`, and each message is
marked before it goes, so that nobody is mailed twice (docs/security.md). A sending resumed
AUTO_RESUMES times without a message's outcome recorded in between fails the same way each time:
the workers leave it, and the admin sees it stopped, with the button.

The link needs the token, which the invitation keeps only as a hash: the first mailing to an
invitee draws a new token (the link of an earlier links file stops working) and keeps it sealed
in `mail_link` (AES-GCM, key derived from SECRET_KEY, bound to the invitation's id), so that
reminders carry the same link. It is never logged. Erasing the identity deletes it, with the
servers' reasons, which may name the address (`forget`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import os
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from analysis.languages import LANGUAGES

from .. import jobs
from ..accounts import audit
from ..extensions import db
from ..models import (
    Invitation,
    Invitee,
    MailDelivery,
    Mailing,
    MailLink,
    MailOptOut,
    Wave,
    utcnow,
)
from ..questionnaire.store import latest_version
from . import mail_templates, smtp
from .invitations import NEEDS_REMINDER, personal_link
from .tokens import new_token, token_hash

log = logging.getLogger(__name__)

TASK = "par_survey.send_mailing"
QUEUE = "mail"
LANGS = LANGUAGES
KINDS = ("invitation", "reminder")
#: The reason of a message whose process stopped while handing it to the server.
INTERRUPTED = "interrupted"


# --- sealing the token --------------------------------------------------------------------------


def _derived(secret_key: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret_key.encode()
    )


def seal_token(secret_key: str, invitation_id: int, token: str) -> bytes:
    nonce = os.urandom(12)
    aead = AESGCM(_derived(secret_key, b"par-survey mail links"))
    return nonce + aead.encrypt(nonce, token.encode(), f"invitation:{invitation_id}".encode())


def open_token(secret_key: str, invitation_id: int, sealed: bytes) -> str | None:
    """The token, or None when it was sealed under another key or for another invitation."""
    aead = AESGCM(_derived(secret_key, b"par-survey mail links"))
    try:
        plain = aead.decrypt(sealed[:12], sealed[12:], f"invitation:{invitation_id}".encode())
    except InvalidTag:
        return None
    return plain.decode()


# --- opting out ---------------------------------------------------------------------------------


def optout_signature(secret_key: str, invitee_id: int) -> str:
    key = _derived(secret_key, b"par-survey mail opt-out")
    digest = hmac.new(key, f"optout:{invitee_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def optout_link(base_url: str, lang: str, secret_key: str, invitee_id: int) -> str:
    signature = optout_signature(secret_key, invitee_id)
    return f"{base_url.rstrip('/')}/{lang}/optout/{invitee_id}/{signature}"


def optout_valid(secret_key: str, invitee_id: int, signature: str) -> bool:
    # as bytes: compare_digest refuses str with characters beyond ASCII (a hostile address)
    given = (signature or "").encode("utf-8", "replace")
    return hmac.compare_digest(optout_signature(secret_key, invitee_id).encode(), given)


def opt_out(session: Session, invitee_id: int) -> bool:
    """Record that this person wants no more mail; queued messages to them are skipped. False
    when they had opted out already."""
    if session.get(MailOptOut, invitee_id) is not None:
        return False
    session.add(MailOptOut(invitee_id=invitee_id))
    _skip_queued(session, [invitee_id], "opted out")
    session.flush()
    return True


def _skip_queued(session: Session, invitee_ids: list[int], reason: str) -> None:
    invitations = select(Invitation.id).where(Invitation.invitee_id.in_(invitee_ids))
    session.execute(
        update(MailDelivery)
        .where(MailDelivery.invitation_id.in_(invitations), MailDelivery.status == "queued")
        .values(status="skipped", reason=reason)
    )


def forget(session: Session, invitee_ids: list[int]) -> None:
    """What mailing kept about these people, for an erasure: the sealed links, the servers'
    reasons (they may name the address); queued messages are skipped."""
    invitations = select(Invitation.id).where(Invitation.invitee_id.in_(invitee_ids))
    session.execute(delete(MailLink).where(MailLink.invitation_id.in_(invitations)))
    _skip_queued(session, invitee_ids, "erased")
    session.execute(
        update(MailDelivery)
        .where(MailDelivery.invitation_id.in_(invitations))
        .values(reason=None)
        .where(MailDelivery.status != "skipped")
    )


# --- choosing recipients and writing a sending --------------------------------------------------


def recipients(
    session: Session, wave_id: int, questionnaire_code: str, kind: str
) -> list[tuple[Invitation, Invitee]]:
    """Whom a sending of `kind` would reach now: invitees with an e-mail, not erased, not opted
    out, whose link waits for an answer; for an invitation, only those never mailed."""
    query = (
        select(Invitation, Invitee)
        .join(Invitee, Invitee.id == Invitation.invitee_id)
        .where(
            Invitation.wave_id == wave_id,
            Invitation.questionnaire_code == questionnaire_code,
            Invitation.status.in_(NEEDS_REMINDER),
            Invitee.erased_on.is_(None),
            Invitee.email.is_not(None),
            Invitee.email != "",
            ~exists().where(MailOptOut.invitee_id == Invitee.id),
        )
        .order_by(Invitee.agency, Invitee.name, Invitation.id)
    )
    if kind == "invitation":
        query = query.where(
            ~exists().where(
                MailDelivery.invitation_id == Invitation.id, MailDelivery.status == "sent"
            )
        )
    return [tuple(row) for row in session.execute(query).all()]


def _ensure_link(session: Session, secret_key: str, invitation: Invitation) -> None:
    kept = session.get(MailLink, invitation.id)
    if kept is not None and kept.token_hash == invitation.token_hash:
        return
    token = new_token()
    invitation.token_hash = token_hash(token)
    sealed = seal_token(secret_key, invitation.id, token)
    if kept is None:
        session.add(
            MailLink(invitation_id=invitation.id, token_hash=invitation.token_hash, sealed=sealed)
        )
    else:
        kept.token_hash, kept.sealed = invitation.token_hash, sealed


def create_mailing(
    session: Session,
    *,
    wave: Wave,
    questionnaire_code: str,
    kind: str,
    language: str,
    subject: dict[str, str],
    body: dict[str, str],
    per_minute: int,
    base_url: str,
    secret_key: str,
    actor: str | None = None,
) -> Mailing:
    """Write a sending with a queued message per recipient and defer its job, in the caller's
    transaction; audited (counts only)."""
    people = recipients(session, wave.id, questionnaire_code, kind)
    # the kept links in a few queries, not one per recipient: `_ensure_link`'s `session.get`
    # then finds them in the session
    ids = [invitation.id for invitation, _person in people]
    for start in range(0, len(ids), 1000):
        session.scalars(
            select(MailLink).where(MailLink.invitation_id.in_(ids[start : start + 1000]))
        ).all()
    for invitation, _person in people:
        _ensure_link(session, secret_key, invitation)
    mailing = Mailing(
        wave_id=wave.id,
        questionnaire_code=questionnaire_code,
        kind=kind,
        language=language,
        subject=subject,
        body=body,
        per_minute=per_minute,
        base_url=base_url,
        created_by=actor,
        status="queued" if people else "done",
        finished_at=None if people else utcnow(),
    )
    session.add(mailing)
    session.flush()
    session.add_all(
        MailDelivery(mailing_id=mailing.id, invitation_id=invitation.id)
        for invitation, _person in people
    )
    audit.record(
        session,
        "mail_sending_started",
        {
            "wave": wave.code,
            "questionnaire": questionnaire_code,
            "kind": kind,
            "language": language,
            "count": len(people),
            "per_minute": per_minute,
            "mailing": mailing.id,
        },
    )
    session.flush()
    if people:
        mailing.job_id = jobs.defer(session, TASK, mailing_id=mailing.id)
    return mailing


# --- the words of one message -------------------------------------------------------------------


def _survey_title(session: Session, questionnaire_code: str, lang: str) -> str:
    version = latest_version(session, questionnaire_code)
    if version is None:
        return questionnaire_code
    from ..questionnaire.store import definition

    title = definition(version).title
    return title.get(lang) or next(iter(title.values()), questionnaire_code)


def _deadline(wave: Wave, lang: str) -> str:
    with force_locale(lang):
        if wave.closes_at is None:
            return _("the end of the survey")
        return format_datetime(wave.closes_at, "short")


def compose(
    session: Session,
    mailing_fields: dict,
    wave: Wave,
    person: Invitee,
    links: dict[str, str],
    optouts: dict[str, str],
) -> tuple[str, str]:
    """Subject and body for one invitee; `links` and `optouts` by language."""
    langs = LANGS if mailing_fields["language"] == "both" else (mailing_fields["language"],)
    subjects, bodies = [], []
    for lang in langs:
        values = {
            "name": person.name or "",
            "agency": person.agency or "",
            "survey": _survey_title(session, mailing_fields["questionnaire_code"], lang),
            "link": links[lang],
            "deadline": _deadline(wave, lang),
            "optout": optouts[lang],
        }
        subjects.append(mail_templates.fill(mailing_fields["subject"][lang], values))
        bodies.append(mail_templates.fill(mailing_fields["body"][lang], values))
    return " / ".join(subjects), "\n\n----------\n\n".join(bodies)


def preview(session: Session, fields: dict, wave: Wave, secret_key: str, base_url: str):
    """The message the first recipient would get, with an example link in place of theirs
    (previewing draws no token), and how many would get one."""
    people = recipients(session, wave.id, fields["questionnaire_code"], fields["kind"])
    if not people:
        return None, 0
    _invitation, person = people[0]
    links = {lang: personal_link(base_url, lang, "EXAMPLE-LINK") for lang in LANGS}
    optouts = {lang: optout_link(base_url, lang, secret_key, person.id) for lang in LANGS}
    subject, body = compose(session, fields, wave, person, links, optouts)
    return (person.email, subject, body), len(people)


# --- the job ------------------------------------------------------------------------------------


#: Resumes by the workers in a row, with no message's outcome recorded in between, after which
#: a sending is left to an admin: one that dies before any message (a message that cannot be
#: built) would otherwise be resumed every MAIL_STALE_SECONDS for ever.
AUTO_RESUMES = 3


def stale_after(app: Flask | None = None) -> dt.timedelta:
    """How long a sending not done may make no progress before its process counts as lost."""
    return dt.timedelta(seconds=(app or current_app).config["MAIL_STALE_SECONDS"])


def send_mailing(app: Flask, mailing_id: int) -> None:
    """Send a sending's queued messages, one per 60/per_minute seconds, each outcome recorded
    as it happens (a process that stops leaves the rest queued; running the job again sends
    only those). Nothing is raised."""
    with app.app_context():
        try:
            _send_all(app, mailing_id)
        except Exception:  # noqa: BLE001 - the deliveries say what was done
            log.exception("mailing %s stopped", mailing_id)
        finally:
            db.session.remove()


class _Lease:
    """A process's hold on a sending: `beat_at` as this process last wrote it. Each beat is a
    compare-and-set on that value, so a process that was only slow (a frozen VM) and finds its
    sending resumed by another stops instead of sending beside it."""

    def __init__(self, mailing_id: int, at: dt.datetime, stale: dt.timedelta) -> None:
        self.mailing_id, self.at = mailing_id, at
        # several beats within the silence allowed, whatever the rate of the sending
        self.every = max(0.2, stale.total_seconds() / 4)

    def beat(self, session: Session, progress: bool = False) -> bool:
        """Renew the hold (`progress`: a message's outcome was recorded, which also clears the
        count of resumes without one); False when another process holds it now."""
        now = utcnow()
        progressed = {"idle_resumes": 0} if progress else {}
        kept = session.execute(
            update(Mailing)
            .where(
                Mailing.id == self.mailing_id,
                Mailing.status == "sending",
                Mailing.beat_at == self.at,
            )
            .values(beat_at=now, **progressed)
        )
        if kept.rowcount != 1:
            log.warning("mailing %s: resumed by another process; this one stops", self.mailing_id)
            return False
        self.at = now
        return True

    def wait_until(self, moment: float) -> bool:
        """Sleep until time.monotonic() reaches `moment`, beating meanwhile; False once lost."""
        while True:
            left = moment - time.monotonic()
            if left <= 0:
                return True
            time.sleep(min(left, self.every))
            with db.transaction() as tx:
                if not self.beat(tx):
                    return False


def _claim(session: Session, mailing_id: int, stale: dt.timedelta) -> _Lease | None:
    """Take the sending for this process: one queued (new, or resumed), or one whose process
    has made no progress within `stale`. A second job for the same sending finds it taken.
    A message the lost process was handing to the server when it stopped may have arrived: it
    is recorded failed with that reason, never sent twice."""
    now = utcnow()
    claimed = session.execute(
        update(Mailing)
        .where(
            Mailing.id == mailing_id,
            or_(
                Mailing.status == "queued",
                and_(
                    Mailing.status == "sending",
                    or_(Mailing.beat_at.is_(None), Mailing.beat_at < now - stale),
                ),
            ),
        )
        .values(status="sending", beat_at=now)
    )
    if claimed.rowcount != 1:
        return None
    session.execute(
        update(MailDelivery)
        .where(
            MailDelivery.mailing_id == mailing_id,
            MailDelivery.status == "queued",
            MailDelivery.sent_at.is_not(None),
        )
        .values(status="failed", reason=INTERRUPTED, sent_at=None)
    )
    return _Lease(mailing_id, now, stale)


def stalled(mailing: Mailing, now: dt.datetime | None = None) -> bool:
    """Whether a sending that is not done has made no progress for MAIL_STALE_SECONDS: its
    process is lost (or, queued, it waits for one)."""
    now = now or utcnow()
    last = mailing.beat_at or mailing.created_at
    return mailing.status != "done" and last < now - stale_after()


def left_to_admin(mailing: Mailing, now: dt.datetime | None = None) -> bool:
    """Whether a stalled sending is no longer resumed by the workers: resumed AUTO_RESUMES times
    with no message's outcome recorded since."""
    return stalled(mailing, now) and mailing.idle_resumes >= AUTO_RESUMES


def resume(
    session: Session, mailing_id: int, *, actor: str | None = None, wait: bool = True
) -> Mailing:
    """Put a stalled sending back in the queue for its messages not yet sent, and defer its job;
    audited (by `actor`, else the admin of the request), and counted in `idle_resumes` until a
    message's outcome is recorded. Raises LookupError, or ValueError when it is done, not
    stalled, or resumed by someone else meanwhile (`wait=False`: also when another transaction
    holds it now).

    The row is locked, and the change is a compare-and-set on the state read: of two
    processes resuming the same sending at once, one does."""
    query = (
        select(Mailing)
        .where(Mailing.id == mailing_id)
        .with_for_update(skip_locked=not wait)
        .execution_options(populate_existing=True)
    )
    sending = session.scalars(query).one_or_none()
    if sending is None:
        if wait or session.get(Mailing, mailing_id) is None:
            raise LookupError(mailing_id)
        raise ValueError(mailing_id)
    now = utcnow()
    if not stalled(sending, now):
        raise ValueError(mailing_id)
    requeued = session.execute(
        update(Mailing)
        .where(
            Mailing.id == mailing_id,
            Mailing.status == sending.status,
            Mailing.beat_at.is_not_distinct_from(sending.beat_at),
        )
        .values(status="queued", beat_at=now, idle_resumes=Mailing.idle_resumes + 1)
        .execution_options(synchronize_session=False)
    )
    if requeued.rowcount != 1:
        raise ValueError(mailing_id)
    session.refresh(sending)
    wave = session.get(Wave, sending.wave_id)
    sending.job_id = jobs.defer(session, TASK, mailing_id=sending.id)
    remaining = session.scalar(
        select(func.count(MailDelivery.id)).where(
            MailDelivery.mailing_id == sending.id,
            MailDelivery.status == "queued",
            MailDelivery.sent_at.is_(None),  # one caught in flight is not sent again (`_claim`)
        )
    )
    audit.record(
        session,
        "mail_sending_resumed",
        {
            "wave": wave.code,
            "questionnaire": sending.questionnaire_code,
            "mailing": sending.id,
            "remaining": remaining,
            "resumes": sending.idle_resumes,
        },
        actor=actor,
    )
    return sending


def recover_stalled(app: Flask) -> list[int]:
    """Resume, as the system, every sending that has made no progress for MAIL_STALE_SECONDS
    (its worker was killed, its host restarted), except one not started whose job still waits
    behind others (`jobs.pending`) and one resumed AUTO_RESUMES times already without a message
    sent or refused since. Run by every worker now and then, and by the app itself where
    sendings run in its process (`jobs.register_recovery`). Returns the ids resumed."""
    if not smtp.configured(app.config):
        return []
    cutoff = utcnow() - stale_after(app)
    with db.transaction() as tx:
        silent = tx.execute(
            select(Mailing.id, Mailing.status).where(
                Mailing.status != "done",
                func.coalesce(Mailing.beat_at, Mailing.created_at) < cutoff,
                Mailing.idle_resumes < AUTO_RESUMES,
            )
        ).all()
        pending = {job.get("mailing_id") for job in jobs.pending(tx, TASK)} if silent else set()
    resumed = []
    for mailing_id, status in silent:
        if status == "queued" and mailing_id in pending:
            continue  # its job waits for a free worker, or has just been taken by one
        try:
            with db.transaction() as tx:
                resumes = resume(tx, mailing_id, actor="system", wait=False).idle_resumes
        except (LookupError, ValueError):
            continue  # done meanwhile, or another process resumes it
        log.warning("mailing %s: no progress for %s; resumed", mailing_id, stale_after(app))
        if resumes >= AUTO_RESUMES:
            log.error(
                "mailing %s: resumed %s times without a message sent or refused; if it stops "
                "again it is left to an admin (see the errors logged above)",
                mailing_id,
                resumes,
            )
        resumed.append(mailing_id)
    return resumed


def _send_all(app: Flask, mailing_id: int) -> None:
    secret = app.config["SECRET_KEY"]
    with db.transaction() as tx:
        lease = _claim(tx, mailing_id, stale_after(app))
        if lease is None:
            return
        interval = 60.0 / tx.get(Mailing, mailing_id).per_minute
    last_end: float | None = None
    with smtp.Connection(app.config) as connection:
        while True:
            job = _next_message(mailing_id, secret)
            if job is None:
                break
            delivery_id, message = job
            if message is None:
                continue
            # counted from the end of a message: the server sees them at least `interval` apart
            # (never faster than the rate, however long a connection took)
            if last_end is not None and not lease.wait_until(last_end + interval):
                return
            taken = _hand_over(lease, delivery_id)
            if taken is None:
                return
            if not taken:
                continue
            to, subject, body, headers = message
            try:
                connection.send(to, subject, body, headers)
            except smtp.Refused as exc:
                outcome = ("failed", str(exc))
                log.info("mailing %s: message %s refused", mailing_id, delivery_id)
            else:
                outcome = ("sent", None)
            last_end = time.monotonic()
            if not _record(lease, delivery_id, *outcome):
                return
    with db.transaction() as tx:
        tx.execute(
            update(Mailing)
            .where(
                Mailing.id == mailing_id, Mailing.status == "sending", Mailing.beat_at == lease.at
            )
            .values(status="done", finished_at=utcnow())
        )


def _hand_over(lease: _Lease, delivery_id: int) -> bool | None:
    """Mark the message as being handed to the server (`sent_at` set while still queued), in
    the transaction that checks the lease: True to send it, False when it is no longer queued
    (an opt-out meanwhile), None when the sending was resumed by another process."""
    with db.transaction() as tx:
        if not lease.beat(tx):
            return None
        marked = tx.execute(
            update(MailDelivery)
            .where(
                MailDelivery.id == delivery_id,
                MailDelivery.status == "queued",
                MailDelivery.sent_at.is_(None),
            )
            .values(sent_at=utcnow())
        )
        return marked.rowcount == 1


def _next_message(mailing_id: int, secret: str):
    """(delivery id, message or None when skipped), or None when none is queued."""
    with db.transaction() as tx:
        delivery = tx.scalars(
            select(MailDelivery)
            .where(
                MailDelivery.mailing_id == mailing_id,
                MailDelivery.status == "queued",
                MailDelivery.sent_at.is_(None),
            )
            .order_by(MailDelivery.id)
            .limit(1)
        ).first()
        if delivery is None:
            return None
        mailing = tx.get(Mailing, mailing_id)
        invitation = tx.get(Invitation, delivery.invitation_id)
        person = tx.get(Invitee, invitation.invitee_id)
        why_not = _why_not(tx, mailing, invitation, person)
        kept = tx.get(MailLink, invitation.id)
        token = None
        if why_not is None:
            if kept is None or kept.token_hash != invitation.token_hash:
                why_not = "link reissued"
            else:
                token = open_token(secret, invitation.id, kept.sealed)
                why_not = None if token else "link sealed under another key"
        if why_not is not None:
            delivery.status, delivery.reason = "skipped", why_not
            mailing.idle_resumes = 0  # an outcome, as much as a message sent
            return delivery.id, None
        base = mailing.base_url
        links = {lang: personal_link(base, lang, token) for lang in LANGS}
        optouts = {lang: optout_link(base, lang, secret, person.id) for lang in LANGS}
        fields = {
            "language": mailing.language,
            "questionnaire_code": mailing.questionnaire_code,
            "subject": mailing.subject,
            "body": mailing.body,
        }
        wave = tx.get(Wave, mailing.wave_id)
        subject, body = compose(tx, fields, wave, person, links, optouts)
        first = mailing.language if mailing.language in LANGS else LANGS[0]
        headers = {"List-Unsubscribe": f"<{optouts[first]}>"}
        return delivery.id, (person.email, subject, body, headers)


def _why_not(session: Session, mailing: Mailing, invitation: Invitation, person) -> str | None:
    """Why a queued message is no longer to be sent (things change while a sending runs)."""
    if person is None or person.erased_on is not None or not person.email:
        return "erased"
    if session.get(MailOptOut, person.id) is not None:
        return "opted out"
    if invitation.status not in NEEDS_REMINDER:
        return invitation.status
    return None


def _record(lease: _Lease, delivery_id: int, status: str, reason: str | None) -> bool:
    """The message's outcome, kept whoever holds the sending now (it did go, or fail); False
    when the sending was resumed by another process meanwhile."""
    with db.transaction() as tx:
        delivery = tx.get(MailDelivery, delivery_id)
        delivery.status, delivery.reason = status, reason
        delivery.sent_at = utcnow() if status == "sent" else None
        tx.flush()
        return lease.beat(tx, progress=True)


jobs.register_task(TASK, QUEUE, send_mailing)
jobs.register_recovery(TASK, recover_stalled, lambda app: stale_after(app).total_seconds())


# --- what the invitations page shows ------------------------------------------------------------


def last_deliveries(session: Session, invitation_ids: list[int]) -> dict[int, MailDelivery]:
    """Each invitation's latest message, by invitation id."""
    if not invitation_ids:
        return {}
    rows = session.scalars(
        select(MailDelivery)
        .where(MailDelivery.invitation_id.in_(invitation_ids))
        .order_by(MailDelivery.id)
    ).all()
    return {row.invitation_id: row for row in rows}


def opted_out(session: Session, invitee_ids: list[int]) -> set[int]:
    if not invitee_ids:
        return set()
    return set(
        session.scalars(select(MailOptOut.invitee_id).where(MailOptOut.invitee_id.in_(invitee_ids)))
    )


def mailings(session: Session, wave_id: int, questionnaire_code: str) -> list[Mailing]:
    return list(
        session.scalars(
            select(Mailing)
            .where(Mailing.wave_id == wave_id, Mailing.questionnaire_code == questionnaire_code)
            .order_by(Mailing.id.desc())
        )
    )


def mailing_counts(session: Session, mailing_id: int) -> dict[str, int]:
    rows = session.execute(
        select(MailDelivery.status, func.count(MailDelivery.id))
        .where(MailDelivery.mailing_id == mailing_id)
        .group_by(MailDelivery.status)
    ).all()
    return dict(rows)
