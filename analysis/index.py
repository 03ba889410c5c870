"""The index: appraisal points plus survey points, per field and in total, ranked within blocks.

DOMAIN.md, rule 6: a unit's index is its appraised points plus its survey points; a field's %
is its points over its maximum; units are ranked within their block by total, descending, ties
sharing a rank (1, 2, 2, 4), and each field likewise; the band comes from the scheme's thresholds
on the total %. Ties and bands are decided on the % as published: rounded half away from zero to
the scheme's ``decimals`` (2 unless it says otherwise), one rule for both. Against last year's
index file we give the change of rank (positive = moved up) and of % (in percentage points), and
per unit the criteria at 0 or below half of their maximum.

A survey criterion with no score for a unit is never counted as 0: the unit's field and total
have no value, no rank and no band, and ``no_data`` names the criteria.

Rows of an input file are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.file_limits import FileTooLarge, check_csv_header, check_workbook
from analysis.messages import _, ngettext, reasons
from analysis.problems import FileInvalid, Problem
from analysis.scheme import DECIMALS, Field, Scheme

APPRAISAL_COLUMNS = [
    "unit_code",
    "unit_name",
    "block",
    "field",
    "criterion",
    "max_points",
    "self_points",
    "appraised_points",
]
POINTS = ("appraised", "self")
#: What an appraisal file is called in messages about it.
APPRAISAL_FILE = _("appraisal file")
#: Rows under the header of an appraisal file, one per unit and appraisal criterion: a national
#: file is at most a few thousand units x ~100 criteria (2022: 88 component criteria), so this
#: holds the largest with room, and is still read and checked in seconds. The survey scores (a
#: row per unit, criterion and group) are bounded alike. Without a bound the command line would
#: read a file of any length; the web's 512 KB upload limit is far below it.
MAX_APPRAISAL_ROWS = 500_000
#: Rows of last year's index, one per unit: several times the few thousand units of the largest
#: exercise.
MAX_PREVIOUS_ROWS = 20_000
WEAK_COLUMNS = [
    "unit_code",
    "unit_name",
    "block",
    "field",
    "criterion",
    "source",
    "points",
    "max_points",
    "percent",
    "reason",
]


class AppraisalError(FileInvalid):
    """An input file that cannot make an index; `problems` names every bad row (the header being
    row 1), the message joins them."""

    def __init__(self, problems: list[Problem] | str) -> None:
        super().__init__([Problem(message=problems)] if isinstance(problems, str) else problems)


class _CellError(ValueError):
    """One cell that is wrong; the caller adds the row."""


@dataclass
class SurveyPoints:
    """Combined survey points per unit and criterion, and the SE of each unit's survey total."""

    criteria: pd.DataFrame
    total_se: dict[str, float]
    #: the scored units and their blocks (``unit_code``, ``block``), in the scores' order
    units: pd.DataFrame | None = None


@dataclass
class IndexResult:
    """One row per unit (`table`), and the weak criteria, one row each (`weak`)."""

    table: pd.DataFrame
    weak: pd.DataFrame


# ---------------------------------------------------------------------------------------------
# Reading


