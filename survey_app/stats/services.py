"""The statisticians' rules: input files per wave, runs, the results of a run, and exports."""

from __future__ import annotations

import functools
import io
import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from analysis.messages import reasons
from analysis.targets import TargetError, read_targets

from .. import storage
from ..i18n import say
from ..models import AnalysisRun, Wave
from . import names, runs
from .chain import ChainError, Parameters, load
from .runs import questionnaire_dir

if TYPE_CHECKING:  # numpy, pandas and scipy: imported where used (see `survey_app.stats.chain`)
    import pandas as pd

    from analysis import pipeline
    from analysis.scheme import Scheme

#: The stored name of each kind of input file.
INPUT_FILES = {"targets": "targets.csv", "appraisal": "appraisal", "previous": "previous.csv"}
#: Beside a wave's appraisal file when an appraisal round gave it: which round, as finalised when.
APPRAISAL_ROUND_NOTE = "appraisal-round.json"
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


def scheme_names(lang: str) -> dict[str, str]:
    """Each scheme file's name in `lang` (its `name:`), read without checking the scheme: the run
    form lists them all, and a scheme is checked when a run uses it."""
    import yaml

    from analysis.languages import in_language

    found = {}
    for name in schemes():
        try:
            data = yaml.safe_load((scheme_dir() / name).read_text(encoding="utf-8"))
            label = data.get("name") if isinstance(data, dict) else None
        except (OSError, yaml.YAMLError):
            label = None
        found[name] = in_language(label, lang, name) if isinstance(label, dict) else name
    return found


def scheme_path(name: str) -> Path:
    if name not in schemes():
        raise InputInvalid(_("There is no scoring scheme %(name)s.", name=name))
    return scheme_dir() / name


def load_named_scheme(name: str) -> Scheme:
    """The scheme, checked against the questionnaires: parsing their YAML takes about a second,
    so a process keeps what it parsed until one of the files changes (its modification time)."""
    path, folder = scheme_path(name), Path(questionnaire_dir())
    stamps = tuple((p.name, p.stat().st_mtime_ns) for p in (path, *sorted(folder.glob("*.yaml"))))
    return _load_scheme(str(path), str(folder), stamps)


@functools.lru_cache(maxsize=8)
def _load_scheme(path: str, folder: str, _stamps: tuple) -> Scheme:
    return load(path, folder)


# ---------------------------------------------------------------------------------------------
# Input files


def input_name(session: Session, wave: Wave, kind: str) -> str | None:
    """The stored name of the wave's input file of `kind`, or None when none was uploaded."""
    found = storage.names(session, runs.wave_inputs(wave))
    if kind == "appraisal":
        appraisal = [name for name in found if name.startswith("appraisal.")]
        return appraisal[0] if appraisal else None
    return INPUT_FILES[kind] if INPUT_FILES[kind] in found else None


def save_input(
    session: Session,
    wave: Wave,
    kind: str,
    filename: str,
    content: bytes,
    scheme: str | None = None,
    appraisal_round: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Check an uploaded file and keep it for the wave's runs (in the caller's transaction);
    return what it holds. An appraisal file is checked against `scheme` (a file name), or the
    default scheme; `appraisal_round` names the round it came from ({"id", "finalised_at"}),
    and the wave's next runs record it (an uploaded file comes from no round)."""
    from analysis.index import AppraisalError

    suffix = ".xlsx" if kind == "appraisal" and filename.lower().endswith(".xlsx") else ".csv"
    name = "appraisal" + suffix if kind == "appraisal" else INPUT_FILES[kind]
    # the readers in `analysis` take paths: the file is checked in a private temporary folder
    with tempfile.TemporaryDirectory(prefix="par-input-") as folder:
        trial = Path(folder) / name
        trial.write_bytes(content)
        try:
            facts = _check_input(kind, trial, filename, scheme)
        except (TargetError, AppraisalError, ChainError) as exc:
            found = exc.reasons if isinstance(exc, ChainError) else reasons(exc)
            # said in the reader's language, the private folder's path replaced by their name
            reason = "; ".join(say(problem) for problem in found)
            raise InputInvalid(reason.replace(str(trial), filename)) from None
    if kind == "appraisal":
        storage.remove(session, runs.wave_inputs(wave) + "appraisal.")
        storage.remove(session, runs.wave_inputs(wave) + APPRAISAL_ROUND_NOTE)
        if appraisal_round is not None:
            note = json.dumps(appraisal_round).encode("utf-8")
            storage.put(session, runs.wave_inputs(wave) + APPRAISAL_ROUND_NOTE, note)
    storage.put(session, runs.wave_inputs(wave) + name, content)
    return facts


def appraisal_round_of(session: Session, wave: Wave) -> dict[str, Any] | None:
    """The round the wave's appraisal file came from ({"id", "finalised_at"}); None for an
    uploaded file or none."""
    note = storage.get(session, runs.wave_inputs(wave) + APPRAISAL_ROUND_NOTE)
    return json.loads(note) if note is not None else None


def waves_given_round(session: Session, note: dict[str, Any]) -> list[Wave]:
    """The waves whose appraisal file is the round's points as `note` says ({"id",
    "finalised_at"}: a round finalised again after a reopening has another note)."""
    from sqlalchemy import select

    waves = session.scalars(select(Wave).order_by(Wave.id))
    return [wave for wave in waves if appraisal_round_of(session, wave) == note]


