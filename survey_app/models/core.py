"""Questionnaires, waves, invitations, responses and answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

RESPONSE_STATUSES = ("in_progress", "complete", "screened_out")
#: How a response reached us: answered on the web, or a paper form typed in by an interviewer.
RESPONSE_MODES = ("web", "paper")
INVITATION_STATUSES = ("issued", "opened", "complete", "revoked")
WAVE_STATUSES = ("draft", "open", "closed")


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
    #: {language: title}, one per language
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")
    #: UTC; a wave with status open takes responses only between these (either may be empty).
    opens_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closes_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    #: Invitees' names, e-mails and phones are erased after this day (Decree 13/2023: personal
    #: data kept only as long as the wave needs it); empty: kept until erased by hand.
    identities_kept_until: Mapped[dt.date | None] = mapped_column(Date)

    questionnaires: Mapped[list[WaveQuestionnaire]] = relationship(
        back_populates="wave", cascade="all, delete-orphan"
    )

    @property
    def questionnaire_codes(self) -> set[str]:
        return {q.questionnaire_code for q in self.questionnaires}


class WaveQuestionnaire(Base):
    __tablename__ = "wave_questionnaire"

    wave_id: Mapped[int] = mapped_column(
        ForeignKey("wave.id", ondelete="CASCADE"), primary_key=True
    )
    questionnaire_code: Mapped[str] = mapped_column(String(64), primary_key=True)

    wave: Mapped[Wave] = relationship(back_populates="questionnaires")


class Invitation(Base):
    """A personal link. It shares no column with `response`, and is never written in the
    transaction that writes answers: the link between an invitee and the answers exists only in
    the respondent's browser (docs/security.md)."""

    __tablename__ = "invitation"
    __table_args__ = (
        CheckConstraint(
            "status IN ('issued', 'opened', 'complete', 'revoked')",
            name="status_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    questionnaire_code: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the token (the token itself is only in the link given to the invitee).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: issued -> opened (the link was followed) -> complete; or revoked.
    status: Mapped[str] = mapped_column(String(16), default="issued")
    #: Days only, here and below: a moment could be matched with the server's access log.
    issued_on: Mapped[dt.date] = mapped_column(Date, default=lambda: utcnow().date())
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    #: The named person, for imported invitations (none for links issued in bulk).
    invitee_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitee.id", ondelete="CASCADE"), index=True
    )


class Response(Base):
    __tablename__ = "response"
    __table_args__ = (
        CheckConstraint(
            "status IN ('in_progress', 'complete', 'screened_out')", name="status_known"
        ),
        CheckConstraint("page_index >= 0 AND furthest_page >= page_index", name="pages_in_order"),
        CheckConstraint(
            "status <> 'complete' OR completed_at IS NOT NULL", name="complete_has_time"
        ),
        CheckConstraint("mode IN ('web', 'paper')", name="mode_known"),
        CheckConstraint("mode = 'paper' OR entered_by_id IS NULL", name="entered_by_only_on_paper"),
        CheckConstraint(
            "(invalidated_at IS NULL) = (invalid_reason IS NULL)", name="invalid_has_reason"
        ),
        Index("ix_response_wave_status", "wave_id", "questionnaire_code", "status"),
        #: For the dashboard: columns that change only at completion, none that a page save updates.
        Index(
            "ix_response_dashboard",
            "wave_id",
            "questionnaire_code",
            "status",
            "duration_seconds",
            "completed_at",
            "straightlined_grids",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    questionnaire_code: Mapped[str] = mapped_column(String(64))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    #: SHA-256 of the respondent's resume code, drawn at random when the first page is saved
    #: (for invitees too: nothing here comes from their token).
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    language: Mapped[str] = mapped_column(String(8))
    page_index: Mapped[int] = mapped_column(Integer, default=0)
    furthest_page: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: The quota cell, once every variable defining it has been answered.
    quota_cell_id: Mapped[int | None] = mapped_column(
        ForeignKey("quota_cell.id", ondelete="SET NULL"), index=True
    )
    #: Accepted although its quota cell was full (quotas set to flag rather than screen out).
    over_quota: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Seconds from start to completion; speeders are flagged against the median.
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    #: How many Likert grids were answered with the same option on every row.
    straightlined_grids: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Rewritten with a random id, its answers in random order, among a batch of finished
    #: responses to an invited questionnaire, so the order rows were written in says nothing
    #: of who finished when (`respond.sealing`).
    sealed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Answered by an admin trying the questionnaire out: never counted in quotas, dashboards,
    #: exports or weighting (`fieldwork.counted`), and wiped by an admin.
    test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: The site link (one-stop shop, district) the respondent came by, which answered the
    #: questionnaire's `site_item` for them.
    site_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("site_link.id", ondelete="SET NULL"), index=True
    )

    #: web, or paper: typed in from a paper form by `entered_by` (an interviewer, never the
    #: respondent: nothing here names who answered).
    mode: Mapped[str] = mapped_column(String(8), default="web", server_default="web")
    entered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), index=True
    )
    #: Set when an admin marks the response invalid (with the reason): it then counts nowhere,
    #: neither in quotas, the dashboard, exports nor weighting (`fieldwork.counted`), until
    #: restored. Who did it is in the audit log.
    invalidated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    invalid_reason: Mapped[str | None] = mapped_column(String(500))

    version: Mapped[QuestionnaireVersion] = relationship()


class Answer(Base):
    """One stored answer: its coded value as text (a multiple choice: values, space-separated)."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("response_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
