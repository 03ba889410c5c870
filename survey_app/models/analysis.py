"""Analysis runs: a weighting-and-scoring chain run for a wave in the background, with progress."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .core import Wave

RUN_STATUSES = ("queued", "running", "done", "failed")


class AnalysisRun(Base):
    """One run of the chain (weights, estimates, scores, index) for a wave; files in runs/<id>."""

    __tablename__ = "analysis_run"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), index=True)
    #: What was run: "score" (the whole chain) for now.
    kind: Mapped[str] = mapped_column(String(32), default="score")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: Percent done, written by the worker as it goes.
    progress: Mapped[int] = mapped_column(Integer, default=0)
    #: The current step while running; the reason (a sentence) when failed.
    message: Mapped[str] = mapped_column(Text, default="")
    #: Method, bounds, trim, scheme, unit code, which input files were used.
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Small: weighting diagnostics, headline figures, the names of the files written.
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The e-mail of who started it (kept as written, like the audit log).
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    wave: Mapped[Wave] = relationship()
