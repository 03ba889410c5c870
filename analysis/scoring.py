"""From answers to survey points: item scores, criteria, fields and SIPAS, each with its error.

The rules are those of DOMAIN.md ("Scoring rules"); every number comes from the scheme
(`analysis.scheme`):

- an item score in [0, 1] is the weighted mean of the rule's values rescaled from [min, max], or the
  weighted share of positive answers; "don't know" (an empty cell) leaves the respondent out of the
  item's denominator but in the design (a domain, as ``svymean(..., na.rm = TRUE)``);
- a criterion's points for one group are its maximum times the mean of its items' scores; groups
  combine by the scheme's weights, rescaled over the groups that have answers for the unit, or
  pool their respondents where the scheme says ``pooled``;
- fields and totals are sums of criteria; SIPAS elements are means of share scores in %, the
  overall index the mean of the elements or the share on the overall question; citizens' points
  are a criterion's maximum times the index / 100.

Every figure is a smooth function of weighted means, so its standard error is linearised (Lumley
2010, ch. 2): each estimate carries its influence values on the respondents of every group, linear
combinations combine them, and `analysis.estimate.Design.variance` turns them into a variance under
the group's design (strata and clusters for citizens; leaders and delegates are unweighted
censuses, one respondent per PSU). Groups are independent samples, so their variances add. Units
(rated agencies or provinces) are domains of each group's design.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from analysis.estimate import Design, EstimationError
from analysis.intervals import INTERVALS, check_df, check_level, interval
from analysis.messages import _, reasons
from analysis.scheme import POOLED, Criterion, ItemRef, Scheme
from analysis.weights import CalibrationModel, WeightingError, check_base_weight

COLUMNS = [
    "unit",
    "block",
    "kind",
    "field",
    "code",
    "group",
    "rule",
    "n",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "max_points",
    "low_n",
    "no_data",
]
#: ``kind`` of the rows of a scores table
KINDS = ("item", "criterion", "field", "total", "sipas_element", "sipas")
#: Name of the single unit when the responses have no unit column.
DEFAULT_UNIT = "all"


class ScoringError(ValueError):
    """Responses that cannot be scored with the scheme; the message says what to fix."""


@dataclass
class _Sample:
    """One respondent group: its table, design and the unit each respondent rates."""

    group: str
    data: pd.DataFrame
    design: Design
    #: index into the unit list, one per row (a respondent rating several units has a row each)
    unit: np.ndarray
    minimum: int
    #: the person behind every row (dense codes); each row its own person without a
    #: respondent column
    person: np.ndarray | None = None

    @property
    def people(self) -> int:
        return int(self.person.max()) + 1 if self.person is not None and len(self.person) else 0


@dataclass
class _Estimate:
    """One figure per unit with the influence values that give its variance."""

    value: np.ndarray
    #: group -> contribution of each respondent to the estimate of the unit they rate
    influence: dict[str, np.ndarray]
    #: group -> respondents with at least one valid answer under this figure
    answered: dict[str, np.ndarray]
    #: per unit: rests on fewer valid answers than the scheme's minimum somewhere
    low: np.ndarray


@dataclass
class ScoreResult:
    """The scores table (columns `COLUMNS`) and what it was computed from."""

    table: pd.DataFrame
    units: list[str]
    blocks: dict[str, str] = field(default_factory=dict)

    @property
    def flagged(self) -> pd.DataFrame:
        """Rows resting on fewer valid answers than the scheme's minimum."""
        return self.table[self.table["low_n"]]


# ---------------------------------------------------------------------------------------------
# Entry point


