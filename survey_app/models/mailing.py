"""E-mail invitations and reminders: a sending (`Mailing`), what became of it for each invitee
(`MailDelivery`), the personal link kept sealed for the mails (`MailLink`), and who asked for no
more mail (`MailOptOut`). None of them shares a column with `response` (docs/security.md)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

MAILING_KINDS = ("invitation", "reminder")
DELIVERY_STATUSES = ("queued", "sent", "failed", "skipped")


class Mailing(Base):
    """One sending of invitations or reminders to the invitees of a questionnaire in a wave."""

    __tablename__ = "mailing"
    __table_args__ = (
        CheckConstraint("kind IN ('invitation', 'reminder')", name="kind_known"),
        CheckConstraint("status IN ('queued', 'sending', 'done')", name="status_known"),
        CheckConstraint("per_minute BETWEEN 1 AND 600", name="rate_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), index=True)
    questionnaire_code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    #: a language of the app, or "both": every language in one e-mail, one after the other
    language: Mapped[str] = mapped_column(String(8))
    #: {language: text} as the admin edited them for this sending, with placeholders.
    subject: Mapped[dict[str, str]] = mapped_column(JSON)
    body: Mapped[dict[str, str]] = mapped_column(JSON)
    per_minute: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    created_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    #: When the process sending it was last heard from (each message, and while it waits for
    #: the next): a sending silent for MAIL_STALE_SECONDS lost its process and is resumed.
    #: Also that process's lease: it beats by compare-and-set on the value it last wrote.
    beat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: The site's address in the links (PUBLIC_URL, or the address the admin used).
    base_url: Mapped[str] = mapped_column(String(300))
    #: Times it was resumed since the last message's outcome was recorded: a sending that fails
    #: the same way each time (a message that cannot be built) is resumed by the workers up to
    #: `fieldwork.mailing.AUTO_RESUMES` times, then left to an admin.
    idle_resumes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class MailDelivery(Base):
    """One message of a sending. The address is not copied here: it is read from the invitee
    when the message goes, so an erased identity is never mailed."""

    __tablename__ = "mail_delivery"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sent', 'failed', 'skipped')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(
        ForeignKey("mailing.id", ondelete="CASCADE"), index=True
    )
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: The SMTP server's answer when it refused, or why the message was not sent.
    reason: Mapped[str | None] = mapped_column(String(500))
    #: When the server took it; set on a message still `queued` while it is being handed over,
    #: so that a process lost in between leaves a trace and the message is not sent twice.
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class MailLink(Base):
    """The token of an invitation's link, sealed (AES-GCM under a key derived from SECRET_KEY),
    so that an invitation and its reminders carry the same link. `token_hash` says which token
    it is: after a reissue it no longer matches the invitation's, and the next mail mints anew."""

    __tablename__ = "mail_link"

    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class MailOptOut(Base):
    """A person who asked for no more mail about the survey, and the day they did."""

    __tablename__ = "mail_opt_out"

    invitee_id: Mapped[int] = mapped_column(
        ForeignKey("invitee.id", ondelete="CASCADE"), primary_key=True
    )
    opted_out_on: Mapped[dt.date] = mapped_column(Date, default=lambda: utcnow().date())
