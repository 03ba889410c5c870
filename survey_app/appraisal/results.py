"""A round's results per block: the index built from the council's points (and, where the scheme
has survey criteria, the latest finished run that used this round's points as finalised), last
year's round for the changes, each unit's field ranks, criteria at 0, and the generated account
of its move."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..i18n import say
from ..models import AnalysisRun, AppraisalRound
from . import criteria as criteria_mod
from . import progress as progress_mod


@dataclass
class FieldResult:
    name: str
    points: float | None
    max_points: float
    percent: float | None
    rank: int | None


@dataclass
class UnitResult:
    code: str
    name: str
    fields: list[FieldResult]
    points: float | None
    max_points: float
    percent: float | None
    rank: int | None
    units_in_block: int
    rank_change: float | None
    percent_change: float | None
    band: str
    #: (criterion name, its maximum) of the criteria at 0
    zero: list[tuple[str, float]] = field(default_factory=list)
    account: str = ""


@dataclass
class RoundResults:
    units: list[UnitResult]
    #: where the survey points come from: the run's id, or None (an appraisal-only scheme)
    run_id: int | None
    previous_round: AppraisalRound | None


class NoResults(ValueError):
    """The round cannot give an index yet; the message says what is missing. `waves`: the codes
    of the waves given the round's points, where a run is to be started (`needs_run`)."""

    def __init__(self, message: str, needs_run: bool = False, waves: list[str] | None = None):
        super().__init__(message)
        self.needs_run = needs_run
        self.waves = waves or []


def _table(session: Session, appraisal_round: AppraisalRound):
    import pandas as pd

    from analysis.index import build_index, check_appraisal

    scheme = criteria_mod.load(appraisal_round.scheme)
    rows = progress_mod.appraisal_rows(session, appraisal_round)
    table = pd.DataFrame(rows, columns=progress_mod.APPRAISAL_COLUMNS, dtype=str)
    table = table.replace("", None)
    return scheme, build_index, check_appraisal(scheme, table)


def _previous_round(session: Session, appraisal_round: AppraisalRound) -> AppraisalRound | None:
    return session.scalars(
        select(AppraisalRound).where(
            AppraisalRound.block == appraisal_round.block,
            AppraisalRound.year == appraisal_round.year - 1,
            AppraisalRound.status == "final",
        )
    ).first()


def finalised_stamp(appraisal_round: AppraisalRound) -> str | None:
    """The round's finalisation as a run records it: a round reopened and finalised again has
    another, so a run of its earlier points is told apart."""
    at = appraisal_round.finalised_at
    return at.isoformat(timespec="microseconds") if at is not None else None


def round_note(appraisal_round: AppraisalRound) -> dict[str, Any]:
    """What "use in the index" writes beside the wave's appraisal file, and its runs keep."""
    return {"id": appraisal_round.id, "finalised_at": finalised_stamp(appraisal_round)}


def _run_of_round(
    session: Session, appraisal_round: AppraisalRound
) -> tuple[AnalysisRun | None, AnalysisRun | None]:
    """(the latest finished run of the round's scheme that used the round's points as finalised
    now, the latest that used them as they were before a reopening); never a run of another
    round's points or of an uploaded file."""
    runs = session.scalars(
        select(AnalysisRun).where(AnalysisRun.status == "done").order_by(AnalysisRun.id.desc())
    )
    stale = None
    for run in runs:
        used = (run.parameters or {}).get("appraisal_round") or {}
        if used.get("id") != appraisal_round.id:
            continue
        if Path(run.parameters.get("scheme", "")).name != appraisal_round.scheme:
            continue
        if used.get("finalised_at") == finalised_stamp(appraisal_round):
            return run, stale
        stale = stale or run
    return None, stale


def _index_of_round(session: Session, appraisal_round: AppraisalRound, previous=None):
    scheme, build_index, appraisal = _table(session, appraisal_round)
    return scheme, build_index(scheme, appraisal, None, previous)


def round_results(session: Session, appraisal_round: AppraisalRound, lang: str) -> RoundResults:
    """The block's results; `NoResults` when the round is not final, or its scheme needs survey
    points and no finished run has used the round's points as finalised."""
    import pandas as pd

    from analysis.languages import in_language
    from analysis.rank_account import unit_account, zero_criteria

    if appraisal_round.status != "final":
        raise NoResults(_("The results come when the round is final."))
    scheme = criteria_mod.load(appraisal_round.scheme)
    run_id = None
    previous_round = _previous_round(session, appraisal_round)
    if scheme.has_survey:
        run, stale = _run_of_round(session, appraisal_round)
        if run is None:
            from ..stats.services import waves_given_round

            waves = [w.code for w in waves_given_round(session, round_note(appraisal_round))]
            if stale is not None:
                message = _(
                    "Run %(run)s used this round's points as they were before it was reopened: "
                    "give the round's points to a wave again and run it with the scheme "
                    "%(scheme)s.",
                    run=stale.id,
                    scheme=appraisal_round.scheme,
                )
            else:
                message = _(
                    "No statistics run has used this round's points yet. The scheme %(scheme)s "
                    "needs survey points: give the round's points to a wave (\"Use in the "
                    'index") and run it with this scheme.',
                    scheme=appraisal_round.scheme,
                )
            raise NoResults(message, needs_run=True, waves=waves)
        from ..stats.services import results as run_results

        found = run_results(session, run)
        table, weak, run_id = found.index, found.weak, run.id
        if table is None:
            raise NoResults(_("The run has no index."))
        if weak is None:
            weak = pd.DataFrame(columns=["unit_code", "reason", "criterion", "max_points"])
    else:
        previous = None
        if previous_round is not None:
            _s, last = _index_of_round(session, previous_round)
            previous = pd.DataFrame(
                {
                    "unit_code": last.table["unit_code"],
                    "previous_rank": pd.to_numeric(last.table["rank"]).astype("float64"),
                    "previous_percent": last.table["percent"],
                }
            )
        _s, index = _index_of_round(session, appraisal_round, previous)
        table, weak = index.table, index.weak
    table = table[table["block"].astype(str) == appraisal_round.block]
    criteria_names = {c.code: in_language(c.name, lang, c.code) for c in scheme.criteria.values()}
    bands = {b.code: in_language(b.name, lang, b.code) for b in scheme.bands}
    units = []
    for row in table.to_dict("records"):
        account = unit_account(row, scheme, lang)
        units.append(
            UnitResult(
                code=str(row["unit_code"]),
                name=str(row["unit_name"]),
                fields=[
                    FieldResult(
                        in_language(f.name, lang, f.code),
                        _number(row.get(f"field_{f.code}_points")),
                        f.max_points,
                        _number(row.get(f"field_{f.code}_percent")),
                        _whole(row.get(f"field_{f.code}_rank")),
                    )
                    for f in scheme.fields
                ],
                points=_number(row.get("total_points")),
                max_points=float(row["max_points"]),
                percent=_number(row.get("published_percent")),
                rank=_whole(row.get("rank")),
                units_in_block=int(row.get("units_in_block") or 0),
                rank_change=_number(row.get("rank_change")),
                percent_change=_number(row.get("percent_change")),
                band=bands.get(str(row.get("band") or ""), str(row.get("band") or "")),
                zero=[
                    (criteria_names.get(code, code), maximum)
                    for code, maximum in zero_criteria(weak, str(row["unit_code"]))
                ],
                account=account.text(say) if account is not None else "",
            )
        )
    return RoundResults(units, run_id, previous_round)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def _whole(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(round(number))