def score(
    scheme: Scheme,
    responses: Mapping[str, pd.DataFrame] | pd.DataFrame,
    *,
    group_column: str = "group",
    unit: str | None = None,
    unit_code: str = DEFAULT_UNIT,
    block: str | None = None,
    weight: str = "weight",
    strata: str | None = None,
    cluster: str | None = None,
    fpc: str | None = None,
    lonely_psu: str = "fail",
    calibration: Mapping[str, CalibrationModel] | None = None,
    level: float = 0.95,
    interval_method: str = "logit",
    df: str | float = "normal",
    respondent: str | None = None,
) -> ScoreResult:
    """Score responses with a scheme.

    Parameters
    ----------
    responses
        One table per respondent group (the export CSV of its questionnaire), or one table with a
        ``group_column`` naming each respondent's group.
    unit, block
        Columns naming the rated unit and its block, for internal indexes with cross-rating.
        Without ``unit`` every respondent rates the one unit ``unit_code``; without ``block`` the
        scheme must have a single block.
    weight, strata, cluster
        Columns of the final weight and of the design, used for the groups the scheme marks
        ``weighted`` (citizens); the other groups are unweighted censuses.
    fpc
        Column of the population size behind each respondent, for a finite population correction
        (``svydesign(fpc = )``): for a weighted group the number of PSUs in the respondent's
        stratum; for a census group (leaders, delegates) the number invited for the unit they
        rate, the unit then being the group's stratum. Groups without the column get none.
    lonely_psu
        ``survey.lonely.psu``: fail, remove, certainty, adjust or average.
    respondent
        Column identifying the person behind each row, for cross-rating: a respondent who rates
        several units has one row per unit, and all their rows are one cluster (PSU), as
        ``svydesign(ids = ~respondent)``; ``n`` then counts people. For a weighted group with a
        ``cluster`` column, each respondent must lie in one cluster (and one stratum), which stays
        the PSU. A group without the column has one respondent per row. A respondent may rate a
        unit once.
    calibration
        Per weighted group, the calibration model its weights came from
        (`analysis.weights.WeightResult.calibration`): the variances then use the calibration
        residuals, as ``svymean`` on a calibrated design does. Without it the weights are taken
        as given, which overstates the SE of calibrated weights.
    level, interval_method, df
        The confidence level; ``"logit"`` intervals (``svyciprop(method = "logit")``) for
        shares, SIPAS and the points made from SIPAS, so they stay inside their range, Wald for
        the rest, or ``"wald"`` for every row; ``df`` ``"normal"`` for normal quantiles,
        ``"design"`` for Student's t with the design's degrees of freedom (PSUs minus strata,
        summed over the groups an estimate rests on), or a number.
    """
    check_level(level)
    if interval_method not in INTERVALS:
        raise ScoringError(
            _("the interval must be one of %(choices)s", choices=", ".join(INTERVALS))
        )
    df = check_df(df)
    tables = split_groups(scheme, responses, group_column)
    units, blocks = _units(scheme, tables, unit, unit_code, block)
    design = _DesignColumns(
        weight, strata, cluster, fpc, lonely_psu, dict(calibration or {}), respondent
    )
    if fpc is not None and not any(fpc in t.columns for t in tables.values()):
        raise ScoringError(
            _("no group's responses have the fpc column %(column)s", column=repr(fpc))
        )
    samples = {g: _sample(scheme, g, t, units, unit, unit_code, design) for g, t in tables.items()}
    scorer = _Scorer(scheme, samples, len(units))
    rows = scorer.run()
    table = _table(rows, samples, units, blocks, level, interval_method, df)
    return ScoreResult(table, units, blocks)


@dataclass
class _DesignColumns:
    """The design options of `score`, as given."""

    weight: str
    strata: str | None
    cluster: str | None
    fpc: str | None
    lonely_psu: str
    calibration: dict[str, CalibrationModel]
    respondent: str | None = None


def split_groups(scheme: Scheme, responses, group_column: str = "group") -> dict[str, pd.DataFrame]:
    """One table per respondent group, from a mapping or one table with a group column."""
    if isinstance(responses, pd.DataFrame):
        if group_column not in responses.columns:
            raise ScoringError(
                _(
                    "the responses have no %(column)s column: give one table per group or a "
                    "column naming each respondent's group",
                    column=repr(group_column),
                )
            )
        labels = responses[group_column].astype("string").str.strip()
        tables = {
            str(g): responses[labels == g].reset_index(drop=True) for g in labels.dropna().unique()
        }
        unnamed = labels.isna() | (labels == "")
        if unnamed.any():
            row = int(np.flatnonzero(unnamed.to_numpy())[0])
            raise ScoringError(
                _(
                    "row %(row)s of the responses has no %(column)s",
                    row=row + 2,
                    column=group_column,
                )
            )
    else:
        tables = {str(g): t.reset_index(drop=True) for g, t in responses.items()}
    for g in tables:
        if g not in scheme.groups:
            raise ScoringError(
                _(
                    "the responses include the group %(group)s, which the scheme %(scheme)s "
                    "does not know (its groups: %(groups)s)",
                    group=repr(g),
                    scheme=scheme.code,
                    groups=", ".join(scheme.groups),
                )
            )
    if not tables or all(t.empty for t in tables.values()):
        raise ScoringError(_("there are no responses to score"))
    return tables


