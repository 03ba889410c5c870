"""The statisticians' rules: input files per wave, runs, the results of a run, and exports."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from flask_babel import gettext as _

from analysis import pipeline
from analysis.index import AppraisalError, check_appraisal, read_previous, read_table
from analysis.problems import FileInvalid
from analysis.scheme import Scheme
from analysis.scoring import COLUMNS as SCORE_COLUMNS
from analysis.targets import TargetError, read_targets

from ..models import AnalysisRun, Wave
from .chain import ChainError, Parameters, load
from .runs import inputs_dir, questionnaire_dir, run_dir

#: The stored name of each kind of input file.
INPUT_FILES = {"targets": "targets.csv", "appraisal": "appraisal", "previous": "previous.csv"}
DEFAULT_SCHEME = "par2022.yaml"


class InputInvalid(ValueError):
    """An uploaded file that cannot be used; the message (from `analysis`) says why."""


def scheme_dir() -> Path:
    return Path(questionnaire_dir()) / "scoring"


def schemes() -> list[str]:
    names = sorted(p.name for p in scheme_dir().glob("*.yaml"))
    if DEFAULT_SCHEME in names:
        names.remove(DEFAULT_SCHEME)
        names.insert(0, DEFAULT_SCHEME)
    return names


def scheme_path(name: str) -> Path:
    if name not in schemes():
        raise InputInvalid(f"unknown scheme {name}")
    return scheme_dir() / name


def load_named_scheme(name: str) -> Scheme:
    return load(scheme_path(name), questionnaire_dir())


# ---------------------------------------------------------------------------------------------
# Input files


def input_path(wave: Wave, kind: str) -> Path | None:
    folder = inputs_dir(wave)
    if kind == "appraisal":
        found = sorted(folder.glob("appraisal.*"))
        return found[0] if found else None
    path = folder / INPUT_FILES[kind]
    return path if path.exists() else None


def save_input(wave: Wave, kind: str, filename: str, content: bytes) -> dict[str, Any]:
    """Check an uploaded file and keep it for the wave's runs; return what it holds."""
    folder = inputs_dir(wave)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".xlsx" if kind == "appraisal" and filename.lower().endswith(".xlsx") else ".csv"
    name = "appraisal" + suffix if kind == "appraisal" else INPUT_FILES[kind]
    trial = folder / f".upload-{name}"
    trial.write_bytes(content)
    try:
        facts = _check_input(kind, trial, filename)
    except (TargetError, AppraisalError, ChainError) as exc:
        trial.unlink(missing_ok=True)
        found = exc.problems if isinstance(exc, FileInvalid) else [exc]
        reason = "; ".join(str(problem) for problem in found)
        raise InputInvalid(reason.replace(str(trial), filename)) from None
    if kind == "appraisal":
        for old in folder.glob("appraisal.*"):
            old.unlink()
    trial.replace(folder / name)
    return facts


def _check_input(kind: str, path: Path, filename: str) -> dict[str, Any]:
    if kind == "targets":
        targets = read_targets(path)
        total = targets.check_totals()
        return {"variables": list(targets.variables), "total": total}
    if kind == "appraisal":
        scheme = load_named_scheme(schemes()[0])
        table = check_appraisal(scheme, read_table(path, "appraisal file"), what=filename)
        return {"units": sorted(table["unit_code"].unique().tolist())}
    previous = read_previous(path)
    return {"units": sorted(previous["unit_code"].tolist())}


class InputMissing(ValueError):
    """A run asks for an input the wave does not have yet; the message says which."""


def run_parameters(
    wave: Wave,
    scheme: str,
    options: pipeline.Parameters,
    use_appraisal: bool,
    use_previous: bool,
) -> Parameters:
    """A run's parameters from the statistician's choices and the wave's uploaded inputs; raises
    `InputMissing` when a choice needs a file not uploaded yet."""
    found = inputs(wave)
    if options.method and found["targets"] is None:
        raise InputMissing(_("Upload the population targets before choosing a weighting method."))
    if use_appraisal and found["appraisal"] is None:
        raise InputMissing(_("Upload the appraisal scores before building the index."))
    if use_previous and found["previous"] is None:
        raise InputMissing(_("Upload last year's index before comparing with it."))
    return Parameters(
        scheme=str(scheme_path(scheme)),
        targets=str(found["targets"]) if options.method else None,
        appraisal=str(found["appraisal"]) if use_appraisal else None,
        previous=str(found["previous"]) if use_previous else None,
        options=options,
    )


def inputs(wave: Wave) -> dict[str, Path | None]:
    return {kind: input_path(wave, kind) for kind in INPUT_FILES}


# ---------------------------------------------------------------------------------------------
# Results of a run, for the pages and the report


@dataclass
class Results:
    run: AnalysisRun
    summary: dict[str, Any]
    scores: pd.DataFrame
    weights: pd.DataFrame
    estimates: pd.DataFrame
    index: pd.DataFrame | None
    weak: pd.DataFrame | None
    scheme: Scheme | None

    @property
    def sipas_elements(self) -> pd.DataFrame:
        return self.scores[self.scores["kind"].isin(["sipas_element", "sipas"])]

    @property
    def fields(self) -> pd.DataFrame:
        rows = self.scores[(self.scores["kind"] == "field")]
        return rows

    @property
    def totals(self) -> pd.DataFrame:
        return self.scores[self.scores["kind"] == "total"]


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / f"{name}.csv"
    if not path.exists():
        return None
    return pd.read_csv(
        path, keep_default_na=False, na_values=[""], dtype={"code": str, "field": str}
    )


def _no_scores() -> pd.DataFrame:
    return pd.DataFrame(columns=SCORE_COLUMNS)


def results(run: AnalysisRun) -> Results:
    folder = run_dir(run.id)
    scheme = None
    name = Path(run.parameters.get("scheme", "")).name
    if name in schemes():
        try:
            scheme = load_named_scheme(name)
        except ChainError:
            scheme = None
    return Results(
        run=run,
        summary=run.result or {},
        # a scheme with appraisal criteria only has no scores
        scores=_read(folder, "scores") if (folder / "scores.csv").exists() else _no_scores(),
        weights=_read(folder, "weights"),
        estimates=_read(folder, "estimates"),
        index=_read(folder, "index"),
        weak=_read(folder, "weak"),
        scheme=scheme,
    )


def run_file(run: AnalysisRun, name: str) -> Path | None:
    if name not in (run.result or {}).get("files", []):
        return None
    path = run_dir(run.id) / name
    return path if path.exists() else None


def weights_by_response(run: AnalysisRun | None, group: str) -> dict[int, float] | None:
    """Response id -> weight of a run's weighted group, to add a weight column to an export."""
    if run is None:
        return None
    path = run_dir(run.id) / "weights.csv"
    if not path.exists():
        return None
    table = pd.read_csv(path)
    table = table[table["group"] == group]
    if table.empty:
        return None
    return dict(zip(table["response_id"].astype(int), table["weight"].astype(float), strict=True))


def weighted_group(run: AnalysisRun | None, questionnaire: str) -> str | None:
    """The scheme group a questionnaire belongs to, if the run weighted it."""
    if run is None:
        return None
    for group, report in (run.result or {}).get("weighting", {}).items():
        if report is not None and group == questionnaire:
            return group
    scheme_name = Path(run.parameters.get("scheme", "")).name
    try:
        scheme = load_named_scheme(scheme_name)
    except (InputInvalid, ChainError):
        return None
    for group in scheme.groups.values():
        if group.questionnaire == questionnaire and group.weighted:
            return group.code
    return None


def finite(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