def read_table(path: str | Path, what: str, max_rows: int = MAX_APPRAISAL_ROWS) -> pd.DataFrame:
    """A CSV or Excel (.xlsx) file as text cells; empty cells are missing. A file of more than
    `max_rows` rows under its header is refused, having read no more than one row past it (a
    workbook is bounded by `check_workbook` as well)."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            check_workbook(path.read_bytes())
        else:
            with path.open("rb") as handle:
                check_csv_header(handle.read(1 << 20).decode("utf-8", errors="replace"))
    except FileTooLarge as exc:
        raise AppraisalError(_cannot_read(what, path, reasons(exc)[0])) from None
    except OSError:
        pass  # said below, with the reader's own words
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            table = pd.read_excel(
                path, dtype=str, keep_default_na=False, na_values=[""], nrows=max_rows + 1
            )
        else:
            table = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], nrows=max_rows + 1
            )
    except FileNotFoundError:
        raise AppraisalError(_cannot_read(what, path, _("no such file"))) from None
    except Exception as exc:  # noqa: BLE001 - whatever the readers refuse, the file is unreadable
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AppraisalError(_cannot_read(what, path, reason)) from None
    if len(table) > max_rows:
        raise AppraisalError(
            _(
                "the %(what)s %(path)s has more than %(max_rows)s rows under its header; at "
                "most %(max_rows)s are read",
                what=what,
                path=str(path),
                max_rows=max_rows,
            )
        )
    table.columns = [str(c).strip() for c in table.columns]
    return table


def _cannot_read(what, path, reason):
    return _(
        "cannot read the %(what)s %(path)s: %(reason)s", what=what, path=str(path), reason=reason
    )


def _number(text, column: str, required: bool = True) -> float:
    """A cell as a finite number: "inf", "nan" and "1e400" (which float() reads as inf) are
    refused as not numbers, an empty cell too unless not `required` (then NaN)."""
    if pd.isna(text) or not str(text).strip():
        if required:
            raise _CellError(_("%(column)s is empty", column=column))
        return np.nan
    try:
        value = float(str(text).replace(",", "."))
    except ValueError:
        raise _CellError(_not_a_number(column, text)) from None
    if not np.isfinite(value):
        raise _CellError(_not_a_number(column, text))
    return value


def _not_a_number(column, text):
    return _("%(column)s %(text)s is not a number", column=column, text=repr(text))


def _columns_missing(what, missing: list[str], needed: str):
    return ngettext(
        "the %(what)s lacks the column %(columns)s (it needs %(needed)s)",
        "the %(what)s lacks the columns %(columns)s (it needs %(needed)s)",
        len(missing),
        what=what,
        columns=", ".join(missing),
        needed=needed,
    )


def check_appraisal(
    scheme: Scheme, table: pd.DataFrame, what: str = APPRAISAL_FILE, points: str = "appraised"
) -> pd.DataFrame:
    """Validate appraisal rows against the scheme; return them with numeric ``points``.

    ``points`` chooses the council's ``appraised`` points (the default) or the unit's ``self``
    points (a preview before the council meets).
    """
    if points not in POINTS:
        raise AppraisalError(_("points must be one of %(choices)s", choices=", ".join(POINTS)))
    missing = [c for c in APPRAISAL_COLUMNS if c not in table.columns]
    if missing:
        raise AppraisalError(_columns_missing(what, missing, ",".join(APPRAISAL_COLUMNS)))
    if table.empty:
        raise AppraisalError(_("the %(what)s has no rows", what=what))
    criteria = scheme.criteria
    blocks = {b.code for b in scheme.blocks}
    units: dict[str, tuple[str, str, int]] = {}
    seen: dict[tuple[str, str], int] = {}
    out = []
    problems: list[Problem] = []
    # the columns as lists: a cell by .iloc costs some 10 us, a minute for MAX_APPRAISAL_ROWS rows
    columns = {c: table[c].tolist() for c in APPRAISAL_COLUMNS}
    for i in range(len(table)):
        row = i + 2
        try:
            cell = {c: _text(columns[c][i]) for c in ("unit_code", "unit_name", "block")}
            code, criterion_code, field_code = (
                cell["unit_code"],
                _text(columns["criterion"][i]),
                _text(columns["field"][i]),
            )
            for column in ("unit_code", "block", "criterion"):
                if not (cell.get(column) if column != "criterion" else criterion_code):
                    raise _CellError(_("%(column)s is empty", column=column))
            if cell["block"] not in blocks:
                raise _CellError(
                    _(
                        "the block %(block)s is not one of the scheme's blocks (%(blocks)s)",
                        block=repr(cell["block"]),
                        blocks=", ".join(sorted(blocks)),
                    )
                )
            criterion = criteria.get(criterion_code)
            if criterion is None:
                raise _CellError(
                    _(
                        "the criterion %(criterion)s is not in the scheme %(scheme)s",
                        criterion=repr(criterion_code),
                        scheme=scheme.code,
                    )
                )
            if criterion.source != "appraisal":
                raise _CellError(
                    _(
                        "the criterion %(criterion)s is scored by the survey, not by appraisal; "
                        "remove the row",
                        criterion=criterion_code,
                    )
                )
            if field_code != criterion.field:
                raise _CellError(
                    _(
                        "the criterion %(criterion)s belongs to field %(field)s, not %(given)s",
                        criterion=criterion_code,
                        field=criterion.field,
                        given=repr(field_code),
                    )
                )
            max_points = _number(columns["max_points"][i], "max_points")
            if abs(max_points - criterion.max_points) > 1e-9:
                raise _CellError(
                    _(
                        "max_points is %(given)s but the scheme gives the criterion "
                        "%(criterion)s %(points)s points",
                        given=max_points,
                        criterion=criterion_code,
                        points=float(criterion.max_points),
                    )
                )
            values = {}
            for column in ("self_points", "appraised_points"):
                required = column == f"{points}_points"
                value = _number(columns[column][i], column, required)
                if np.isfinite(value) and (value < 0 or value > criterion.max_points + 1e-9):
                    raise _CellError(
                        _(
                            "%(column)s %(value)s is outside 0 to the maximum %(points)s of "
                            "criterion %(criterion)s",
                            column=column,
                            value=float(value),
                            points=float(criterion.max_points),
                            criterion=criterion_code,
                        )
                    )
                values[column] = value
            first = units.setdefault(code, (cell["unit_name"], cell["block"], row))
            if (first[0], first[1]) != (cell["unit_name"], cell["block"]):
                raise _CellError(
                    _(
                        "the unit %(unit)s is named %(name)s in the block %(block)s here but "
                        "%(first_name)s in %(first_block)s on row %(row)s",
                        unit=code,
                        name=repr(cell["unit_name"]),
                        block=cell["block"],
                        first_name=repr(first[0]),
                        first_block=first[1],
                        row=first[2],
                    )
                )
            earlier = seen.setdefault((code, criterion_code), row)
            if earlier != row:
                raise _CellError(
                    _(
                        "the unit %(unit)s has the criterion %(criterion)s twice "
                        "(also on row %(row)s)",
                        unit=code,
                        criterion=criterion_code,
                        row=earlier,
                    )
                )
            out.append(
                {
                    "unit_code": code,
                    "unit_name": cell["unit_name"],
                    "block": cell["block"],
                    "field": criterion.field,
                    "criterion": criterion_code,
                    "max_points": criterion.max_points,
                    "points": values[f"{points}_points"],
                }
            )
        except _CellError as exc:
            problems.append(Problem(what, row, None, exc.args[0]))
    if problems:
        raise AppraisalError(problems)
    needed = [c for c in criteria.values() if c.source == "appraisal"]
    for code in units:
        lacking = [c.code for c in needed if (code, c.code) not in seen]
        if lacking:
            problems.append(
                Problem(
                    what,
                    None,
                    None,
                    ngettext(
                        "no row for the unit %(unit)s and the criterion %(criteria)s: every "
                        "appraisal criterion needs one",
                        "no row for the unit %(unit)s and the criteria %(criteria)s: every "
                        "appraisal criterion needs one",
                        len(lacking),
                        unit=code,
                        criteria=", ".join(lacking[:10]) + (" ..." if len(lacking) > 10 else ""),
                    ),
                )
            )
    if problems:
        raise AppraisalError(problems)
    return pd.DataFrame(out)


def _text(value) -> str:
    return "" if pd.isna(value) else str(value).strip()


def _refuse_numbers_not_finite(table: pd.DataFrame, columns, what) -> None:
    """Every cell of `columns` empty (no value) or a finite number: "inf" and "1e400" in a
    scores file would otherwise go on as infinite points. Rows counted as in the file, the
    header being row 1."""
    problems = []
    for column in columns:
        if column not in table:
            continue
        for row, text in enumerate(table[column].tolist(), start=2):
            try:
                _number(text, column, required=False)
            except _CellError as exc:
                problems.append(Problem(str(what), row, None, exc.args[0]))
    if problems:
        raise AppraisalError(sorted(problems, key=lambda problem: problem.line))


def survey_points(
    scheme: Scheme,
    scores: pd.DataFrame,
    what: str = _("survey scores"),
    source: str | None = None,
) -> SurveyPoints:
    """Combined points per unit and survey criterion from a scores table (`analysis.scoring`);
    `source`, the file it was read from, names where a bad cell is."""
    needed = {"unit", "kind", "code", "group", "estimate"}
    missing = sorted(needed - set(scores.columns))
    if missing:
        raise AppraisalError(
            ngettext(
                "the %(what)s lack the column %(columns)s: give the output of "
                "python -m analysis score",
                "the %(what)s lack the columns %(columns)s: give the output of "
                "python -m analysis score",
                len(missing),
                what=what,
                columns=", ".join(missing),
            )
        )
    _refuse_numbers_not_finite(scores, ("estimate", "se"), source or what)
    group = scores["group"].fillna("").astype(str).str.strip()
    rows = scores[(scores["kind"] == "criterion") & (group == "")].copy()
    rows["unit"] = rows["unit"].astype(str).str.strip()
    rows["code"] = rows["code"].astype(str).str.strip()
    rows["estimate"] = pd.to_numeric(rows["estimate"], errors="coerce")
    for column in ("se",):
        rows[column] = pd.to_numeric(rows[column], errors="coerce") if column in rows else np.nan
    if "low_n" in rows:
        rows["low_n"] = rows["low_n"].astype(str).str.strip().str.lower().isin(["true", "1"])
    else:
        rows["low_n"] = False
    criteria = scheme.criteria
    for code in rows["code"].unique():
        if code not in criteria or criteria[code].source != "survey":
            raise AppraisalError(
                _(
                    "the %(what)s score the criterion %(criterion)s, which is not a survey "
                    "criterion of the scheme %(scheme)s: were they made with another scheme?",
                    what=what,
                    criterion=repr(code),
                    scheme=scheme.code,
                )
            )
    duplicated = rows.duplicated(["unit", "code"])
    if duplicated.any():
        first = rows[duplicated].iloc[0]
        raise AppraisalError(
            _(
                "the %(what)s give the criterion %(criterion)s of the unit %(unit)s twice",
                what=what,
                criterion=first["code"],
                unit=first["unit"],
            )
        )
    totals = scores[(scores["kind"] == "total") & (scores["code"].astype(str) == "all")]
    total_se = (
        {
            str(u).strip(): float(se)
            for u, se in zip(
                totals["unit"], pd.to_numeric(totals.get("se"), errors="coerce"), strict=True
            )
        }
        if "se" in scores
        else {}
    )
    units = _scored_units(scheme, scores)
    return SurveyPoints(rows[["unit", "code", "estimate", "se", "low_n"]], total_se, units)


def _scored_units(scheme: Scheme, scores: pd.DataFrame) -> pd.DataFrame:
    """Every unit of a scores table with its block: the first one its rows give, else the
    scheme's one block, else empty (checked by `build_index` when it needs them)."""
    units = scores["unit"].astype(str).str.strip()
    blocks = pd.Series("", index=scores.index)
    if "block" in scores.columns:
        blocks = scores["block"].fillna("").astype(str).str.strip()
    if len(scheme.blocks) == 1:
        blocks = blocks.where(blocks != "", scheme.blocks[0].code)
    table = pd.DataFrame({"unit_code": units, "block": blocks})
    table = table.sort_values("block", key=lambda b: b == "", kind="stable")
    table = table.drop_duplicates("unit_code").sort_index()
    return table.reset_index(drop=True)


