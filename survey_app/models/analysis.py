"""Analysis runs: a weighting-and-scoring chain run for a wave in the background, with progress;
and the files they read and write, kept in the database so that every host sees them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .core import Wave

RUN_STATUSES = ("queued", "running", "done", "failed")


class AnalysisRun(Base):
    """One run of the chain (weights, estimates, scores, index) for a wave; its files are
    `StoredFile` rows under ``runs/<id>/``."""

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
    #: How many times a worker has started it (a run whose worker died is started once more).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Written every few seconds while a worker computes it: a run left "running" with an old
    #: heartbeat has lost its worker.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: The job queue's id for it (procrastinate_jobs.id); None when it runs in the app's process.
    job_id: Mapped[int | None] = mapped_column(BigInteger)

    wave: Mapped[Wave] = relationship()


class StoredFile(Base):
    """A file every host reads the same: a run's inputs and results, a links file waiting for its
    one download. Keyed by a path-like name (``runs/12/scores.csv``); see `survey_app.storage`."""

    __tablename__ = "stored_file"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
