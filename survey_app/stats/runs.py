"""Analysis runs in the background: a thread pool in the app process, progress in the database.

A run row is created as ``queued``; a worker thread (with its own app context and session) sets
``running``, writes its progress as the chain goes, and ends ``done`` with a small summary or
``failed`` with the reason. The files live in ``<STATS_DIR>/runs/<run id>/``.
"""

from __future__ import annotations

import logging
import secrets
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import AnalysisRun, Wave, utcnow
from .chain import ChainError, Parameters, compute

log = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="analysis-run")
        return _executor


def stats_dir(app: Flask | None = None) -> Path:
    app = app or current_app
    return Path(app.config["STATS_DIR"])


def run_dir(run_id: int, app: Flask | None = None) -> Path:
    return stats_dir(app) / "runs" / str(run_id)


def inputs_dir(wave: Wave, app: Flask | None = None) -> Path:
    return stats_dir(app) / "inputs" / str(wave.id)


def questionnaire_dir(app: Flask | None = None) -> str:
    return (app or current_app).config["QUESTIONNAIRE_DIR"]


def start(session: Session, wave: Wave, params: Parameters, created_by: str) -> AnalysisRun:
    """Queue a run (in the caller's transaction; submit it with `submit` after the commit)."""
    run = AnalysisRun(
        wave_id=wave.id,
        kind="score",
        status="queued",
        progress=0,
        message="",
        parameters=params.as_json(),
        result={},
        created_by=created_by,
    )
    session.add(run)
    session.flush()
    return run


def submit(run_id: int) -> Future:
    app = current_app._get_current_object()
    return executor().submit(_work, app, run_id)


def _update(run_id: int, **values) -> None:
    with db.transaction() as session:
        run = session.get(AnalysisRun, run_id)
        for key, value in values.items():
            setattr(run, key, value)


def _work(app: Flask, run_id: int) -> None:
    with app.app_context():
        try:
            run = db.session.get(AnalysisRun, run_id)
            wave = db.session.get(Wave, run.wave_id)
            params = Parameters.from_json(run.parameters)
            db.session.commit()
            _update(run_id, status="running", progress=1, message="start")

            def progress(percent: int, step: str) -> None:
                _update(run_id, progress=min(99, percent), message=step)

            out = run_dir(run_id, app)
            summary = compute(db.session, wave, params, out, questionnaire_dir(app), progress)
            _update(
                run_id,
                status="done",
                progress=100,
                message="",
                result=summary,
                finished_at=utcnow(),
            )
        except ChainError as exc:
            db.session.rollback()
            _update(
                run_id,
                status="failed",
                message=str(exc),
                result={"failure": "input"},
                finished_at=utcnow(),
            )
        except Exception:  # noqa: BLE001 - a failed run must say so, whatever happened
            # not the statistician's input: the trace goes to the log under a reference they
            # can pass on, the page says the program failed
            reference = f"run-{run_id}-{secrets.token_hex(4)}"
            log.exception("analysis run %s failed (reference %s)", run_id, reference)
            db.session.rollback()
            _update(
                run_id,
                status="failed",
                message=reference,
                result={"failure": "program", "reference": reference},
                finished_at=utcnow(),
            )
        finally:
            db.session.remove()


def runs_of(session: Session, wave: Wave) -> list[AnalysisRun]:
    """The wave's runs, the newest first."""
    return list(
        session.scalars(
            select(AnalysisRun)
            .where(AnalysisRun.wave_id == wave.id)
            .order_by(AnalysisRun.id.desc())
        )
    )


def latest_done(session: Session, wave: Wave) -> AnalysisRun | None:
    return session.scalars(
        select(AnalysisRun)
        .where(AnalysisRun.wave_id == wave.id, AnalysisRun.status == "done")
        .order_by(AnalysisRun.id.desc())
        .limit(1)
    ).first()