def _units(scheme, tables, unit, unit_code, block) -> tuple[list[str], dict[str, str]]:
    if block is None and len(scheme.blocks) != 1:
        names = ", ".join(b.code for b in scheme.blocks)
        raise ScoringError(
            _(
                "the scheme has several blocks (%(blocks)s): give the column that names each "
                "unit's block",
                blocks=names,
            )
        )
    blocks: dict[str, str] = {}
    for group, table in tables.items():
        codes = _unit_codes(table, unit, unit_code, group)
        if block is None:
            block_codes = np.full(len(table), scheme.blocks[0].code, dtype=object)
        else:
            if block not in table.columns:
                raise ScoringError(
                    _(
                        "the %(group)s responses have no block column %(column)s",
                        group=group,
                        column=repr(block),
                    )
                )
            block_codes = table[block].astype("string").str.strip().to_numpy(dtype=object)
        # each distinct (unit, block) pair at its first row: the first row that fails is one
        pairs = pd.DataFrame({"unit": codes, "block": block_codes}, dtype=object).drop_duplicates()
        for i, u, b in pairs.itertuples(name=None):
            known = scheme.block(b) if isinstance(b, str) else None
            if known is None:
                raise ScoringError(
                    _(
                        "row %(row)s of the %(group)s responses names the block %(block)s, "
                        "which the scheme does not have (%(blocks)s)",
                        row=int(i) + 2,
                        group=group,
                        block=repr(b),
                        blocks=", ".join(x.code for x in scheme.blocks),
                    )
                )
            if group not in known.raters:
                raise ScoringError(
                    _(
                        "row %(row)s of the %(group)s responses rates %(unit)s in the block "
                        "%(block)s, which the scheme has rated only by %(raters)s",
                        row=int(i) + 2,
                        group=group,
                        unit=repr(u),
                        block=b,
                        raters=", ".join(known.raters),
                    )
                )
            if blocks.setdefault(u, b) != b:
                raise ScoringError(
                    _(
                        "the unit %(unit)s is in the block %(block)s on one row and in %(other)s "
                        "on row %(row)s of the %(group)s responses",
                        unit=repr(u),
                        block=blocks[u],
                        other=b,
                        row=int(i) + 2,
                        group=group,
                    )
                )
    return sorted(blocks), blocks


def _unit_codes(table: pd.DataFrame, unit, unit_code: str, group: str) -> np.ndarray:
    if unit is None:
        return np.full(len(table), unit_code, dtype=object)
    if unit not in table.columns:
        raise ScoringError(
            _(
                "the %(group)s responses have no unit column %(column)s",
                group=group,
                column=repr(unit),
            )
        )
    codes = table[unit].astype("string").str.strip()
    empty = codes.isna() | (codes == "")
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0])
        raise ScoringError(
            _(
                "row %(row)s of the %(group)s responses names no %(unit)s",
                row=row + 2,
                group=group,
                unit=unit,
            )
        )
    return codes.to_numpy(dtype=object)