def _check_blocks(scheme: Scheme, units: pd.DataFrame) -> None:
    known = {b.code for b in scheme.blocks}
    for unit, block in units[["unit_code", "block"]].itertuples(index=False):
        if block not in known:
            raise AppraisalError(
                _(
                    "the survey scores put the unit %(unit)s in the block %(block)s, which the "
                    "scheme %(scheme)s does not have (%(blocks)s): give the scores the block "
                    "column python -m analysis score writes",
                    unit=unit,
                    block=repr(block),
                    scheme=scheme.code,
                    blocks=", ".join(sorted(known)),
                )
            )


def read_previous(path: str | Path) -> pd.DataFrame:
    """Last year's index file: ``unit_code``, ``rank`` and ``percent`` are used. An empty rank
    or % is a unit that had none; anything else that is not a finite number is refused, every
    such cell named with its row."""
    table = read_table(path, _("previous index"), max_rows=MAX_PREVIOUS_ROWS)
    missing = [c for c in ("unit_code", "rank", "percent") if c not in table.columns]
    if missing:
        raise AppraisalError(
            ngettext(
                "the previous index %(path)s lacks the column %(columns)s: give an index file "
                "written by python -m analysis index",
                "the previous index %(path)s lacks the columns %(columns)s: give an index file "
                "written by python -m analysis index",
                len(missing),
                path=str(path),
                columns=", ".join(missing),
            )
        )
    numbers: dict[str, list[float]] = {"rank": [], "percent": []}
    problems = []
    for column, values in numbers.items():
        for row, text in enumerate(table[column].tolist(), start=2):
            try:
                values.append(_number(text, column, required=False))
            except _CellError as exc:
                problems.append(Problem(str(path), row, None, exc.args[0]))
                values.append(np.nan)
    if problems:
        raise AppraisalError(sorted(problems, key=lambda problem: problem.line))
    ranks = pd.Series(numbers["rank"], dtype="float64")
    # a whole number past 2**53 (1e300) is no rank, and would not survive int64 unchanged
    if ranks.notna().all() and (ranks % 1 == 0).all() and (ranks.abs() <= 2**53).all():
        # whole ranks as pandas reads them, so that the index writes them back as 3, not 3.0
        ranks = ranks.astype("int64")
    out = pd.DataFrame(
        {
            "unit_code": table["unit_code"].astype(str).str.strip(),
            "previous_rank": ranks.to_numpy(),
            "previous_percent": numbers["percent"],
        }
    )
    if out["unit_code"].duplicated().any():
        unit = out.loc[out["unit_code"].duplicated(), "unit_code"].iloc[0]
        raise AppraisalError(
            _("the previous index %(path)s has the unit %(unit)s twice", path=str(path), unit=unit)
        )
    return out


