"""Analysis runs: what a run is made of, how a worker executes one, and what happens to a run
whose worker died. Where it executes (a worker process of the job queue, or a thread of the app's
process) is `queue`'s business.

A run row is created as ``queued`` with its own copy of the wave's input files; a worker sets it
``running`` (counting the attempt), beats every few seconds while the chain goes, writes its
progress, and ends it ``done`` with its files and a small summary, or ``failed`` with the reason.
Inputs and results are `storage` rows (``runs/<id>/inputs/...``, ``runs/<id>/out/...``), so any
host shows and serves them; the worker computes in a temporary folder of its own.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import tempfile
import threading
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from analysis.messages import to_json

from .. import storage
from ..extensions import db
from ..models import AnalysisRun, Wave, utcnow
from .chain import ChainError, Parameters, compute

log = logging.getLogger(__name__)

#: The kinds of input file a run may use, as its parameters name them.
INPUT_KINDS = ("targets", "appraisal", "previous")
#: A run is started at most this many times: a worker dying under it once is bad luck (a
#: restart, a machine lost); twice, and the run itself may be what kills it.
MAX_ATTEMPTS = 2


def wave_inputs(wave: Wave) -> str:
    """The folder (key prefix) of the input files uploaded for a wave."""
    return f"inputs/{wave.id}/"


def run_inputs(run_id: int) -> str:
    return f"runs/{run_id}/inputs/"


def run_outputs(run_id: int) -> str:
    return f"runs/{run_id}/out/"


def questionnaire_dir(app: Flask | None = None) -> str:
    return (app or current_app).config["QUESTIONNAIRE_DIR"]


def stale_after(app: Flask | None = None) -> dt.timedelta:
    """How long a running run may go without a heartbeat before its worker counts as dead."""
    return dt.timedelta(seconds=(app or current_app).config["RUN_STALE_SECONDS"])


def heartbeat_every(app: Flask | None = None) -> float:
    return max(0.5, stale_after(app).total_seconds() / 6)


def start(session: Session, wave: Wave, params: Parameters, created_by: str) -> AnalysisRun:
    """Create a queued run in the caller's transaction, with a copy of the inputs it uses: a
    file uploaded again later changes neither this run nor its retry."""
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
    for kind in INPUT_KINDS:
        name = getattr(params, kind)
        if name:
            content = storage.get(session, wave_inputs(wave) + name)
            if content is None:
                raise ValueError(f"the wave's {kind} file {name} is gone")
            storage.put(session, run_inputs(run.id) + name, content)
    return run


# ---------------------------------------------------------------------------------------------
# Executing a run (in a worker of the queue, or a thread of the app's process)


def _update(run_id: int, attempt: int | None = None, **values) -> bool:
    """Set values on the run, unless another attempt has taken it over since (`attempt`)."""
    with db.transaction() as session:
        run = session.get(AnalysisRun, run_id, with_for_update=True)
        if run is None or (attempt is not None and run.attempts != attempt):
            return False
        for key, value in values.items():
            setattr(run, key, value)
        return True


def _claim(run_id: int) -> int | None:
    """Mark the run running and count the attempt; None when it is finished already (a job
    delivered twice runs once) or gone."""
    with db.transaction() as session:
        run = session.get(AnalysisRun, run_id, with_for_update=True)
        if run is None or run.status in ("done", "failed"):
            return None
        run.status = "running"
        run.attempts += 1
        run.progress = 1
        run.message = "start"
        run.heartbeat_at = utcnow()
        return run.attempts


class _Heartbeat:
    """A thread that writes the run's heartbeat_at every few seconds until stopped: the sign,
    for whoever looks, that a worker is still on the run."""

    def __init__(self, app: Flask, run_id: int, attempt: int) -> None:
        self.app, self.run_id, self.attempt = app, run_id, attempt
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"run-{run_id}-heartbeat")

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        every = heartbeat_every(self.app)
        with self.app.app_context():
            try:
                while not self.stopped.wait(every):
                    try:
                        _update(self.run_id, self.attempt, heartbeat_at=utcnow())
                    except Exception:  # noqa: BLE001 - a missed beat is retried at the next
                        log.warning("run %s: heartbeat not written", self.run_id, exc_info=True)
                        db.session.remove()
            finally:
                db.session.remove()


def _local_parameters(run: AnalysisRun, folder: Path, app: Flask) -> Parameters:
    """The run's parameters with its inputs written into `folder`, and its scheme found in this
    host's questionnaire folder (the scheme ships with the app; only its name is kept)."""
    params = Parameters.from_json(run.parameters)
    params.scheme = str(Path(questionnaire_dir(app)) / "scoring" / Path(params.scheme).name)
    for kind in INPUT_KINDS:
        name = getattr(params, kind)
        if name:
            path = folder / Path(name).name
            path.write_bytes(storage.get(db.session, run_inputs(run.id) + Path(name).name) or b"")
            setattr(params, kind, str(path))
    return params