def _sample(scheme, group, table, units, unit, unit_code, options: _DesignColumns) -> _Sample:
    spec = scheme.groups[group]
    n = len(table)
    codes = _unit_codes(table, unit, unit_code, group)
    person = _people(table, options.respondent, codes, group)
    crossing = person is not None and _rates_several(person)
    # Design.build reads and checks the column, naming the stratum and row of a bad value
    fpc = table[options.fpc] if options.fpc is not None and options.fpc in table.columns else None
    calibration = None
    if spec.weighted:
        if options.weight not in table.columns:
            raise ScoringError(
                _(
                    "the %(group)s responses are a weighted sample but have no weight column "
                    "%(column)s: weight them first (python -m analysis weight)",
                    group=group,
                    column=repr(options.weight),
                )
            )
        values = pd.to_numeric(table[options.weight], errors="coerce").to_numpy(dtype=np.float64)
        try:
            weights = check_base_weight(values, n)
        except WeightingError as exc:
            raise ScoringError(
                _(
                    "the %(group)s weight column %(column)s: %(reason)s",
                    group=group,
                    column=repr(options.weight),
                    reason=reasons(exc)[0],
                )
            ) from None
        for name, column in (("strata", options.strata), ("cluster", options.cluster)):
            if column is not None and column not in table.columns:
                raise ScoringError(
                    _(
                        "the %(group)s responses have no %(role)s column %(column)s",
                        group=group,
                        role=name,
                        column=repr(column),
                    )
                )
        s = table[options.strata] if options.strata else None
        c = table[options.cluster] if options.cluster else None
        if person is not None:
            for name, column in ((_("stratum"), s), (_("cluster"), c)):
                if column is not None:
                    _one_per_person(person, column, name, group, options.respondent)
            if c is None:
                c = pd.Series(person)
        calibration = options.calibration.get(group)
        if calibration is not None and len(calibration.calibrated_weight) != n:
            raise ScoringError(
                _(
                    "the %(group)s calibration model does not fit its %(n)s responses",
                    group=group,
                    n=n,
                )
            )
    else:
        weights = np.ones(n)
        # one respondent, one PSU: the rows of a respondent who rates several units together
        c = pd.Series(person) if person is not None else None
        # a census of office-holders per unit: with the number invited, each unit is a stratum
        s = pd.Series(codes) if fpc is not None else None
        if fpc is not None and crossing:
            raise ScoringError(
                _(
                    "the %(group)s respondents rate several units each, so the units cannot be "
                    "the strata of a finite population correction: leave out --fpc (or its "
                    "column) for this group",
                    group=group,
                )
            )
    try:
        design = Design.build(weights, s, c, calibration, options.lonely_psu, fpc=fpc)
    except EstimationError as exc:
        raise ScoringError(
            _("the %(group)s design: %(reason)s", group=group, reason=reasons(exc)[0])
        ) from None
    index = {u: i for i, u in enumerate(units)}
    unit_index = np.array([index[u] for u in codes], dtype=np.intp)
    return _Sample(group, table, design, unit_index, spec.minimum_answers, person)


def _people(table: pd.DataFrame, respondent: str | None, codes, group: str) -> np.ndarray | None:
    """Dense codes of the respondent column, refusing an empty cell and a unit rated twice."""
    if respondent is None or respondent not in table.columns:
        return None
    ids = table[respondent].astype("string").str.strip()
    empty = ids.isna() | (ids == "")
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0])
        raise ScoringError(
            _(
                "row %(row)s of the %(group)s responses names no %(unit)s",
                row=row + 2,
                group=group,
                unit=respondent,
            )
        )
    pairs = pd.DataFrame({"person": ids.to_numpy(dtype=object), "unit": codes})
    twice = pairs.duplicated(keep=False).to_numpy()
    if twice.any():
        rows = np.flatnonzero(twice)
        first = pairs.iloc[rows[0]]
        again = next(r for r in rows[1:] if pairs.iloc[r].equals(first))
        raise ScoringError(
            _(
                "rows %(row)s and %(again)s of the %(group)s responses: the %(column)s "
                "%(person)s rates the unit %(unit)s twice; a respondent rates a unit once",
                row=int(rows[0]) + 2,
                again=int(again) + 2,
                group=group,
                column=respondent,
                person=repr(first["person"]),
                unit=repr(first["unit"]),
            )
        )
    _ids, person = np.unique(ids.to_numpy(dtype=object).astype(str), return_inverse=True)
    return person.astype(np.intp).ravel()


def _rates_several(person: np.ndarray) -> bool:
    """Some respondent has several rows, each rating another unit (`_people` refused twice)."""
    return len(np.unique(person)) < len(person)


