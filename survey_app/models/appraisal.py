"""Appraisal: rated units, rounds, each criterion's self-assessed and appraised points with their
history, evidence, and each unit's submission and answer (DOMAIN.md, "Appraisal")."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

ROUND_STATUSES = ("open", "published", "final")
POINT_KINDS = ("self", "appraised")
EVIDENCE_STAGES = ("self", "answer")


def _points() -> Numeric:
    # Points as the scheme writes them (1.5, 0.25): exact decimals, read back as floats.
    return Numeric(7, 3, asdecimal=False)


class RatedUnit(Base):
    """A unit ranked in a block year after year: a department, a district, a central agency."""

    __tablename__ = "rated_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The unit's code in the index files (``unit_code``).
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The scheme's block code the unit is ranked in.
    block: Mapped[str] = mapped_column(String(64), index=True)


class AppraisalRound(Base):
    """One year's appraisal of one block, against one scheme file's appraisal criteria."""

    __tablename__ = "appraisal_round"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'published', 'final')", name="status_known"),
        CheckConstraint("points_step > 0", name="step_positive"),
        UniqueConstraint("year", "block"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    block: Mapped[str] = mapped_column(String(64))
    #: The scheme file's name in questionnaires/scoring/ (``par2022.yaml``).
    scheme: Mapped[str] = mapped_column(String(200))
    #: Points are given in multiples of this (0.25 lets 1.5 be 0, 0.25, ..., 1.5).
    points_step: Mapped[float] = mapped_column(_points(), default=0.25)
    #: open: units self-assess, appraisers score; published: units see the council's points and
    #: may answer; final: nothing changes any more.
    status: Mapped[str] = mapped_column(String(16), default="open")
    self_deadline: Mapped[dt.datetime] = mapped_column(DateTime)
    answer_opens_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    answer_closes_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finalised_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: When an admin last brought the round back from published or final to appraisal, and why
    #: (every reopening is in the audit log; the page shows the last).
    reopened_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reopen_reason: Mapped[str | None] = mapped_column(Text)


class AppraiserScope(Base):
    """One unit or one whole block an appraiser re-scores. An appraiser's set is every row of
    theirs; an appraiser with no row re-scores every block (DOMAIN.md, "Appraisal")."""

    __tablename__ = "appraiser_scope"
    __table_args__ = (
        CheckConstraint(
            "(unit_id IS NOT NULL AND block IS NULL) OR (unit_id IS NULL AND block IS NOT NULL)",
            name="unit_or_block",
        ),
        # named in full: the convention would name both after their first column
        UniqueConstraint("user_id", "unit_id", name="uq_appraiser_scope_user_unit"),
        UniqueConstraint("user_id", "block", name="uq_appraiser_scope_user_block"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    # RESTRICT, not CASCADE: an appraiser whose last unit went would have no row left, which
    # reads as every block (fail open); a unit someone appraises is taken out of sets first.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("rated_unit.id", ondelete="RESTRICT"))
    #: A block code: every unit of it, and what needs the whole block (finalising, the file).
    block: Mapped[str | None] = mapped_column(String(64))


class AppraisalReturn(Base):
    """One unit's part in a round: whether it has submitted, its one answer, the council's
    verdict on it."""

    __tablename__ = "appraisal_return"
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("appraisal_round.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("rated_unit.id", ondelete="CASCADE"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    submitted_by: Mapped[str | None] = mapped_column(String(254))
    #: The unit's one answer to the council's points, once published.
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    answered_by: Mapped[str | None] = mapped_column(String(254))
    #: When an appraiser last saved every criterion's points for the unit.
    appraised_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: The appraiser's note on the answer (considered, points changed or not).
    answer_considered: Mapped[str | None] = mapped_column(Text)

    round: Mapped[AppraisalRound] = relationship()
    unit: Mapped[RatedUnit] = relationship()


class CriterionScore(Base):
    """A unit's points on one appraisal criterion: its own, then the council's."""

    __tablename__ = "criterion_score"
    __table_args__ = (
        UniqueConstraint("return_id", "criterion"),
        CheckConstraint("self_points >= 0", name="self_not_negative"),
        CheckConstraint("appraised_points >= 0", name="appraised_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("appraisal_return.id", ondelete="CASCADE"), index=True
    )
    #: The scheme's criterion code (``1.5``).
    criterion: Mapped[str] = mapped_column(String(64))
    self_points: Mapped[float | None] = mapped_column(_points())
    #: Why the unit gives these points; required where it gives points without evidence.
    explanation: Mapped[str | None] = mapped_column(Text)
    appraised_points: Mapped[float | None] = mapped_column(_points())
    #: The council's reason; required where its points differ from the unit's.
    comment: Mapped[str | None] = mapped_column(Text)


class PointChange(Base):
    """Every change of a criterion's points: who, when, before, after, why."""

    __tablename__ = "point_change"
    __table_args__ = (CheckConstraint("kind IN ('self', 'appraised')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(
        ForeignKey("criterion_score.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    before: Mapped[float | None] = mapped_column(_points())
    after: Mapped[float | None] = mapped_column(_points())
    reason: Mapped[str | None] = mapped_column(Text)
    #: Kept as written at the time, like the audit log.
    actor: Mapped[str] = mapped_column(String(254))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Evidence(Base):
    """A document behind a criterion's points: an uploaded file (kept in `stored_file`, every
    host sees it) or a link to one already published."""

    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint("stage IN ('self', 'answer')", name="stage_known"),
        CheckConstraint(
            "(file_key IS NOT NULL AND url IS NULL) OR (file_key IS NULL AND url IS NOT NULL)",
            name="file_or_link",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(
        ForeignKey("criterion_score.id", ondelete="CASCADE"), index=True
    )
    #: self: given with the self-assessment; answer: given with the unit's answer.
    stage: Mapped[str] = mapped_column(String(16), default="self")
    file_key: Mapped[str | None] = mapped_column(String(300))
    filename: Mapped[str | None] = mapped_column(String(200))
    #: The type found in the content (not the one the browser or the name claimed).
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(String(1000))
    added_by: Mapped[str] = mapped_column(String(254))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