# ---------------------------------------------------------------------------------------------
# The index


def published(values, decimals: int = DECIMALS) -> np.ndarray:
    """Values as published: rounded half away from zero to ``decimals``, as a spreadsheet does.

    The value is first taken to 9 decimals, so that 89.225 computed as 89.22499999999999 still
    publishes as 89.23. No value (NaN) stays NaN.
    """
    step = Decimal(1).scaleb(-decimals)
    out = []
    for value in np.asarray(values, dtype=np.float64).ravel():
        if not math.isfinite(value):
            out.append(np.nan)
            continue
        exact = Decimal(repr(round(float(value), 9)))
        out.append(float(exact.quantize(step, rounding=ROUND_HALF_UP)))
    return np.array(out, dtype=np.float64).reshape(np.shape(values))


def competition_rank(values, decimals: int = DECIMALS) -> pd.arrays.IntegerArray:
    """Ranks, highest first, ties sharing the best rank of their group (1, 2, 2, 4).

    Values are compared as published (`published`); a unit with no value has no rank.
    """
    shown = published(values, decimals)
    finite = np.isfinite(shown)
    ranks = [
        1 + int((shown[finite] > v).sum()) if ok else None
        for v, ok in zip(shown, finite, strict=True)
    ]
    return pd.array(ranks, dtype="Int64")