def _one_per_person(person, column: pd.Series, name: str, group: str, respondent) -> None:
    """A respondent's rows must share their stratum and cluster (clusters nest respondents)."""
    values = column.astype("string").fillna("").to_numpy(dtype=object).astype(str)
    frame = pd.DataFrame({"person": person, "value": values})
    counts = frame.drop_duplicates().groupby("person").size()
    split = counts[counts > 1]
    if len(split):
        who = int(split.index[0])
        rows = np.flatnonzero(person == who)
        raise ScoringError(
            _(
                "the %(group)s respondent of rows %(rows)s (column %(column)s) is in more than "
                "one %(what)s: a respondent's rows must share their %(what)s",
                group=group,
                rows=", ".join(str(r + 2) for r in rows[:5]),
                column=respondent,
                what=name,
            )
        )


# ---------------------------------------------------------------------------------------------
# The computation


@dataclass
class _Row:
    kind: str
    code: str
    estimate: _Estimate
    field: str = ""
    group: str = ""
    rule: str = ""
    max_points: float | None = None
    #: the upper end of a bounded share-like figure (1, 100 or the points), for logit intervals
    bounded: float | None = None


class _Scorer:
    def __init__(self, scheme: Scheme, samples: dict[str, _Sample], n_units: int) -> None:
        self.scheme = scheme
        self.samples = samples
        self.n_units = n_units
        self.rows: list[_Row] = []
        self._items: dict[tuple, _Estimate] = {}
        self._units = {g: sample.unit for g, sample in samples.items()}

    def _combine(self, terms: list[tuple[np.ndarray, _Estimate]]) -> _Estimate:
        return _combine(terms, self._units)

    def _nothing(self) -> _Estimate:
        """A figure with no value for any unit: nobody it rests on gave a valid answer."""
        d = self.n_units
        return _Estimate(np.full(d, np.nan), {}, {}, np.ones(d, dtype=bool))

    def run(self) -> list[_Row]:
        by_kind: dict[str, list[_Estimate]] = {"survey": [], "sipas": []}
        sipas = self.sipas() if self.scheme.sipas else {}
        ones = np.ones(self.n_units)
        for f in self.scheme.fields:
            in_field = []
            for criterion in f.criteria:
                kind = criterion.survey_kind
                if kind is None:
                    continue
                bounded = None
                if kind == "sipas":
                    index = sipas.get(criterion.sipas) or self._nothing()
                    scale = (criterion.max_points - criterion.floor) / 100
                    points = self._combine([(np.full(self.n_units, scale), index)])
                    points = _shift(points, criterion.floor)
                    bounded = criterion.max_points if not criterion.floor else None
                else:
                    points = self.criterion(criterion)
                self.rows.append(
                    _Row(
                        "criterion",
                        criterion.code,
                        points,
                        f.code,
                        max_points=criterion.max_points,
                        bounded=bounded,
                    )
                )
                in_field.append((kind, points))
            if not in_field:
                continue
            total = self._combine([(ones, e) for _item, e in in_field])
            if f.floor is not None:
                # a scale such as 1-10: the floor plus the share of the criteria's maximum reached
                scale = (f.max_points - f.floor) / f.criteria_max
                total = _shift(self._combine([(np.full(self.n_units, scale), total)]), f.floor)
                by_kind[in_field[0][0]].append(total)
                max_points = f.max_points
            else:
                for kind, points in in_field:
                    by_kind[kind].append(points)
                max_points = sum(c.max_points for c in f.criteria if c.survey_kind)
            self.rows.append(_Row("field", f.code, total, f.code, max_points=max_points))
        for code, parts in (("survey", by_kind["survey"]), ("sipas", by_kind["sipas"])):
            if parts:
                self.rows.append(
                    _Row(
                        "total",
                        code,
                        self._combine([(ones, e) for e in parts]),
                        max_points=self.scheme.totals.get(code),
                    )
                )
        everything = by_kind["survey"] + by_kind["sipas"]
        if everything:
            maximum = self.scheme.totals.get("survey", 0) + self.scheme.totals.get("sipas", 0)
            total = self._combine([(ones, e) for e in everything])
            self.rows.append(_Row("total", "all", total, max_points=maximum))
        return self.rows

    # --- items -----------------------------------------------------------------------------

    def item(self, groups: tuple[str, ...], ref: ItemRef) -> _Estimate | None:
        """The score of one item over the respondents of ``groups`` (one, or several pooled)."""
        key = (groups, ref.item, ref.rule.code)
        if key in self._items:
            return self._items[key]
        present = [g for g in groups if g in self.samples]
        if not present:
            return None
        scores = {g: self._scores(self.samples[g], ref) for g in present}
        d = self.n_units
        wsum = np.zeros(d)
        wz = np.zeros(d)
        count = np.zeros(d)
        for g, z in scores.items():
            sample = self.samples[g]
            valid = ~np.isnan(z)
            w = np.where(valid, sample.design.weights, 0.0)
            wsum += np.bincount(sample.unit, weights=w, minlength=d)
            wz += np.bincount(sample.unit, weights=np.where(valid, w * z, 0.0), minlength=d)
            count += np.bincount(sample.unit[valid], minlength=d)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, wz / wsum, np.nan)
        influence, answered = {}, {}
        for g, z in scores.items():
            sample = self.samples[g]
            valid = ~np.isnan(z)
            u = sample.unit
            # the linearised ratio mean: w (z - mean) / sum(w), zero where there is no answer
            with np.errstate(invalid="ignore", divide="ignore"):
                contribution = sample.design.weights * (z - mean[u]) / wsum[u]
            influence[g] = np.where(valid, contribution, 0.0)
            answered[g] = valid
        minimum = min(self.samples[g].minimum for g in present)
        estimate = _Estimate(mean, influence, answered, count < minimum)
        self._items[key] = estimate
        group_label = "+".join(groups)
        bounded = 1.0 if ref.rule.is_share else None
        self.rows.append(
            _Row("item", ref.item, estimate, group=group_label, rule=ref.rule.code, bounded=bounded)
        )
        return estimate

    def _scores(self, sample: _Sample, ref: ItemRef) -> np.ndarray:
        if ref.item not in sample.data.columns:
            raise ScoringError(
                _(
                    "the %(group)s responses have no column %(item)s, which the scheme scores; "
                    "export the questionnaire the scheme names",
                    group=sample.group,
                    item=repr(ref.item),
                )
            )
        raw = sample.data[ref.item]
        answers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        bad = ref.rule.unknown(answers)
        if not pd.api.types.is_numeric_dtype(raw.dtype):
            # text that is neither a number nor empty; a numeric column has none
            empty = np.flatnonzero(np.isnan(answers))
            text = raw.iloc[empty].astype("string").str.strip()
            bad[empty[(text.notna() & (text != "")).to_numpy(dtype=bool, na_value=False)]] = True
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            known = _("numbers") if ref.rule.numeric else ref.rule.describe()
            raise ScoringError(
                _(
                    "row %(row)s of the %(group)s responses answers %(item)s with %(value)s, "
                    "which the rule %(rule)s does not score (it knows %(known)s; leave don't "
                    "know empty)",
                    row=row + 2,
                    group=sample.group,
                    item=ref.item,
                    value=repr(raw.iloc[row]),
                    rule=ref.rule.code,
                    known=known,
                )
            )
        return ref.rule.score(answers)

    def mean_of_items(self, groups: tuple[str, ...], refs: list[ItemRef]) -> _Estimate:
        estimates = [e for e in (self.item(groups, r) for r in refs) if e is not None]
        if not estimates:
            return self._nothing()
        return self._combine(list(zip(_equal_weights(estimates), estimates, strict=True)))

    # --- criteria --------------------------------------------------------------------------

    def criterion(self, criterion: Criterion) -> _Estimate:
        d = self.n_units
        if criterion.combine == POOLED:
            pooled = tuple(criterion.items)
            # an item is pooled over the groups whose list names it
            refs: dict[tuple[str, str], tuple[list[str], ItemRef]] = {}
            for g, group_refs in criterion.items.items():
                for ref in group_refs:
                    refs.setdefault((ref.item, ref.rule.code), ([], ref))[0].append(g)
            estimates = [self.item(tuple(gs), ref) for gs, ref in refs.values()]
            estimates = [e for e in estimates if e is not None]
            if not estimates:
                return self._nothing()
            coef = _equal_weights(estimates, criterion.max_points - criterion.floor)
            points = _shift(self._combine(list(zip(coef, estimates, strict=True))), criterion.floor)
            self.rows.append(
                _Row(
                    "criterion",
                    criterion.code,
                    points,
                    criterion.field,
                    "+".join(pooled),
                    max_points=criterion.max_points,
                )
            )
            return points
        per_group = []
        for g, refs in criterion.items.items():
            if g not in self.samples:  # the group is missing from the whole wave
                continue
            mean = self.mean_of_items((g,), refs)
            scale = np.full(d, criterion.max_points - criterion.floor)
            points = _shift(self._combine([(scale, mean)]), criterion.floor)
            self.rows.append(
                _Row(
                    "criterion",
                    criterion.code,
                    points,
                    criterion.field,
                    g,
                    max_points=criterion.max_points,
                )
            )
            per_group.append((criterion.combine[g], points))
        if not per_group:
            return self._nothing()
        # the scheme's weights, rescaled over the groups that have a score for the unit
        has = np.array([np.isfinite(p.value) for _group, p in per_group], dtype=np.float64)
        weights = np.array([w for w, _point in per_group])[:, None] * has
        total = weights.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            coef = np.where(total > 0, weights / total, 0.0)
        return self._combine(list(zip(coef, [p for _group, p in per_group], strict=True)))

    # --- SIPAS -----------------------------------------------------------------------------

    def sipas(self) -> dict[str, _Estimate]:
        """Element indices and the overall index in %, keyed by element code and ``overall``.

        Without citizens every figure is there with no value, so the output names what is missing.
        """
        sipas = self.scheme.sipas
        group = (sipas.group,)
        out = {}
        hundred = np.full(self.n_units, 100.0)
        for element in sipas.elements:
            mean = self.mean_of_items(group, element.items)
            index = self._combine([(hundred, mean)])
            out[element.code] = index
            self.rows.append(
                _Row("sipas_element", element.code, index, group=sipas.group, bounded=100.0)
            )
        if sipas.overall == "item":
            share = self.item(group, sipas.overall_item) or self._nothing()
            overall = self._combine([(hundred, share)])
        else:
            parts = list(out.values())
            overall = self._combine(list(zip(_equal_weights(parts), parts, strict=True)))
        out["overall"] = overall
        self.rows.append(_Row("sipas", "overall", overall, group=sipas.group, bounded=100.0))
        return out