def execute(app: Flask, run_id: int) -> None:
    """Run the chain for one run, start to end; the body of the job and of the in-process
    thread alike. Every outcome is written on the run; nothing is raised."""
    with app.app_context():
        try:
            attempt = _claim(run_id)
            if attempt is None:
                return
            with _Heartbeat(app, run_id, attempt), tempfile.TemporaryDirectory() as work:
                _compute(app, run_id, attempt, Path(work))
        except Exception:  # noqa: BLE001 - the run is failed below; this is a last resort
            log.exception("analysis run %s could not be recorded", run_id)
        finally:
            db.session.remove()


def _compute(app: Flask, run_id: int, attempt: int, work: Path) -> None:
    try:
        run = db.session.get(AnalysisRun, run_id)
        wave = db.session.get(Wave, run.wave_id)
        params = _local_parameters(run, work, app)

        def progress(percent: int, step: str) -> None:
            _update(run_id, attempt, progress=min(99, percent), message=step)

        out = work / "out"
        summary = compute(db.session, wave, params, out, questionnaire_dir(app), progress)
        db.session.rollback()  # the chain's reads end here; the results go in one transaction
        with db.transaction() as session:
            run = session.get(AnalysisRun, run_id, with_for_update=True)
            if run.attempts != attempt or run.status != "running":
                log.warning("run %s: attempt %s was overtaken; results dropped", run_id, attempt)
                return
            storage.remove(session, run_outputs(run_id))
            for path in sorted(out.iterdir()):
                storage.put(session, run_outputs(run_id) + path.name, path.read_bytes())
            run.status, run.progress, run.message = "done", 100, ""
            run.result, run.finished_at = summary, utcnow()
    except ChainError as exc:
        db.session.rollback()
        _update(
            run_id,
            attempt,
            status="failed",
            message=str(exc),  # English, for the log and the database's reader
            # what the page says, in the language of whoever opens it
            result={"failure": "input", "reasons": [to_json(r) for r in exc.reasons]},
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
            attempt,
            status="failed",
            message=reference,
            result={"failure": "program", "reference": reference},
            finished_at=utcnow(),
        )


# ---------------------------------------------------------------------------------------------
# Runs whose worker died


def worker_lost(run: AnalysisRun, may_retry: bool = True) -> bool:
    """Record that the worker of a running run died. Returns True when the run is to be started
    again (it goes back to ``queued``), False when it has had its attempts (or `may_retry` is
    false) and is failed."""
    if may_retry and run.attempts < MAX_ATTEMPTS:
        run.status, run.progress, run.message = "queued", 0, "retry"
        run.heartbeat_at = None
        log.warning("run %s: its worker stopped; started again", run.id)
        return True
    run.status, run.message, run.finished_at = "failed", "", utcnow()
    run.result = {"failure": "worker", "attempts": run.attempts}
    log.error("run %s: its worker stopped %s times; failed", run.id, run.attempts)
    return False


def stale_runs(session: Session, now: dt.datetime | None = None) -> list[AnalysisRun]:
    """Running runs whose heartbeat is older than RUN_STALE_SECONDS (or that never beat: left
    running by a version before migration 0007), locked for the caller."""
    cutoff = (now or utcnow()) - stale_after()
    silent = or_(AnalysisRun.heartbeat_at < cutoff, AnalysisRun.heartbeat_at.is_(None))
    query = (
        select(AnalysisRun).where(AnalysisRun.status == "running", silent).order_by(AnalysisRun.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


# ---------------------------------------------------------------------------------------------
# Files of runs made before they were kept in the database (migration 0007)


def has_results(session: Session, run: AnalysisRun) -> bool:
    return storage.exists(session, run_outputs(run.id) + "scores.csv")


def import_folder(session: Session, folder: Path) -> tuple[int, int]:
    """Store what an old STATS_DIR holds: `runs/<id>/<file>` of finished runs whose results are
    not stored yet, and `inputs/<wave id>/<file>` of waves without that input; returns how many
    runs and input files were taken (nothing already stored is replaced)."""
    taken_runs = taken_inputs = 0
    for run_folder in sorted((folder / "runs").glob("*")):
        run = session.get(AnalysisRun, int(run_folder.name)) if run_folder.name.isdigit() else None
        if run is None or run.status != "done" or has_results(session, run):
            continue
        for name in (run.result or {}).get("files", []):
            path = run_folder / name
            if path.is_file():
                storage.put(session, run_outputs(run.id) + name, path.read_bytes())
        taken_runs += 1
    for wave_folder in sorted((folder / "inputs").glob("*")):
        wave = session.get(Wave, int(wave_folder.name)) if wave_folder.name.isdigit() else None
        if wave is None:
            continue
        stored = storage.names(session, wave_inputs(wave))
        for path in sorted(wave_folder.iterdir()):
            kept = path.name in stored or (
                path.name.startswith("appraisal.")
                and any(n.startswith("appraisal.") for n in stored)
            )
            if path.is_file() and not path.name.startswith(".") and not kept:
                storage.put(session, wave_inputs(wave) + path.name, path.read_bytes())
                taken_inputs += 1
    return taken_runs, taken_inputs


# ---------------------------------------------------------------------------------------------
# Listing


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