def build_index(
    scheme: Scheme,
    appraisal: pd.DataFrame | None,
    survey: SurveyPoints | None,
    previous: pd.DataFrame | None = None,
) -> IndexResult:
    """The index of every unit from the parts the scheme has.

    ``appraisal`` is `check_appraisal` output (None when the scheme has no appraisal criteria);
    ``survey`` is `survey_points` output (None when it has no survey criteria); ``previous`` is
    `read_previous` output. The units are those of the appraisal file, or, without appraisal
    criteria, those the scores name. A survey criterion with no score for a unit (nobody who
    rates it gave a valid answer, or the unit has no respondents at all) has no points: the unit's
    field and total have no value and no rank, and ``no_data`` names the criteria. It never
    counts as 0.
    """
    if scheme.has_appraisal and appraisal is None:
        raise AppraisalError(
            _(
                "the scheme %(scheme)s has appraisal criteria: give the appraisal points",
                scheme=scheme.code,
            )
        )
    if scheme.has_survey and survey is None:
        raise AppraisalError(
            _(
                "the scheme %(scheme)s has survey criteria: give the survey scores",
                scheme=scheme.code,
            )
        )
    if not scheme.has_appraisal:
        appraisal = None
    if not scheme.has_survey:
        survey = None
    criteria = scheme.criteria
    survey_criteria = [c for c in criteria.values() if c.source == "survey"]
    total_se = survey.total_se if survey is not None else {}
    scored_units = set(survey.criteria["unit"]) if survey is not None else set()
    if appraisal is not None:
        units = appraisal.drop_duplicates("unit_code")[["unit_code", "unit_name", "block"]]
    else:
        # no appraisal file names the units: they are those scored, named by their code
        _check_blocks(scheme, survey.units)
        units = survey.units.assign(unit_name=survey.units["unit_code"])
        units = units[["unit_code", "unit_name", "block"]]
    if survey is not None and appraisal is not None:
        if not scored_units & set(units["unit_code"]):
            raise AppraisalError(
                _(
                    "the survey scores have none of the appraisal file's units (they score "
                    "%(scored)s): score the responses with --unit, or with --unit-code %(unit)s",
                    scored=", ".join(sorted(scored_units)[:5]),
                    unit=units["unit_code"].iloc[0],
                )
            )
        extra = sorted(scored_units - set(units["unit_code"]))
        if extra:
            raise AppraisalError(
                _(
                    "the survey scores have units with no appraisal rows: %(units)s",
                    units=", ".join(extra[:5]),
                )
            )
    points_rows = []
    indexed = survey.criteria.set_index(["unit", "code"]) if survey is not None else None
    for unit in units.itertuples(index=False):
        for criterion in survey_criteria:
            key = (unit.unit_code, criterion.code)
            if unit.unit_code in scored_units and key not in indexed.index:
                raise AppraisalError(
                    _(
                        "the survey scores have no points for the criterion %(criterion)s of the "
                        "unit %(unit)s: give the whole output of python -m analysis score",
                        criterion=criterion.code,
                        unit=unit.unit_code,
                    )
                )
            found = indexed.loc[key] if key in indexed.index else None
            value = np.nan if found is None else float(found["estimate"])
            se = np.nan if found is None else float(found["se"])
            points_rows.append(
                {
                    "unit_code": unit.unit_code,
                    "unit_name": unit.unit_name,
                    "block": unit.block,
                    "field": criterion.field,
                    "criterion": criterion.code,
                    "max_points": criterion.max_points,
                    "points": value if np.isfinite(value) else np.nan,
                    "se": se if np.isfinite(se) else np.nan,
                    "low_n": True if found is None else bool(found["low_n"]),
                }
            )
    parts = []
    if appraisal is not None:
        parts.append(appraisal.assign(source="appraisal", se=np.nan, low_n=False))
    if points_rows:
        parts.append(pd.DataFrame(points_rows).assign(source="survey"))
    everything = pd.concat(parts, ignore_index=True)
    table = _unit_table(scheme, units, everything, total_se)
    if previous is not None:
        table = table.merge(previous, on="unit_code", how="left")
        table["rank_change"] = table["previous_rank"] - table["rank"].astype("float64")
        table["percent_change"] = table["percent"] - table["previous_percent"]
    else:
        for column in ("previous_rank", "previous_percent", "rank_change", "percent_change"):
            table[column] = np.nan
    order = {code: i for i, code in enumerate(criteria)}
    weak = _weak(everything, order)
    summary = {
        unit: "; ".join(
            f"{c} ({round(p, 2):g}/{m:g})"  # as published: two decimals
            for c, p, m in zip(rows["criterion"], rows["points"], rows["max_points"], strict=True)
        )
        for unit, rows in weak.groupby("unit_code", sort=False)
    }
    table["weak_criteria"] = [summary.get(u, "") for u in table["unit_code"]]
    front = [
        "unit_code",
        "unit_name",
        "block",
        "appraisal_points",
        "survey_points",
        "survey_se",
        "total_points",
        "max_points",
        "percent",
        "published_percent",
        "rank",
        "units_in_block",
        "band",
        "previous_rank",
        "rank_change",
        "previous_percent",
        "percent_change",
        "low_n",
        "no_data",
        "weak_criteria",
    ]
    rest = [c for c in table.columns if c not in front]
    table = table[front + rest].sort_values(["block", "rank", "unit_code"], kind="stable")
    return IndexResult(table.reset_index(drop=True), weak)


