"""Tables, as SQLAlchemy 2.0 typed mappings. Invariants live in the database as constraints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RESPONSE_STATUSES = ("in_progress", "complete")
INVITATION_STATUSES = ("issued", "opened", "in_progress", "complete", "revoked")
WAVE_STATUSES = ("draft", "open", "closed")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class QuestionnaireVersion(Base):
    """A snapshot of a questionnaire file as it was loaded; responses point at the one they used."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("access IN ('open', 'invitation')", name="access_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    group: Mapped[str] = mapped_column("respondent_group", String(16))
    access: Mapped[str] = mapped_column(String(16))
    #: SHA-256 of the canonical JSON of `definition`: an unchanged file loads as the same version.
    content_hash: Mapped[str] = mapped_column(String(64))
    #: The validated definition with shared scales and lists copied in, so it stands alone.
    #: Deferred: pages read the parsed definition from the process cache, not this column.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Wave(Base):
    """One round in the field, e.g. "PAR 2025 - Ha Tinh"."""

    __tablename__ = "wave"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status_known"),
        CheckConstraint(
            "closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at",
            name="closes_after_opening",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    #: {"vi": ..., "en": ...}
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")
    #: UTC; a wave with status open takes responses only between these (either may be empty).
    opens_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closes_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    questionnaires: Mapped[list[WaveQuestionnaire]] = relationship(
        back_populates="wave", cascade="all, delete-orphan"
    )


class WaveQuestionnaire(Base):
    __tablename__ = "wave_questionnaire"

    wave_id: Mapped[int] = mapped_column(
        ForeignKey("wave.id", ondelete="CASCADE"), primary_key=True
    )
    questionnaire_code: Mapped[str] = mapped_column(String(64), primary_key=True)

    wave: Mapped[Wave] = relationship(back_populates="questionnaires")


class Invitation(Base):
    """A personal link. It shares no column with `response`: the link between an invitee and the
    answers exists only in the token, which is never stored."""

    __tablename__ = "invitation"
    __table_args__ = (
        CheckConstraint(
            "status IN ('issued', 'opened', 'in_progress', 'complete', 'revoked')",
            name="status_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    questionnaire_code: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the token (the token itself is only in the link given to the invitee).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="issued")
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    #: Days only, so the moment of completion cannot be matched with a response's timestamps.
    completed_on: Mapped[dt.date | None] = mapped_column(Date)


class Response(Base):
    __tablename__ = "response"
    __table_args__ = (
        CheckConstraint("status IN ('in_progress', 'complete')", name="status_known"),
        CheckConstraint("page_index >= 0 AND furthest_page >= page_index", name="pages_in_order"),
        CheckConstraint(
            "status <> 'complete' OR completed_at IS NOT NULL", name="complete_has_time"
        ),
        Index("ix_response_wave_status", "wave_id", "questionnaire_code", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    questionnaire_code: Mapped[str] = mapped_column(String(64))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    #: SHA-256 of the respondent's secret (resume code or derived from the invitation token):
    #: unique, so one token can never hold two responses.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    language: Mapped[str] = mapped_column(String(8))
    page_index: Mapped[int] = mapped_column(Integer, default=0)
    furthest_page: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    version: Mapped[QuestionnaireVersion] = relationship()


class Answer(Base):
    """One stored answer: its coded value as text (a multiple choice: values, space-separated)."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("response_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