def _equal_weights(estimates: list[_Estimate], scale: float = 1.0) -> np.ndarray:
    """Coefficients (one row per estimate) of ``scale`` x the mean of those with a value."""
    finite = np.array([np.isfinite(e.value) for e in estimates], dtype=np.float64)
    k = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k > 0, scale * finite / k, 0.0)


def _shift(estimate: _Estimate, offset: float) -> _Estimate:
    """The estimate plus a constant (a floor): the same influence, so the same variance."""
    if not offset:
        return estimate
    return _Estimate(estimate.value + offset, estimate.influence, estimate.answered, estimate.low)


def _combine(terms: list[tuple[np.ndarray, _Estimate]], units: dict[str, np.ndarray]) -> _Estimate:
    """``sum(coef * estimate)`` per unit.

    A unit has no value where every coefficient is 0, or where a term it needs (coefficient not
    0) has none: a missing part is never counted as 0. Callers that may leave a part out (groups
    without answers, items nobody answered) give it the coefficient 0 and rescale the others.

    ``coef`` is one number per unit; ``units`` gives, per group, the unit of every respondent, so
    a respondent's influence is scaled by the coefficient of the unit they rate.
    """
    d = len(terms[0][0])
    value = np.zeros(d)
    used = np.zeros(d, dtype=bool)
    missing = np.zeros(d, dtype=bool)
    low = np.zeros(d, dtype=bool)
    influence: dict[str, np.ndarray] = {}
    answered: dict[str, np.ndarray] = {}
    for coef, est in terms:
        coef = np.asarray(coef, dtype=np.float64)
        on = coef != 0
        value += np.where(on, coef * np.nan_to_num(est.value), 0.0)
        used |= on
        missing |= on & ~np.isfinite(est.value)
        low |= on & est.low
        for g, infl in est.influence.items():
            c = coef[units[g]]
            influence[g] = influence.get(g, 0.0) + c * infl
            rated = est.answered[g] & (c != 0)
            answered[g] = answered[g] | rated if g in answered else rated
    gone = missing | ~used
    return _Estimate(np.where(gone, np.nan, value), influence, answered, low | gone)