def _sum(points: pd.Series) -> float:
    """A sum that has no value when one of its parts has none."""
    return float(points.sum()) if points.notna().all() else np.nan


def _field_points(field: Field, rows: pd.DataFrame) -> float:
    """A field's points from its criteria's rows: their sum, or on a floored scale
    floor + (max - floor) x sum / the criteria's maximum."""
    total = _sum(rows["points"])
    if field.floor is None:
        return total
    return field.floor + (field.max_points - field.floor) * total / field.criteria_max


def _unit_table(scheme, units, everything, total_se: dict[str, float]) -> pd.DataFrame:
    rows = []
    decimals = scheme.decimals
    for unit in units.itertuples(index=False):
        mine = everything[everything["unit_code"] == unit.unit_code]
        surveyed = mine[mine["source"] == "survey"]
        absent = surveyed.loc[surveyed["points"].isna(), "criterion"]
        by_part = {"appraisal": [], "survey": []}
        row = {"unit_code": unit.unit_code, "unit_name": unit.unit_name, "block": unit.block}
        for f in scheme.fields:
            in_field = mine[mine["field"] == f.code]
            if f.floor is not None:
                part = "appraisal" if f.parts == {"appraisal"} else "survey"
                by_part[part].append(_field_points(f, in_field))
            else:
                for source, points in by_part.items():
                    points.append(_sum(in_field.loc[in_field["source"] == source, "points"]))
            in_field_points = _field_points(f, in_field)
            row[f"field_{f.code}_points"] = in_field_points
            row[f"field_{f.code}_percent"] = 100 * in_field_points / f.max_points
        appraisal_points = _sum(pd.Series(by_part["appraisal"], dtype="float64"))
        survey_points = _sum(pd.Series(by_part["survey"], dtype="float64"))
        row.update(
            {
                # a part the scheme does not have is left empty, not 0
                "appraisal_points": appraisal_points if scheme.has_appraisal else np.nan,
                "survey_points": survey_points if scheme.has_survey else np.nan,
                # the SE of the survey total accounts for the covariance of its criteria
                "survey_se": total_se.get(unit.unit_code, np.nan) if absent.empty else np.nan,
                "total_points": _sum(
                    pd.Series([row[f"field_{f.code}_points"] for f in scheme.fields])
                ),
                "max_points": scheme.max_points,
                "low_n": bool(surveyed["low_n"].any()),
                "no_data": "; ".join(absent),
            }
        )
        row["percent"] = 100 * row["total_points"] / row["max_points"]
        row["published_percent"] = float(published(row["percent"], decimals))
        row["band"] = scheme.band(row["published_percent"])
        rows.append(row)
    table = pd.DataFrame(rows)
    table["rank"] = pd.array([None] * len(table), dtype="Int64")
    table["units_in_block"] = 0
    field_ranks = {f.code: pd.array([None] * len(table), dtype="Int64") for f in scheme.fields}
    for _block, members in table.groupby("block").groups.items():
        where = table.index.get_indexer(members)
        ranks = competition_rank(table.loc[members, "percent"], decimals)
        table.loc[members, "rank"] = ranks
        table.loc[members, "units_in_block"] = int((~ranks.isna()).sum())
        for f in scheme.fields:
            field_ranks[f.code][where] = competition_rank(
                table.loc[members, f"field_{f.code}_percent"], decimals
            )
    for f in scheme.fields:
        table[f"field_{f.code}_rank"] = field_ranks[f.code]
    return table


def _weak(everything: pd.DataFrame, order: dict[str, int]) -> pd.DataFrame:
    scored = everything[everything["points"].notna()]
    zero = scored["points"] <= 1e-12
    below = scored["points"] < scored["max_points"] / 2
    weak = scored[zero | below].copy()
    weak["reason"] = np.where(weak["points"] <= 1e-12, "zero", "below half")
    weak["percent"] = 100 * weak["points"] / weak["max_points"]
    weak["_order"] = weak["criterion"].map(order)
    weak = weak.sort_values(["unit_code", "_order"], kind="stable")
    return weak[WEAK_COLUMNS].reset_index(drop=True)