def _check_input(kind: str, path: Path, filename: str, scheme_name: str | None) -> dict[str, Any]:
    from analysis.index import APPRAISAL_FILE, check_appraisal, read_previous, read_table

    if kind == "targets":
        targets = read_targets(path)
        total = targets.check_totals()
        return {"variables": list(targets.variables), "total": total}
    if kind == "appraisal":
        scheme = load_named_scheme(scheme_name or schemes()[0])
        table = check_appraisal(scheme, read_table(path, APPRAISAL_FILE), what=filename)
        return {"units": sorted(table["unit_code"].unique().tolist())}
    previous = read_previous(path)
    return {"units": sorted(previous["unit_code"].tolist())}


class InputMissing(ValueError):
    """A run asks for an input the wave does not have yet; the message says which."""


def run_parameters(
    session: Session,
    wave: Wave,
    scheme: str,
    options: pipeline.Parameters,
    use_appraisal: bool,
    use_previous: bool,
) -> Parameters:
    """A run's parameters from the statistician's choices and the wave's uploaded inputs; raises
    `InputMissing` when a choice needs a file not uploaded yet."""
    found = inputs(session, wave)
    if options.method and found["targets"] is None:
        raise InputMissing(_("Upload the population targets before choosing a weighting method."))
    if use_appraisal and found["appraisal"] is None:
        raise InputMissing(_("Upload the appraisal scores before building the index."))
    if use_previous and found["previous"] is None:
        raise InputMissing(_("Upload last year's index before comparing with it."))
    # names only: the scheme ships with the app on every host, the inputs are stored files
    return Parameters(
        scheme=scheme_path(scheme).name,
        targets=found["targets"] if options.method else None,
        appraisal=found["appraisal"] if use_appraisal else None,
        previous=found["previous"] if use_previous else None,
        options=options,
        appraisal_round=appraisal_round_of(session, wave) if use_appraisal else None,
    )


def inputs(session: Session, wave: Wave) -> dict[str, str | None]:
    return {kind: input_name(session, wave, kind) for kind in INPUT_FILES}


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
    #: the questionnaires of the scheme's groups (their titles, questions and options name
    #: what the files code), by code
    questionnaires: dict[str, Any] = field(default_factory=dict)

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


def _read(session: Session, run: AnalysisRun, name: str) -> pd.DataFrame | None:
    content = storage.get(session, runs.run_outputs(run.id) + f"{name}.csv")
    if content is None:
        return None
    import pandas as pd

    return pd.read_csv(
        io.BytesIO(content),
        keep_default_na=False,
        na_values=[""],
        dtype={"code": str, "field": str},
    )


def _no_scores() -> pd.DataFrame:
    import pandas as pd

    from analysis.scoring import COLUMNS

    return pd.DataFrame(columns=COLUMNS)


def results(session: Session, run: AnalysisRun) -> Results:
    scheme = None
    name = Path(run.parameters.get("scheme", "")).name
    if name in schemes():
        try:
            scheme = load_named_scheme(name)
        except ChainError:
            scheme = None
    scores = _read(session, run, "scores")
    return Results(
        run=run,
        summary=run.result or {},
        # a scheme with appraisal criteria only has no scores
        scores=_no_scores() if scores is None else scores,
        weights=_read(session, run, "weights"),
        estimates=_read(session, run, "estimates"),
        index=_read(session, run, "index"),
        weak=_read(session, run, "weak"),
        scheme=scheme,
        questionnaires=names.questionnaires(
            session,
            [g.questionnaire for g in scheme.groups.values()]
            if scheme
            else [wq.questionnaire_code for wq in run.wave.questionnaires],
        ),
    )


def run_names(session: Session, run: AnalysisRun, lang: str) -> dict[str, Any]:
    """What a run's headings name, in `lang`: its scheme and its groups (their questionnaires'
    titles); the codes where the scheme is gone."""
    from analysis.languages import in_language

    code = (run.result or {}).get("scheme") or Path(run.parameters.get("scheme", "")).stem
    try:
        scheme = load_named_scheme(Path(run.parameters.get("scheme", "")).name)
    except (InputInvalid, ChainError):
        return {"scheme": code, "groups": {}, "unit": _unit_name(session, run)}
    titles = names.titles(session, [g.questionnaire for g in scheme.groups.values()])
    groups = {
        group.code: names.title(titles, group.questionnaire, lang)
        for group in scheme.groups.values()
    }
    return {
        "scheme": in_language(scheme.name, lang, code),
        "groups": groups,
        "unit": _unit_name(session, run),
    }


def _unit_name(session: Session, run: AnalysisRun) -> str | None:
    """The rated unit's name in the run's index (the appraisal file names it), if it has one."""
    unit_code = (run.result or {}).get("unit_code")
    index = _read(session, run, "index") if unit_code else None
    if index is None or "unit_name" not in index:
        return None
    names_found = index.loc[index["unit_code"].astype(str) == str(unit_code), "unit_name"]
    found = names_found.dropna()
    return str(found.iloc[0]) if len(found) else None


def run_file(session: Session, run: AnalysisRun, name: str) -> bytes | None:
    """One of a finished run's files, as listed in its summary; None for any other name."""
    if name not in (run.result or {}).get("files", []):
        return None
    return storage.get(session, runs.run_outputs(run.id) + name)


def weights_by_response(
    session: Session, run: AnalysisRun | None, group: str
) -> dict[int, float] | None:
    """Response id -> weight of a run's weighted group, to add a weight column to an export."""
    if run is None:
        return None
    content = storage.get(session, runs.run_outputs(run.id) + "weights.csv")
    if content is None:
        return None
    import pandas as pd

    table = pd.read_csv(io.BytesIO(content))
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