# ---------------------------------------------------------------------------------------------
# The table


def _table(rows: list[_Row], samples, units, blocks, level, method, df) -> pd.DataFrame:
    d = len(units)
    se = np.sqrt(_variances([r.estimate for r in rows], samples, d))
    value = np.array([r.estimate.value for r in rows], dtype=np.float64).reshape(len(rows), d)
    se = np.where(np.isfinite(value), se, np.nan)
    n = _answered_counts([r.estimate for r in rows], samples, d)
    if df == "design":
        # groups are independent samples: one design whose strata are all the groups' strata
        degf = np.array(
            [sum(samples[g].design.degf for g in r.estimate.influence) for r in rows], dtype=float
        )
        freedom = np.repeat(np.where(degf > 0, degf, np.nan), d).reshape(len(rows), d)
    else:
        freedom = None if df == "normal" else float(df)
    low, high = interval(value, se, level=level, method="wald", df=freedom)
    if method == "logit":
        bounded = np.array([np.nan if r.bounded is None else r.bounded for r in rows])[:, None]
        share = np.isfinite(bounded)
        logit_low, logit_high = interval(
            np.where(share, value, np.nan),
            se,
            level=level,
            method="logit",
            df=freedom,
            scale=np.where(share, bounded, 1.0),
        )
        low = np.where(share, logit_low, low)
        high = np.where(share, logit_high, high)

    def per_row(name: str) -> np.ndarray:
        return np.repeat(np.array([getattr(r, name) for r in rows], dtype=object), d)

    maxima = [np.nan if r.max_points is None else r.max_points for r in rows]
    table = pd.DataFrame(
        {
            "unit": np.tile(np.array(units, dtype=object), len(rows)),
            "block": np.tile(np.array([blocks[u] for u in units], dtype=object), len(rows)),
            **{name: per_row(name) for name in ("kind", "field", "code", "group", "rule")},
            "n": n.ravel(),
            "estimate": value.ravel(),
            "se": se.ravel(),
            "ci_low": low.ravel(),
            "ci_high": high.ravel(),
            "max_points": np.repeat(np.array(maxima, dtype=np.float64), d),
            "low_n": np.array([r.estimate.low for r in rows], dtype=bool).ravel(),
            "no_data": ~np.isfinite(value).ravel(),
        },
        columns=COLUMNS,
    )
    order = {k: i for i, k in enumerate(KINDS)}
    table["_kind"] = table["kind"].map(order)
    table = table.sort_values(["unit", "_kind"], kind="stable").drop(columns="_kind")
    return table.reset_index(drop=True)


