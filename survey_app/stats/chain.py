"""A wave's chain from the database: its responses and files into `analysis.pipeline`.

`compute` is what both the web page (in a background thread, see `survey_app.stats.runs`) and
``flask score-wave`` run. It reads the wave's complete responses and the uploaded files, calls
`analysis.pipeline.run` (the same body as ``python -m analysis run``) and writes the tables, a
workbook and a JSON summary into a folder.

`analysis.pipeline` and pandas bring numpy, pandas and scipy (about half a second), so this
module, like the rest of `survey_app.stats`, imports them inside the functions that use them:
every `flask` command imports the app, and most of them never compute anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.messages import _, reasons

from ..models import Invitation, Wave
from .data import responses_frame

if TYPE_CHECKING:
    import pandas as pd

    from analysis import pipeline
    from analysis.scheme import Scheme

#: The column the chain adds to census groups: the number invited, for the finite population
#: correction (leaders and delegates are near-censuses of listed office-holders).
INVITED = "invited"


class ChainError(ValueError):
    """Input the chain refuses. The message (English) says what to fix; `reasons` are the same
    as `analysis.messages` (messages and located problems), which a page says in its reader's
    language and a failed run keeps. (`_` here makes such a message, not a translation: the
    chain runs in a worker, with no reader yet.)"""

    def __init__(self, found: list) -> None:
        self.reasons = list(found)
        super().__init__("; ".join(str(reason) for reason in self.reasons))


def _options(data: dict[str, Any] | None = None) -> pipeline.Parameters:
    """The chain's options from a run's JSON; the defaults without one."""
    from analysis import pipeline

    return pipeline.Parameters.from_json(data) if data is not None else pipeline.Parameters()


@dataclass
class Parameters:
    """What a statistician chose for a run: the input files and the chain's options."""

    scheme: str
    targets: str | None = None
    appraisal: str | None = None
    previous: str | None = None
    options: pipeline.Parameters = field(default_factory=_options)
    #: The appraisal round whose points the appraisal file is ({"id", "finalised_at"}), when the
    #: file came from a round ("use in the index"), not an upload: the round's results page
    #: takes only a run of its own points.
    appraisal_round: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        files = {k: getattr(self, k) for k in ("scheme", "targets", "appraisal", "previous")}
        found = {**files, **self.options.as_json()}
        if self.appraisal_round is not None:
            found["appraisal_round"] = self.appraisal_round
        return found

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Parameters:
        return cls(
            scheme=data["scheme"],
            targets=data.get("targets"),
            appraisal=data.get("appraisal"),
            previous=data.get("previous"),
            options=_options(data),
            appraisal_round=data.get("appraisal_round"),
        )


def load(scheme_path: str | Path, questionnaires: str | Path | None) -> Scheme:
    """A scheme checked against its own questionnaire folder when it names one (the examples'),
    else against ``questionnaires`` (the app's QUESTIONNAIRE_DIR)."""
    from analysis.scheme import SchemeError, load_scheme

    try:
        return load_scheme(scheme_path, default=questionnaires)
    except SchemeError as exc:
        raise ChainError(exc.problems) from None


def compute(
    session: Session,
    wave: Wave,
    params: Parameters,
    out: Path,
    questionnaires: str | Path | None = None,
    progress: pipeline.Progress | None = None,
) -> dict[str, Any]:
    """Run the chain for ``wave`` and write its tables into ``out``; return the summary.

    Bad input raises `ChainError`; anything else is a fault of the program and propagates.
    """
    from analysis import pipeline
    from analysis.index import APPRAISAL_FILE, read_previous, read_table
    from analysis.targets import read_targets

    progress = progress or pipeline.no_progress
    try:
        progress(2, "scheme")
        scheme = load(params.scheme, questionnaires)
        responses = _responses(session, wave, scheme, progress)
        options = params.options
        if not params.targets:
            # "no weighting": every respondent of a weighted group weighs 1
            for code, table in responses.items():
                if scheme.groups[code].weighted and options.weight not in table.columns:
                    table[options.weight] = 1.0
        if options.fpc is None and _census_invited(session, wave, scheme, responses):
            options = replace(options, fpc=INVITED)
        result = pipeline.run(
            scheme,
            responses,
            options,
            targets=read_targets(params.targets) if params.targets else None,
            appraisal=read_table(params.appraisal, APPRAISAL_FILE) if params.appraisal else None,
            previous=read_previous(params.previous) if params.previous else None,
            progress=progress,
        )
    except pipeline.INPUT_ERRORS as exc:
        raise ChainError(reasons(exc)) from None
    result.write(out)
    progress(100, "done")
    return result.summary


def _responses(session, wave, scheme, progress) -> dict[str, pd.DataFrame]:
    carried = {wq.questionnaire_code for wq in wave.questionnaires}
    responses: dict[str, pd.DataFrame] = {}
    groups = list(scheme.groups.values())
    for number, group in enumerate(groups):
        progress(5 + 10 * number // max(1, len(groups)), f"responses:{group.code}")
        if group.questionnaire in carried:
            responses[group.code] = responses_frame(session, group.questionnaire, wave.code)
    if scheme.has_survey and not any(len(t) for t in responses.values()):
        raise ChainError(
            [_("the wave %(wave)s has no complete responses to score", wave=wave.code)]
        )
    return responses


def _census_invited(session, wave, scheme, responses: dict[str, pd.DataFrame]) -> bool:
    """Add the number invited to each census group answered by invitation; True if any.

    A group whose respondents outnumber its live invitations (open links) gets no correction.
    """
    invited_by_questionnaire = dict(
        session.execute(
            select(Invitation.questionnaire_code, func.count())
            .where(Invitation.wave_id == wave.id, Invitation.status != "revoked")
            .group_by(Invitation.questionnaire_code)
        ).all()
    )
    added = False
    for code, table in responses.items():
        group = scheme.groups[code]
        if group.weighted or not len(table):
            continue
        invited = invited_by_questionnaire.get(group.questionnaire, 0)
        if invited >= len(table):
            table[INVITED] = invited
            added = True
    return added
