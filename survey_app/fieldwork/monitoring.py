"""Fieldwork monitoring: the figures of a wave's questionnaire, counted by the database.

Every figure is an aggregate query (COUNT, GROUP BY, a percentile): no response is loaded into
Python, so the dashboard costs the same few queries at 100 responses as at 100,000. Only quota
cells (a few hundred rows at most) and the questionnaire's cached definition are read as objects.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, cast, func, literal_column, select
from sqlalchemy.orm import Session

from ..models import (
    RESPONSE_MODES,
    Invitation,
    QuestionnaireVersion,
    Quota,
    QuotaCell,
    Response,
    utcnow,
)
from ..questionnaire.definition import Questionnaire
from ..questionnaire.store import definition, latest_version
from .counted import counted_condition, real_condition
from .quotas import SEPARATOR

#: How many days the chart of completions per day covers, today included.
DAYS_SHOWN = 30
#: A complete response faster than this fraction of the median duration is a speeder.
SPEEDER_FRACTION = 1 / 3


@dataclass
class PageDropoff:
    """Responses still in progress whose respondent stands on this page."""

    index: int
    code: str
    title: str
    in_progress: int
    share: float | None  # of all responses in progress


@dataclass
class DayCount:
    day: dt.date
    complete: int


@dataclass
class CellRow:
    cell_key: str
    values: list[str]
    labels: list[str]
    target: int
    complete: int
    in_progress: int
    over_target: int

    @property
    def remaining(self) -> int:
        return max(self.target - self.complete, 0)

    @property
    def percent(self) -> float | None:
        return self.complete / self.target if self.target else None


@dataclass
class QuotaTable:
    id: int
    name: str
    variables: list[str]
    variable_labels: list[str]
    when_full: str
    cells: list[CellRow]
    cells_total: int  # before the filter

    @property
    def totals(self) -> dict[str, int]:
        return {
            "target": sum(c.target for c in self.cells),
            "complete": sum(c.complete for c in self.cells),
            "in_progress": sum(c.in_progress for c in self.cells),
            "remaining": sum(c.remaining for c in self.cells),
            "over_target": sum(c.over_target for c in self.cells),
        }


@dataclass
class FilterChoice:
    """A variable the quota table can be filtered on, with its values as the questionnaire words
    them."""

    variable: str
    label: str
    options: list[tuple[str, str]]
    selected: str | None = None


@dataclass
class Dashboard:
    wave_id: int
    questionnaire_code: str
    language: str
    generated_at: dt.datetime
    #: Invitations that were not revoked; None for questionnaires answered by open link.
    invited: int | None
    started: int
    complete: int
    screened_out: int
    in_progress: int
    median_duration: float | None
    speeders: int
    straightliners: int
    dropoff: list[PageDropoff]
    per_day: list[DayCount]
    quotas: list[QuotaTable]
    filters: list[FilterChoice] = field(default_factory=list)
    #: Complete responses that count, by mode (web, paper).
    by_mode: dict[str, int] = field(default_factory=dict)
    #: Complete responses marked invalid: counted nowhere else.
    invalid: int = 0

    @property
    def completion_rate(self) -> float | None:
        return self.complete / self.started if self.started else None

    @property
    def response_rate(self) -> float | None:
        return self.complete / self.invited if self.invited else None

    @property
    def speeder_share(self) -> float | None:
        return self.speeders / self.complete if self.complete else None

    @property
    def straightliner_share(self) -> float | None:
        return self.straightliners / self.complete if self.complete else None

    @property
    def speeder_limit(self) -> float | None:
        """Complete responses faster than this many seconds are speeders."""
        return self.median_duration * SPEEDER_FRACTION if self.median_duration else None

    def figures(self) -> dict:
        """Everything the page shows, as plain JSON-ready values."""
        return {
            "questionnaire": self.questionnaire_code,
            "language": self.language,
            "generated_at": self.generated_at.isoformat(timespec="seconds") + "Z",
            "invited": self.invited,
            "started": self.started,
            "complete": self.complete,
            "screened_out": self.screened_out,
            "in_progress": self.in_progress,
            "completion_rate": self.completion_rate,
            "response_rate": self.response_rate,
            "median_duration_seconds": self.median_duration,
            "speeders": {
                "count": self.speeders,
                "share": self.speeder_share,
                "under_seconds": self.speeder_limit,
            },
            "straightliners": {"count": self.straightliners, "share": self.straightliner_share},
            "by_mode": dict(self.by_mode),
            "invalid": self.invalid,
            "dropoff": [asdict(page) for page in self.dropoff],
            "per_day": [
                {"date": day.day.isoformat(), "complete": day.complete} for day in self.per_day
            ],
            "quotas": [
                {
                    "name": quota.name,
                    "variables": quota.variables,
                    "when_full": quota.when_full,
                    "cells_shown": len(quota.cells),
                    "cells_total": quota.cells_total,
                    "totals": quota.totals,
                    "cells": [
                        {
                            "cell_key": cell.cell_key,
                            "values": dict(zip(quota.variables, cell.values, strict=True)),
                            "labels": cell.labels,
                            "target": cell.target,
                            "complete": cell.complete,
                            "in_progress": cell.in_progress,
                            "remaining": cell.remaining,
                            "percent": cell.percent,
                            "over_target": cell.over_target,
                        }
                        for cell in quota.cells
                    ],
                }
                for quota in self.quotas
            ],
            "filter": {f.variable: f.selected for f in self.filters if f.selected},
        }


def build_dashboard(
    session: Session,
    wave_id: int,
    questionnaire_code: str,
    language: str,
    timezone: str,
    cell_filter: dict[str, str] | None = None,
    now: dt.datetime | None = None,
) -> Dashboard:
    """The monitoring figures of one questionnaire in one wave.

    `cell_filter` keeps the quota cells whose value for a variable is the one given (e.g.
    {"district": "can_loc"}); it narrows the quota tables only. Days are counted in `timezone`.
    """
    now = now or utcnow()
    version = latest_version(session, questionnaire_code)
    questionnaire = definition(version) if version is not None else None
    scope = and_(
        Response.wave_id == wave_id,
        Response.questionnaire_code == questionnaire_code,
        real_condition(),
    )

    complete, straightlined, median = complete_summary(session, scope)
    by_mode, invalid = mode_counts(session, scope)
    in_progress = in_progress_groups(session, scope)
    screened_out = (
        session.scalar(select(func.count()).where(scope, Response.status == "screened_out")) or 0
    )
    in_progress_total = sum(in_progress.values())
    quotas, filters = quota_tables(
        session,
        wave_id,
        questionnaire_code,
        questionnaire,
        language,
        cell_filter or {},
        in_progress,
    )
    return Dashboard(
        wave_id=wave_id,
        questionnaire_code=questionnaire_code,
        language=language,
        generated_at=now,
        invited=invited_count(session, wave_id, questionnaire_code, version),
        started=complete + in_progress_total + screened_out,
        complete=complete,
        screened_out=screened_out,
        in_progress=in_progress_total,
        median_duration=median,
        speeders=speeder_count(session, scope, median),
        straightliners=straightlined,
        dropoff=dropoff(in_progress, questionnaire, language, in_progress_total),
        per_day=completions_per_day(session, scope, timezone, now),
        quotas=quotas,
        filters=filters,
        by_mode=by_mode,
        invalid=invalid,
    )


# --- the queries --------------------------------------------------------------------------------


def complete_summary(session: Session, scope) -> tuple[int, int, float | None]:
    """Complete responses: how many, how many straight-lined a grid, and their median duration.

    PostgreSQL counts and takes percentile_cont in one scan of the dashboard index; elsewhere the
    median is the middle one or two rows of the durations in index order (LIMIT/OFFSET).
    """
    complete = and_(scope, Response.status == "complete", counted_condition())
    straightlined = func.count().filter(Response.straightlined_grids > 0)
    if session.get_bind().dialect.name == "postgresql":
        count, flagged, median = session.execute(
            select(
                func.count(),
                straightlined,
                func.percentile_cont(0.5).within_group(Response.duration_seconds.asc()),
            ).where(complete)
        ).one()
        return count, flagged, float(median) if median is not None else None
    count, flagged, timed = session.execute(
        select(func.count(), straightlined, func.count(Response.duration_seconds)).where(complete)
    ).one()
    if not timed:
        return count, flagged, None
    middle = session.scalars(
        select(Response.duration_seconds)
        .where(complete, Response.duration_seconds.is_not(None))
        .order_by(Response.duration_seconds)
        .offset((timed - 1) // 2)
        .limit(2 - timed % 2)
    ).all()
    return count, flagged, sum(middle) / len(middle)


def mode_counts(session: Session, scope) -> tuple[dict[str, int], int]:
    """Complete responses that count, by mode (every mode listed), and those marked invalid."""
    counted = counted_condition()
    rows = session.execute(
        select(Response.mode, func.count().filter(counted), func.count().filter(~counted))
        .where(scope, real_condition(), Response.status == "complete")
        .group_by(Response.mode)
    ).all()
    by_mode = dict.fromkeys(RESPONSE_MODES, 0)
    invalid = 0
    for mode, valid, not_valid in rows:
        by_mode[mode] = by_mode.get(mode, 0) + valid
        invalid += not_valid
    return by_mode, invalid


def in_progress_groups(session: Session, scope) -> dict[tuple[int, int | None], int]:
    """Responses in progress counted by (page they stand on, quota cell once known): the drop-off
    by page and the in-progress count of each cell come from this one GROUP BY."""
    rows = session.execute(
        select(Response.page_index, Response.quota_cell_id, func.count())
        .where(scope, Response.status == "in_progress")
        .group_by(Response.page_index, Response.quota_cell_id)
    ).all()
    return {(page, cell): count for page, cell, count in rows}


def speeder_count(session: Session, scope, median: float | None) -> int:
    if not median:
        return 0
    return (
        session.scalar(
            select(func.count()).where(
                scope,
                Response.status == "complete",
                counted_condition(),
                # Whole seconds: d < limit exactly when d < ceil(limit), and an integer bound
                # keeps the comparison on the index (a float would cast the column).
                Response.duration_seconds < math.ceil(median * SPEEDER_FRACTION),
            )
        )
        or 0
    )


def invited_count(
    session: Session, wave_id: int, code: str, version: QuestionnaireVersion | None
) -> int | None:
    if version is not None and version.access != "invitation":
        return None
    return (
        session.scalar(
            select(func.count()).where(
                Invitation.wave_id == wave_id,
                Invitation.questionnaire_code == code,
                Invitation.status != "revoked",
            )
        )
        or 0
    )


def dropoff(
    in_progress: dict[tuple[int, int | None], int],
    questionnaire: Questionnaire | None,
    language: str,
    total: int,
) -> list[PageDropoff]:
    """Every page of the questionnaire with the responses in progress standing on it."""
    counted: dict[int, int] = {}
    for (page, _cell), count in in_progress.items():
        counted[page] = counted.get(page, 0) + count
    pages = []
    known = questionnaire.pages if questionnaire is not None else []
    for page in known:
        count = counted.pop(page.index, 0)
        pages.append(PageDropoff(page.index, page.code, _label(page.title, language), count, None))
    # Pages that only an older version of the questionnaire had.
    for index, count in sorted(counted.items()):
        pages.append(PageDropoff(index, "", "", count, None))
    for page in pages:
        page.share = page.in_progress / total if total else None
    return pages


def completions_per_day(
    session: Session, scope, timezone: str, now: dt.datetime, days: int = DAYS_SHOWN
) -> list[DayCount]:
    """Complete responses per local day over the last `days` days, today included, zeros kept.

    Timestamps are stored in UTC; they are shifted by the zone's offset now (Viet Nam keeps one
    offset all year) so that a response completed at 23:30 local time counts on its own day.
    """
    zone = ZoneInfo(timezone)
    offset = zone.utcoffset(now) or dt.timedelta(0)
    today = (now + offset).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time()) - offset
    if session.get_bind().dialect.name == "postgresql":
        local_day = cast(Response.completed_at + offset, Date)
    else:
        local_day = func.date(Response.completed_at, f"{int(offset.total_seconds()):+d} seconds")
    rows = session.execute(
        select(local_day.label("day"), func.count())
        .where(
            scope,
            Response.status == "complete",
            counted_condition(),
            Response.completed_at >= since,
        )
        .group_by(literal_column("day"))
    ).all()
    found = {_as_date(day): count for day, count in rows}
    return [
        DayCount(first + dt.timedelta(days=i), found.get(first + dt.timedelta(days=i), 0))
        for i in range(days)
    ]


def quota_tables(
    session: Session,
    wave_id: int,
    code: str,
    questionnaire: Questionnaire | None,
    language: str,
    cell_filter: dict[str, str],
    in_progress: dict[tuple[int, int | None], int],
) -> tuple[list[QuotaTable], list[FilterChoice]]:
    quotas = session.scalars(
        select(Quota)
        .where(Quota.wave_id == wave_id, Quota.questionnaire_code == code)
        .order_by(Quota.id)
    ).all()
    if not quotas:
        return [], []
    cells = session.execute(
        select(
            QuotaCell.id,
            QuotaCell.quota_id,
            QuotaCell.cell_key,
            QuotaCell.target,
            QuotaCell.complete,
            QuotaCell.over_target,
        )
        .where(QuotaCell.quota_id.in_([q.id for q in quotas]))
        .order_by(QuotaCell.id)
    ).all()
    # Responses in progress whose cell is already known (the first quota they fall in).
    per_cell: dict[int, int] = {}
    for (_page, cell_id), count in in_progress.items():
        if cell_id is not None:
            per_cell[cell_id] = per_cell.get(cell_id, 0) + count
    labeller = _Labeller(questionnaire, language)
    filters = _filter_choices(quotas, cells, labeller, cell_filter)
    wanted = {f.variable: f.selected for f in filters if f.selected}
    tables = []
    for quota in quotas:
        rows = []
        mine = [c for c in cells if c.quota_id == quota.id]
        for cell in mine:
            values = cell.cell_key.split(SEPARATOR)
            by_variable = dict(zip(quota.variables, values, strict=False))
            if any(by_variable.get(v, chosen) != chosen for v, chosen in wanted.items()):
                continue
            rows.append(
                CellRow(
                    cell_key=cell.cell_key,
                    values=values,
                    labels=[
                        labeller.value(v, x) for v, x in zip(quota.variables, values, strict=False)
                    ],
                    target=cell.target,
                    complete=cell.complete,
                    in_progress=per_cell.get(cell.id, 0),
                    over_target=cell.over_target,
                )
            )
        rows.sort(key=lambda row, q=quota: labeller.order(q.variables, row.values))
        tables.append(
            QuotaTable(
                id=quota.id,
                name=quota.name,
                variables=list(quota.variables),
                variable_labels=[labeller.variable(v) for v in quota.variables],
                when_full=quota.when_full,
                cells=rows,
                cells_total=len(mine),
            )
        )
    return tables, filters


def _filter_choices(quotas, cells, labeller: _Labeller, chosen: dict[str, str]):
    """One choice per quota variable (district first), with the values its cells use."""
    values: dict[str, set[str]] = {}
    by_quota = {q.id: q for q in quotas}
    for cell in cells:
        quota = by_quota[cell.quota_id]
        for variable, value in zip(quota.variables, cell.cell_key.split(SEPARATOR), strict=False):
            values.setdefault(variable, set()).add(value)
    variables = sorted(values, key=lambda v: (v != "district", list(values).index(v)))
    choices = []
    for variable in variables:
        options = sorted(values[variable], key=lambda x: labeller.position(variable, x))
        selected = chosen.get(variable)
        choices.append(
            FilterChoice(
                variable,
                labeller.variable(variable),
                [(x, labeller.value(variable, x)) for x in options],
                selected if selected in values[variable] else None,
            )
        )
    return choices


class _Labeller:
    """Words for variables and their values from the questionnaire, in one language."""

    def __init__(self, questionnaire: Questionnaire | None, language: str) -> None:
        self.by_code = questionnaire.by_code if questionnaire is not None else {}
        self.language = language
        self._options: dict[str, dict[str, tuple[int, str]]] = {}

    def _of(self, code: str) -> dict[str, tuple[int, str]]:
        """value -> (position among the item's options, label), read once per variable."""
        found = self._options.get(code)
        if found is None:
            item = self.by_code.get(code)
            options = item.options if item is not None else []
            found = {o.key: (i, _label(o.label, self.language)) for i, o in enumerate(options)}
            self._options[code] = found
        return found

    def variable(self, code: str) -> str:
        item = self.by_code.get(code)
        return _label(item.label, self.language) if item is not None else code

    def value(self, code: str, value: str) -> str:
        known = self._of(code).get(value)
        return known[1] if known is not None else value

    def position(self, code: str, value: str) -> tuple[int, str]:
        options = self._of(code)
        known = options.get(value)
        return (known[0] if known is not None else len(options), value)

    def order(self, variables: list[str], values: list[str]) -> tuple:
        return tuple(self.position(v, x) for v, x in zip(variables, values, strict=False))


def _label(label: dict[str, str] | None, language: str) -> str:
    if not label:
        return ""
    return label.get(language) or next(iter(label.values()), "")


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