def _answered_counts(estimates: list[_Estimate], samples: dict[str, _Sample], d: int) -> np.ndarray:
    """Respondents with a valid answer under every estimate, per unit: (estimates, units)."""
    n = np.zeros((len(estimates), d), dtype=np.int64)
    for sample in samples.values():
        which = [i for i, e in enumerate(estimates) if sample.group in e.answered]
        if not which:
            continue
        answered = np.column_stack([estimates[i].answered[sample.group] for i in which])
        rows = sample.design.n
        indicator = sparse.csr_matrix(
            (np.ones(rows, dtype=np.int64), (sample.unit, np.arange(rows))), shape=(d, rows)
        )
        n[which] += np.asarray(indicator @ answered.astype(np.int64)).T
    return n


def _variances(estimates: list[_Estimate], samples: dict[str, _Sample], d: int) -> np.ndarray:
    """Variance of every estimate for every unit: the sum over groups of the design variance.

    Units are domains of each group's design (Lumley 2010, sec. 2.3): all figures and units of a
    group are done together by `analysis.estimate.Design.domain_variance`.
    """
    variance = np.zeros((len(estimates), d))
    for sample in samples.values():
        which = [i for i, e in enumerate(estimates) if sample.group in e.influence]
        if not which:
            continue
        matrix = np.column_stack([estimates[i].influence[sample.group] for i in which])
        if not np.isfinite(matrix).all():
            matrix = np.nan_to_num(matrix, copy=False)
        variance[which] += sample.design.domain_variance(matrix, sample.unit, d).T
    return variance
