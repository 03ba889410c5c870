"""Scoring schemes: the file that turns answers into PAR Index points (questionnaires/scoring/).

A scheme holds every number of a year's rules: fields and criteria with their maximum points and
source, which questionnaire items feed which criterion and how an item is scored, how respondent
groups combine, the SIPAS elements, the bands and the minimum number of valid answers. The format
is described in questionnaires/scoring/README.md; this module reads a file, reports every problem
as ``file:line: key: message`` and, given the questionnaire folder, checks the items it names.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from analysis.languages import LANGUAGES
from analysis.messages import _, reasons
from analysis.problems import FileInvalid, KeyPath, Problem, format_key
from analysis.questionnaire import QuestionnaireError, read_questionnaire, variables
from analysis.yamllines import LocatedData, YamlSyntaxError, load_located

SOURCES = ("appraisal", "survey")
#: ``mean`` and ``share`` score answer codes; ``range`` and ``threshold`` score numbers (counts,
#: days, amounts) answered to an integer question.
RULE_TYPES = ("mean", "share", "range", "threshold")
NUMERIC_RULES = ("range", "threshold")
#: The comparisons of a ``threshold`` rule: the share of answers ``above`` (>), ``at_least``
#: (>=), ``below`` (<) or ``at_most`` (<=) its number.
THRESHOLDS = {
    "above": np.greater,
    "at_least": np.greater_equal,
    "below": np.less,
    "at_most": np.less_equal,
}
#: The parts of a scheme, as `totals` names them: appraisal criteria, survey criteria scored
#: from items (any group), criteria scored from SIPAS.
PARTS = ("appraisal", "survey", "sipas")
OVERALL = ("elements", "item")
POOLED = "pooled"
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
#: Points are compared to totals to this many decimals (schemes use halves and quarters).
TOLERANCE = 1e-9
#: Decimals of the published results when the scheme does not say (the Ministry: 89.22 %).
DECIMALS = 2


class SchemeError(FileInvalid):
    """A scheme file with problems; ``problems`` lists them all, the message joins them."""


# ---------------------------------------------------------------------------------------------
# The scheme as objects


@dataclass(frozen=True)
class ItemRule:
    """How one answer becomes a score in [0, 1].

    ``mean``: the answer code's value rescaled from [min, max] of the values; ``share``: 1 for a
    positive code, else 0; ``range``: a number rescaled from ``worst`` (0) to ``best`` (1) and
    clipped to [0, 1]; ``threshold``: 1 when the number passes ``comparison`` ``limit``, else 0.
    """

    code: str
    type: str
    #: answer code -> value (a list in the file maps every code to itself); empty for numbers
    values: dict[float, float]
    #: answer codes counted as positive by ``share``
    positive: frozenset[float] = frozenset()
    #: answer codes read as "don't know" (normally exported empty already)
    missing: frozenset[float] = frozenset()
    #: ``range``: the number that scores 0 and the one that scores 1 (worst > best: fewer is better)
    worst: float = 0.0
    best: float = 1.0
    #: ``threshold``: one of `THRESHOLDS` and its number
    comparison: str = ""
    limit: float = 0.0

    @property
    def numeric(self) -> bool:
        """Scores numbers (an integer question) rather than answer codes."""
        return self.type in NUMERIC_RULES

    @property
    def is_share(self) -> bool:
        """Scores every answer 0 or 1, so the item's score is a share (logit intervals)."""
        return self.type in ("share", "threshold")

    def score(self, answers: np.ndarray) -> np.ndarray:
        """Scores of numeric answers (NaN = no answer); a code outside the rule is NaN too.

        Callers check `unknown` first: a code the rule does not know is an error in the data.
        """
        if self.numeric:
            return self._score_numbers(answers)
        codes = np.array(sorted(self.values), dtype=np.float64)
        if self.type == "mean":
            values = np.array([self.values[c] for c in codes])
            low, high = values.min(), values.max()
            mapped = (values - low) / (high - low)
        else:
            mapped = np.isin(codes, list(self.positive)).astype(np.float64)
        out = np.full(len(answers), np.nan)
        where = np.searchsorted(codes, answers)
        where = np.clip(where, 0, len(codes) - 1)
        known = codes[where] == answers
        out[known] = mapped[where[known]]
        return out

    def _score_numbers(self, answers: np.ndarray) -> np.ndarray:
        out = np.full(len(answers), np.nan)
        given = np.isfinite(answers) & ~np.isin(answers, list(self.missing))
        x = answers[given]
        if self.type == "range":
            out[given] = np.clip((x - self.worst) / (self.best - self.worst), 0.0, 1.0)
        else:
            out[given] = THRESHOLDS[self.comparison](x, self.limit).astype(np.float64)
        return out

    def unknown(self, answers: np.ndarray) -> np.ndarray:
        """Rows whose answer is neither empty, a known code, nor a "don't know" code.

        A numeric rule knows every finite number.
        """
        given = ~np.isnan(answers)
        if self.numeric:
            return given & ~np.isfinite(answers)
        known = np.isin(answers, list(self.values)) | np.isin(answers, list(self.missing))
        return given & ~known

    def describe(self) -> str:
        """What the rule accepts, for an error message about an answer it refused."""
        if self.numeric:
            return "numbers"
        return ", ".join(f"{v:g}" for v in sorted(self.values))


@dataclass(frozen=True)
class ItemRef:
    """A questionnaire item scored by a rule."""

    item: str
    rule: ItemRule


@dataclass
class Group:
    code: str
    questionnaire: str
    #: citizens are a weighted sample; leaders and delegates are unweighted censuses
    weighted: bool
    minimum_answers: int
    #: the folder of this group's questionnaire (``questionnaires:`` of the group), resolved; it
    #: wins over every other folder (an earlier version, e.g. ``../earlier``)
    questionnaires: str | None = None


@dataclass
class Criterion:
    code: str
    field: str
    name: dict[str, str]
    max_points: float
    source: str
    #: survey items per rating group (empty for appraisal and SIPAS criteria)
    items: dict[str, list[ItemRef]] = field(default_factory=dict)
    #: group weights, or ``"pooled"``
    combine: dict[str, float] | str | None = None
    #: for citizens' points: ``"overall"`` or the code of a SIPAS element
    sipas: str | None = None
    #: the points of a score of 0 (a 1-10 scale has floor 1): floor + (max - floor) x score
    floor: float = 0.0
    #: appraisal only: the step its points move in (None: the round's), the documents asked for
    #: as evidence and how the points are given, per language
    step: float | None = None
    evidence: dict[str, str] | None = None
    guidance: dict[str, str] | None = None

    @property
    def survey_kind(self) -> str | None:
        """``"survey"`` (scored from items), ``"sipas"``, or None for appraisal."""
        if self.source != "survey":
            return None
        return "sipas" if self.sipas else "survey"

    @property
    def part(self) -> str:
        """The part of the scheme the criterion's points belong to (`PARTS`)."""
        return self.survey_kind or "appraisal"


@dataclass
class Field:
    code: str
    name: dict[str, str]
    criteria: list[Criterion]
    #: with a floor, the field's points are floor + (max_points - floor) x the share of its
    #: criteria's maximum that they reach; the criteria's maxima are then their weights
    floor: float | None = None
    stated_max: float | None = None

    @property
    def criteria_max(self) -> float:
        return sum(c.max_points for c in self.criteria)

    @property
    def max_points(self) -> float:
        if self.floor is not None and self.stated_max is not None:
            return self.stated_max
        return self.criteria_max

    @property
    def parts(self) -> set[str]:
        return {c.part for c in self.criteria}

    def part_max(self, part: str) -> float:
        """The field's maximum points that come from ``part``."""
        if self.floor is not None:
            return self.max_points if self.parts == {part} else 0.0
        return sum(c.max_points for c in self.criteria if c.part == part)


@dataclass
class Element:
    code: str
    name: dict[str, str]
    items: list[ItemRef]


@dataclass
class Sipas:
    group: str
    elements: list[Element]
    #: ``"elements"``: the mean of the element indices; ``"item"``: the share on `overall_item`
    overall: str
    overall_item: ItemRef | None = None


@dataclass
class Band:
    code: str
    min: float
    name: dict[str, str] | None = None


@dataclass
class Block:
    code: str
    name: dict[str, str]
    #: the groups that rate the units of this block
    raters: list[str]


@dataclass
class Scheme:
    code: str
    name: dict[str, str]
    year: int | None
    groups: dict[str, Group]
    rules: dict[str, ItemRule]
    fields: list[Field]
    sipas: Sipas | None
    bands: list[Band]
    blocks: list[Block]
    totals: dict[str, float]
    path: str = ""
    #: results are published with this many decimals; ranks and bands are decided on them
    decimals: int = DECIMALS
    #: the numbers are examples, not official ones (the file says which)
    example: bool = False
    #: the folder of questionnaires the file names (``questionnaires:``), resolved
    own_questionnaires: str | None = None
    #: the folder the items were checked against when loaded, or None (not checked)
    checked_against: str | None = None

    @property
    def criteria(self) -> dict[str, Criterion]:
        return {c.code: c for f in self.fields for c in f.criteria}

    @property
    def parts(self) -> list[str]:
        """The parts the scheme has, in `PARTS` order."""
        present = {c.part for f in self.fields for c in f.criteria}
        return [p for p in PARTS if p in present]

    @property
    def max_points(self) -> float:
        return sum(f.max_points for f in self.fields)

    @property
    def has_appraisal(self) -> bool:
        return "appraisal" in self.parts

    @property
    def has_survey(self) -> bool:
        """Some points come from answers (items or SIPAS)."""
        return any(p in self.parts for p in ("survey", "sipas"))

    def band(self, percent: float) -> str:
        """The band of a total in % as published: the first band (highest first) it reaches.

        ``percent`` is the published value (`analysis.index.published`); no value, no band.
        """
        if not math.isfinite(percent):
            return ""
        for band in self.bands:
            if percent >= band.min - TOLERANCE:
                return band.code
        return ""

    def block(self, code: str) -> Block | None:
        return next((b for b in self.blocks if b.code == code), None)


# ---------------------------------------------------------------------------------------------
# Reading and checking


def load_scheme(
    path: str | Path,
    questionnaires: str | Path | None = None,
    *,
    default: str | Path | None = None,
) -> Scheme:
    """Read and validate a scheme file and check the items it names against questionnaires.

    The questionnaires are those of the folder ``questionnaires`` when it is given; else of the
    scheme's own ``questionnaires:`` folder (relative to the file); else of ``default``; with none
    of them the items are not checked (`Scheme.checked_against` is None).

    Raises `SchemeError` listing every problem as ``file:line: key: message``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = Problem(
            str(path), 0, "(file)", _("cannot read the file: %(error)s", error=str(exc))
        )
        raise SchemeError([problem]) from None
    return parse_scheme(text, str(path), questionnaires, default=default)


def parse_scheme(
    text: str,
    file: str = "<scheme>",
    questionnaires=None,
    *,
    default=None,
) -> Scheme:
    """`load_scheme` on the text of a file; a relative ``questionnaires:`` is read from the
    folder of ``file``."""
    try:
        located = load_located(text)
    except YamlSyntaxError as exc:
        problem = Problem(
            file, exc.line, "(file)", _("not valid YAML: %(error)s", error=exc.message)
        )
        raise SchemeError([problem]) from None
    check = _Checker(file, located)
    for key_path, line in located.duplicates:
        check.problems.append(
            Problem(file, line, format_key(key_path), _("this key is given twice"))
        )
    scheme = check.scheme(located.data)
    folder = questionnaires if questionnaires is not None else scheme.own_questionnaires
    if folder is None:
        folder = default
    if folder is not None or any(g.questionnaires for g in scheme.groups.values()):
        check.against_questionnaires(scheme, Path(folder) if folder is not None else None)
        scheme.checked_against = str(folder) if folder is not None else None
    if check.problems:
        raise SchemeError(sorted(check.problems, key=lambda p: p.line))
    scheme.path = file
    return scheme


TOP_KEYS = {
    "code",
    "name",
    "year",
    "groups",
    "totals",
    "rules",
    "survey",
    "sipas",
    "bands",
    "blocks",
    "fields",
    "decimals",
    "example",
    "questionnaires",
}
TOTAL_KEYS = (*PARTS, "total")


class _Checker:
    """Walks one scheme file and collects every problem; never stops at the first."""

    def __init__(self, file: str, located: LocatedData) -> None:
        self.file = file
        self.located = located
        self.problems: list[Problem] = []

    # --- helpers ---------------------------------------------------------------------------

    def problem(self, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(self.file, self.located.line(path), format_key(path), message))

    def mapping(self, value, path: KeyPath, allowed: set[str], required: set[str]) -> dict:
        if not isinstance(value, dict):
            self.problem(path, _("must be a mapping of keys to values"))
            return {}
        for key in value:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                self.problem(
                    (*path, str(key)), _("unknown key (known keys: %(known)s)", known=known)
                )
        for key in sorted(required - set(value)):
            self.problem(path, _("the required key %(key)s is missing", key=key))
        return value

    def sequence(self, value, path: KeyPath, what: str) -> list:
        if not isinstance(value, list) or not value:
            self.problem(path, _("must be a list of %(what)s, with at least one", what=what))
            return []
        return value

    def identifier(self, value, path: KeyPath) -> str:
        if not isinstance(value, str) or not IDENTIFIER.match(value):
            self.problem(path, _("must be an identifier: a-z, 0-9 and _, starting with a letter"))
            return str(value)
        return value

    def code(self, value, path: KeyPath) -> str:
        """A field or criterion code such as '1' or '1.10' (quoted, else YAML reads a number)."""
        if isinstance(value, bool) or not isinstance(value, str) or not value.strip():
            self.problem(
                path,
                _(
                    "must be a code written as text; put it in quotes ('%(value)s'), or YAML "
                    "reads 1.10 as the number 1.1",
                    value=str(value),
                ),
            )
            return str(value)
        return value.strip()

    def label(self, value, path: KeyPath) -> dict[str, str]:
        if not isinstance(value, dict):
            self.problem(
                path,
                _("must give the text in every language: %(langs)s", langs=", ".join(LANGUAGES)),
            )
            return {lang: "" for lang in LANGUAGES}
        for key in value:
            if key not in LANGUAGES:
                self.problem(
                    (*path, str(key)),
                    _("unknown language (use %(langs)s)", langs=", ".join(LANGUAGES)),
                )
        out = {}
        for lang in LANGUAGES:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                where = (*path, lang) if lang in value else path
                self.problem(where, _("the %(lang)s text is missing", lang=lang))
                text = ""
            out[lang] = text.strip()
        return out

    def number(self, value, path: KeyPath, positive: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            self.problem(path, _("must be a number"))
            return 0.0
        if positive and value <= 0:
            self.problem(path, _("must be greater than 0"))
        elif value < 0:
            self.problem(path, _("must not be negative"))
        return float(value)

    def codes(self, value, path: KeyPath) -> list[float]:
        if not isinstance(value, list) or not value:
            self.problem(path, _("must be a list of answer codes (numbers), with at least one"))
            return []
        out = []
        for i, v in enumerate(value):
            if isinstance(v, bool) or not isinstance(v, int | float):
                self.problem((*path, i), _("must be an answer code (a number)"))
            else:
                out.append(float(v))
        if len(set(out)) != len(out):
            self.problem(path, _("lists an answer code twice"))
        return out

    # --- the file --------------------------------------------------------------------------

    def scheme(self, data) -> Scheme:
        data = self.mapping(data, (), TOP_KEYS, {"code", "name", "totals", "fields"})
        code = self.identifier(data.get("code"), ("code",)) if "code" in data else ""
        name = self.label(data.get("name"), ("name",)) if "name" in data else {}
        year = data.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
            self.problem(("year",), _("must be a year such as 2022"))
            year = None
        groups = self.groups(data["groups"]) if "groups" in data else {}
        rules = self.rules(data.get("rules") or {})
        survey = self.mapping(data.get("survey") or {}, ("survey",), {"rule", "combine"}, set())
        default_rule = self.rule_ref(survey.get("rule"), ("survey", "rule"), rules)
        default_combine = None
        if "combine" in survey:
            default_combine = self.combine(survey["combine"], ("survey", "combine"), groups)
        sipas = self.sipas(data["sipas"], groups, rules) if "sipas" in data else None
        defaults = (default_rule, default_combine)
        fields = self.fields(data.get("fields"), groups, rules, defaults, sipas)
        if "groups" not in data and any(c.survey_kind for f in fields for c in f.criteria):
            self.problem(
                (),
                _("the required key groups is missing: survey criteria need respondent groups"),
            )
        bands = self.bands(data.get("bands") or [])
        blocks = self.blocks(data.get("blocks"), groups)
        totals = self.totals(data.get("totals"), fields)
        decimals = data.get("decimals", DECIMALS)
        if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6:
            self.problem(
                ("decimals",), _("must be a whole number of decimals from 0 to 6, such as 2")
            )
            decimals = DECIMALS
        example = data.get("example", False)
        if not isinstance(example, bool):
            self.problem(("example",), _("must be true (the numbers are examples) or false"))
            example = False
        own = None
        if "questionnaires" in data:
            own = self.folder(data["questionnaires"], ("questionnaires",))
        return Scheme(
            code,
            name,
            year,
            groups,
            rules,
            fields,
            sipas,
            bands,
            blocks,
            totals,
            "",
            decimals,
            example,
            own,
        )

    def groups(self, value) -> dict[str, Group]:
        if not isinstance(value, dict) or not value:
            self.problem(("groups",), _("must map each respondent group to its questionnaire"))
            return {}
        out = {}
        for code, spec in value.items():
            path = ("groups", str(code))
            self.identifier(code, path)
            spec = self.mapping(
                spec,
                path,
                {"questionnaire", "questionnaires", "weighted", "minimum_answers"},
                {"questionnaire"},
            )
            questionnaire = self.identifier(spec.get("questionnaire"), (*path, "questionnaire"))
            weighted = spec.get("weighted", False)
            if not isinstance(weighted, bool):
                self.problem((*path, "weighted"), _("must be true or false"))
                weighted = False
            minimum = spec.get("minimum_answers", 1)
            if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 1:
                self.problem((*path, "minimum_answers"), _("must be a whole number, at least 1"))
                minimum = 1
            folder = None
            if "questionnaires" in spec:
                folder = self.folder(spec["questionnaires"], (*path, "questionnaires"))
            out[str(code)] = Group(str(code), questionnaire, weighted, minimum, folder)
        return out

    def folder(self, value, path) -> str | None:
        """A ``questionnaires:`` folder, relative to the scheme file, resolved; it must exist."""
        if not isinstance(value, str) or not value.strip():
            self.problem(
                path, _("must be a folder, written relative to this file (e.g. ../examples)")
            )
            return None
        folder = os.path.normpath(Path(self.file).parent / value.strip())
        if not Path(folder).is_dir():
            self.problem(path, _("the folder %(folder)s does not exist", folder=folder))
        return folder

    def rules(self, value) -> dict[str, ItemRule]:
        if not isinstance(value, dict):
            self.problem(("rules",), _("must map rule names to rules"))
            return {}
        out = {}
        for code, spec in value.items():
            path = ("rules", str(code))
            self.identifier(code, path)
            kind = spec.get("type") if isinstance(spec, dict) else None
            if kind in NUMERIC_RULES:
                out[str(code)] = self.numeric_rule(str(code), spec, path)
                continue
            spec = self.mapping(
                spec, path, {"type", "values", "positive", "missing"}, {"type", "values"}
            )
            if kind not in RULE_TYPES:
                self.problem(
                    (*path, "type"), _("must be one of %(choices)s", choices=", ".join(RULE_TYPES))
                )
            raw = spec.get("values")
            if isinstance(raw, dict):
                values = {}
                for key, v in raw.items():
                    try:
                        answer = float(key)
                    except (TypeError, ValueError):
                        where = (*path, "values", str(key))
                        self.problem(where, _("must be an answer code (a number)"))
                        continue
                    values[answer] = self.number(v, (*path, "values", str(key)))
            else:
                values = {c: c for c in self.codes(raw, (*path, "values"))}
            if kind == "mean" and len(set(values.values())) < 2:
                self.problem((*path, "values"), _("a mean needs at least two different values"))
            positive = frozenset()
            if kind == "share":
                if "positive" not in spec:
                    self.problem(path, _("a share needs positive: the answer codes counted"))
                else:
                    positive = frozenset(self.codes(spec["positive"], (*path, "positive")))
                    for p in sorted(positive - set(values)):
                        self.problem(
                            (*path, "positive"),
                            _("%(code)s is not one of the values", code=_num(p)),
                        )
            elif "positive" in spec:
                self.problem((*path, "positive"), _("only a share rule has positive answers"))
            missing = frozenset()
            if "missing" in spec:
                missing = frozenset(self.codes(spec["missing"], (*path, "missing")))
                for m in sorted(missing & set(values)):
                    self.problem(
                        (*path, "missing"), _("%(code)s is also one of the values", code=_num(m))
                    )
            out[str(code)] = ItemRule(str(code), str(kind), values, positive, missing)
        return out

    def numeric_rule(self, code: str, spec: dict, path: KeyPath) -> ItemRule:
        """A ``range`` or ``threshold`` rule: numbers, not answer codes."""
        kind = spec["type"]
        if kind == "range":
            keys = {"type", "worst", "best", "missing"}
            spec = self.mapping(spec, path, keys, {"type", "worst", "best"})
            worst = self.signed(spec.get("worst", 0), (*path, "worst"))
            best = self.signed(spec.get("best", 1), (*path, "best"))
            if "worst" in spec and "best" in spec and worst == best:
                self.problem((*path, "best"), _("must differ from worst"))
                best = worst + 1
            rule = ItemRule(code, kind, {}, worst=worst, best=best)
        else:
            keys = {"type", "missing", *THRESHOLDS}
            spec = self.mapping(spec, path, keys, {"type"})
            given = [k for k in THRESHOLDS if k in spec]
            if len(given) != 1:
                self.problem(
                    path,
                    _(
                        "a threshold needs exactly one of above, at_least, below, at_most "
                        "(the share of answers > , >=, < or <= that number)"
                    ),
                )
            comparison = given[0] if given else "above"
            limit = self.signed(spec.get(comparison, 0), (*path, comparison))
            rule = ItemRule(code, kind, {}, comparison=comparison, limit=limit)
        if "missing" in spec:
            missing = frozenset(self.codes(spec["missing"], (*path, "missing")))
            rule = replace(rule, missing=missing)
        return rule

    def signed(self, value, path: KeyPath) -> float:
        """Any finite number (a rule's bounds may be negative)."""
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            self.problem(path, _("must be a number"))
            return 0.0
        return float(value)

    def rule_ref(self, value, path: KeyPath, rules: dict[str, ItemRule]) -> ItemRule | None:
        if value is None:
            return None
        if value not in rules:
            known = ", ".join(rules) or _("none defined")
            self.problem(
                path,
                _(
                    "names the rule %(rule)s, which rules does not define (%(known)s)",
                    rule=repr(value),
                    known=known,
                ),
            )
            return None
        return rules[value]

    def item_refs(self, value, path: KeyPath, rules, default: ItemRule | None) -> list[ItemRef]:
        out = []
        for i, entry in enumerate(self.sequence(value, path, _("item codes"))):
            rule = default
            if isinstance(entry, dict):
                entry_path = (*path, i)
                spec = self.mapping(entry, entry_path, {"item", "rule"}, {"item"})
                item = self.identifier(spec.get("item"), (*entry_path, "item"))
                if "rule" in spec:
                    rule = self.rule_ref(spec["rule"], (*entry_path, "rule"), rules)
            else:
                item = self.identifier(entry, (*path, i))
            if rule is None:
                self.problem((*path, i), _("has no rule: give rule here or a default rule above"))
                continue
            out.append(ItemRef(item, rule))
        if len({r.item for r in out}) != len(out):
            self.problem(path, _("names an item twice"))
        return out

    def combine(self, value, path: KeyPath, groups: dict[str, Group]):
        if value == POOLED:
            return POOLED
        if not isinstance(value, dict) or not value:
            self.problem(path, _("must be pooled or map groups to weights (e.g. leader: 0.5)"))
            return None
        weights = {}
        for group, weight in value.items():
            if group not in groups:
                self.problem(
                    (*path, str(group)), _("%(group)s is not one of the groups", group=repr(group))
                )
            weights[str(group)] = self.number(weight, (*path, str(group)), positive=True)
        if abs(sum(weights.values()) - 1) > TOLERANCE:
            self.problem(
                path,
                _("the group weights add up to %(sum)s, not 1", sum=_round(sum(weights.values()))),
            )
        return weights

    def sipas(self, value, groups, rules) -> Sipas | None:
        path = ("sipas",)
        spec = self.mapping(
            value,
            path,
            {"group", "rule", "elements", "overall", "overall_item"},
            {"group", "elements", "overall"},
        )
        group = spec.get("group")
        if group not in groups:
            self.problem(
                (*path, "group"), _("%(group)s is not one of the groups", group=repr(group))
            )
        default = self.rule_ref(spec.get("rule"), (*path, "rule"), rules)
        elements = []
        seen = set()
        for i, entry in enumerate(
            self.sequence(spec.get("elements"), (*path, "elements"), _("elements"))
        ):
            e_path = (*path, "elements", i)
            keys = {"code", "name", "items"}
            entry = self.mapping(entry, e_path, keys, keys)
            code = self.identifier(entry.get("code"), (*e_path, "code"))
            if code in seen:
                self.problem((*e_path, "code"), _("the element %(code)s is given twice", code=code))
            seen.add(code)
            name = self.label(entry.get("name"), (*e_path, "name"))
            items = self.item_refs(entry.get("items"), (*e_path, "items"), rules, default)
            for ref in items:
                if ref.rule.type != "share":
                    self.problem(
                        (*e_path, "items"),
                        _("%(item)s: SIPAS items are scored by share", item=ref.item),
                    )
            elements.append(Element(code, name, items))
        overall = spec.get("overall")
        overall_item = None
        if overall not in OVERALL:
            self.problem(
                (*path, "overall"),
                _(
                    "must be elements (the mean of the element indices) "
                    "or item (the share on overall_item)"
                ),
            )
        elif overall == "item":
            if "overall_item" not in spec:
                self.problem(path, _("overall: item needs overall_item, the overall question"))
            else:
                refs = self.item_refs(
                    [spec["overall_item"]], (*path, "overall_item"), rules, default
                )
                overall_item = refs[0] if refs else None
        elif "overall_item" in spec:
            self.problem((*path, "overall_item"), _("is used only with overall: item"))
        return Sipas(str(group), elements, str(overall), overall_item)

    def fields(self, value, groups, rules, defaults, sipas) -> list[Field]:
        out = []
        field_codes: set[str] = set()
        criterion_codes: set[str] = set()
        for i, entry in enumerate(self.sequence(value, ("fields",), _("fields"))):
            path = ("fields", i)
            entry = self.mapping(
                entry,
                path,
                {"code", "name", "max_points", "floor", "criteria"},
                {"code", "name", "criteria"},
            )
            code = self.code(entry.get("code"), (*path, "code"))
            if code in field_codes:
                self.problem((*path, "code"), _("the field %(code)s is given twice", code=code))
            field_codes.add(code)
            name = self.label(entry.get("name"), (*path, "name"))
            criteria = []
            for j, spec in enumerate(
                self.sequence(entry.get("criteria"), (*path, "criteria"), _("criteria"))
            ):
                c_path = (*path, "criteria", j)
                criterion = self.criterion(spec, c_path, code, groups, rules, defaults, sipas)
                if criterion.code in criterion_codes:
                    where = (*c_path, "code")
                    self.problem(
                        where, _("the criterion %(code)s is given twice", code=criterion.code)
                    )
                criterion_codes.add(criterion.code)
                criteria.append(criterion)
            result = Field(code, name, criteria)
            if "floor" in entry:
                self.field_floor(result, entry, path)
            elif "max_points" in entry:
                stated = self.number(entry["max_points"], (*path, "max_points"), positive=True)
                if abs(stated - result.max_points) > TOLERANCE:
                    self.problem(
                        (*path, "max_points"),
                        _(
                            "is %(given)s but the criteria add up to %(sum)s",
                            given=stated,
                            sum=_round(result.max_points),
                        ),
                    )
            out.append(result)
        return out

    def field_floor(self, result: Field, entry: dict, path: KeyPath) -> None:
        """A field on a scale such as 1-10: floor + (max_points - floor) x its criteria's share."""
        result.floor = self.number(entry["floor"], (*path, "floor"))
        if "max_points" not in entry:
            self.problem(path, _("a field with a floor needs max_points, the top of its scale"))
            result.stated_max = result.criteria_max or 1.0
            return
        result.stated_max = self.number(entry["max_points"], (*path, "max_points"), positive=True)
        if result.floor >= result.stated_max:
            self.problem(
                (*path, "floor"),
                _(
                    "is %(floor)s, which must be below the field's max_points %(max)s",
                    floor=result.floor,
                    max=result.stated_max,
                ),
            )
        parts = sorted(result.parts)
        if len(parts) > 1:
            self.problem(
                (*path, "floor"),
                _(
                    "a field with a floor takes all its criteria from one part (appraisal, "
                    "survey or sipas), so its points belong to that part; this one mixes "
                    "%(parts)s",
                    parts=", ".join(parts),
                ),
            )
        floored = [c.code for c in result.criteria if c.floor]
        if floored:
            self.problem(
                (*path, "floor"),
                _(
                    "the criteria %(criteria)s have a floor of their own: give the floor to the "
                    "field or to its criteria, not both",
                    criteria=", ".join(floored),
                ),
            )

    def criterion(self, spec, path, field_code, groups, rules, defaults, sipas) -> Criterion:
        allowed = {
            "code",
            "name",
            "max_points",
            "source",
            "items",
            "rule",
            "combine",
            "sipas",
            "floor",
            "step",
            "evidence",
            "guidance",
        }
        spec = self.mapping(spec, path, allowed, {"code", "name", "max_points", "source"})
        code = self.code(spec.get("code"), (*path, "code"))
        name = self.label(spec.get("name"), (*path, "name"))
        max_points = self.number(spec.get("max_points", 0), (*path, "max_points"), positive=True)
        source = spec.get("source")
        criterion = Criterion(code, field_code, name, max_points, str(source))
        if source not in SOURCES:
            self.problem(
                (*path, "source"), _("must be one of %(choices)s", choices=", ".join(SOURCES))
            )
            return criterion
        if "floor" in spec:
            criterion.floor = self.number(spec["floor"], (*path, "floor"))
            if source == "appraisal":
                self.problem(
                    (*path, "floor"),
                    _(
                        "an appraisal criterion takes its points from the appraisal file as "
                        "they are; a floor applies to survey criteria (or to the whole field)"
                    ),
                )
            elif criterion.floor >= max_points:
                self.problem(
                    (*path, "floor"),
                    _(
                        "is %(floor)s, which must be below max_points %(max)s",
                        floor=criterion.floor,
                        max=max_points,
                    ),
                )
        if source == "appraisal":
            for key in ("items", "rule", "combine", "sipas"):
                if key in spec:
                    self.problem((*path, key), _("an appraisal criterion takes no survey keys"))
            self.appraisal_guidance(criterion, spec, path)
            return criterion
        for key in ("step", "evidence", "guidance"):
            if key in spec:
                self.problem(
                    (*path, key),
                    _("only an appraisal criterion has a step, evidence or guidance"),
                )
        if "sipas" in spec:
            for key in ("items", "rule", "combine"):
                if key in spec:
                    self.problem((*path, key), _("a SIPAS criterion takes its items from sipas"))
            element = spec["sipas"]
            known = ["overall"] + ([e.code for e in sipas.elements] if sipas else [])
            if sipas is None:
                self.problem((*path, "sipas"), _("the scheme has no sipas section"))
            elif element not in known:
                self.problem(
                    (*path, "sipas"), _("must be one of %(choices)s", choices=", ".join(known))
                )
            criterion.sipas = str(element)
            return criterion
        rule, combine = defaults
        if "rule" in spec:
            rule = self.rule_ref(spec["rule"], (*path, "rule"), rules)
        raw = spec.get("items")
        if "combine" in spec:
            combine = self.combine(spec["combine"], (*path, "combine"), groups)
        if isinstance(raw, dict):
            items = {}
            for group, refs in raw.items():
                if group not in groups:
                    where = (*path, "items", str(group))
                    self.problem(where, _("%(group)s is not one of the groups", group=repr(group)))
                items[str(group)] = self.item_refs(refs, (*path, "items", str(group)), rules, rule)
        else:
            refs = self.item_refs(raw, (*path, "items"), rules, rule)
            if isinstance(combine, dict):
                items = {g: list(refs) for g in combine}
            else:
                items = {}
                self.problem(
                    (*path, "items"),
                    _(
                        "a plain list of items needs group weights in combine (here or under "
                        "survey); with pooled, map each group to its items"
                    ),
                )
        if combine is None:
            self.problem(path, _("needs combine: group weights or pooled (here or under survey)"))
        elif isinstance(combine, dict):
            for group in items:
                if group not in combine:
                    self.problem(
                        (*path, "items", group),
                        _("the group %(group)s has no weight in combine", group=group),
                    )
        criterion.items = items
        criterion.combine = combine
        return criterion

    def appraisal_guidance(self, criterion: Criterion, spec: dict, path: KeyPath) -> None:
        """What the appraisal pages show with an appraisal criterion: the step of its points and
        the texts that tell the unit and the council what is asked."""
        if "step" in spec:
            step = self.number(spec["step"], (*path, "step"), positive=True)
            if step > 0:
                criterion.step = step
            if step > criterion.max_points:
                self.problem(
                    (*path, "step"),
                    _(
                        "is %(step)s, which must not be above max_points %(max)s",
                        step=_round(step),
                        max=_round(criterion.max_points),
                    ),
                )
        for key in ("evidence", "guidance"):
            if key in spec:
                setattr(criterion, key, self.label(spec[key], (*path, key)))

    def bands(self, value) -> list[Band]:
        out = []
        for i, entry in enumerate(value if isinstance(value, list) else []):
            path = ("bands", i)
            entry = self.mapping(entry, path, {"code", "min", "name"}, {"code", "min"})
            code = entry.get("code")
            if not isinstance(code, str) or not code:
                self.problem((*path, "code"), _("must be a band name written as text, such as A"))
            low = self.number(entry.get("min", 0), (*path, "min"))
            name = self.label(entry["name"], (*path, "name")) if "name" in entry else None
            out.append(Band(str(code), low, name))
        if not isinstance(value, list):
            self.problem(("bands",), _("must be a list of bands, highest first"))
        elif out:
            mins = [b.min for b in out]
            if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
                self.problem(("bands",), _("list the bands from the highest minimum to the lowest"))
            if mins[-1] != 0:
                self.problem(
                    ("bands", len(out) - 1, "min"),
                    _("the last band must start at 0, so every unit gets a band"),
                )
        return out

    def blocks(self, value, groups) -> list[Block]:
        if value is None:
            return [Block("all", {lang: "" for lang in LANGUAGES}, list(groups))]
        out = []
        for i, entry in enumerate(self.sequence(value, ("blocks",), _("blocks"))):
            path = ("blocks", i)
            entry = self.mapping(entry, path, {"code", "name", "raters"}, {"code", "name"})
            code = self.identifier(entry.get("code"), (*path, "code"))
            name = self.label(entry.get("name"), (*path, "name"))
            if "raters" not in entry:
                # Every group rates it; an appraisal-only scheme has none and still names blocks.
                raters = list(groups)
            else:
                raters = self.sequence(entry.get("raters"), (*path, "raters"), _("groups"))
            for j, group in enumerate(raters):
                if group not in groups:
                    self.problem(
                        (*path, "raters", j),
                        _("%(group)s is not one of the groups", group=repr(group)),
                    )
            out.append(Block(code, name, [str(g) for g in raters]))
        return out

    def totals(self, value, fields: list[Field]) -> dict[str, float]:
        """The stated maximum of every part the criteria make, and of the total; nothing else."""
        found = {k: 0.0 for k in TOTAL_KEYS}
        present = set()
        for f in fields:
            present |= f.parts
            for part in PARTS:
                found[part] += f.part_max(part)
            found["total"] += f.max_points
        required = {k for k in PARTS if k in present} | {"total"}
        spec = self.mapping(value, ("totals",), set(TOTAL_KEYS), required)
        meaning = {
            "appraisal": _("appraisal criteria"),
            "survey": _("survey criteria scored from items"),
            "sipas": _("SIPAS criteria"),
            "total": _("fields"),
        }
        stated = {}
        for key in TOTAL_KEYS:
            if key not in spec:
                continue
            number = self.number(spec[key], ("totals", key))
            if key != "total" and key not in present:
                self.problem(
                    ("totals", key),
                    _(
                        "the scheme has no %(what)s: leave %(key)s out of totals (name only the "
                        "parts the fields have)",
                        what=meaning[key],
                        key=key,
                    ),
                )
                continue
            stated[key] = number
            if abs(number - found[key]) > 1e-6:
                self.problem(
                    ("totals", key),
                    _(
                        "is %(given)s but the %(what)s add up to %(sum)s",
                        given=number,
                        what=meaning[key],
                        sum=_round(found[key]),
                    ),
                )
        return stated

    # --- against the questionnaires ------------------------------------------------------

    def against_questionnaires(self, scheme: Scheme, folder: Path | None) -> None:
        """Every item against its group's questionnaire: in the group's own folder, else in
        ``folder`` (a group with neither is not checked)."""
        found: dict[str, dict] = {}
        for code, group in scheme.groups.items():
            own = group.questionnaires or folder
            if own is None:
                continue
            try:
                definition = read_questionnaire(own, group.questionnaire)
            except QuestionnaireError as exc:
                self.problem(("groups", code, "questionnaire"), reasons(exc)[0])
                continue
            found[code] = {v.name: v for v in variables(definition)}
        for i, f in enumerate(scheme.fields):
            for j, criterion in enumerate(f.criteria):
                for group, refs in criterion.items.items():
                    path = ("fields", i, "criteria", j, "items", group)
                    self._check_refs(refs, found.get(group), scheme.groups.get(group), path)
        if scheme.sipas is not None:
            group = scheme.sipas.group
            for i, element in enumerate(scheme.sipas.elements):
                path = ("sipas", "elements", i, "items")
                self._check_refs(element.items, found.get(group), scheme.groups.get(group), path)
            if scheme.sipas.overall_item is not None:
                refs = [scheme.sipas.overall_item]
                self._check_refs(
                    refs, found.get(group), scheme.groups.get(group), ("sipas", "overall_item")
                )

    def _check_refs(self, refs: list[ItemRef], known, group: Group | None, path) -> None:
        if known is None or group is None:
            return
        for ref in refs:
            variable = known.get(ref.item)
            if variable is None:
                self.problem(
                    path,
                    _(
                        "the item %(item)s is not in the questionnaire %(questionnaire)s",
                        item=ref.item,
                        questionnaire=group.questionnaire,
                    ),
                )
                continue
            if variable.type == "integer" or ref.rule.numeric:
                if variable.type != "integer":
                    self.problem(
                        path,
                        _(
                            "the rule %(rule)s (%(type)s) scores numbers, but the item %(item)s "
                            "is a %(item_type)s question, not an integer one",
                            rule=ref.rule.code,
                            type=ref.rule.type,
                            item=ref.item,
                            item_type=variable.type,
                        ),
                    )
                elif not ref.rule.numeric:
                    self.problem(
                        path,
                        _(
                            "the item %(item)s is answered with a number (integer): score it "
                            "with a range or threshold rule, not the %(type)s rule %(rule)s",
                            item=ref.item,
                            type=ref.rule.type,
                            rule=ref.rule.code,
                        ),
                    )
                continue
            options = {o["value"] for o in variable.options}
            missing_codes = {o["value"] for o in variable.options if o.get("missing")}
            answers = {_as_float(v) for v in variable.values}
            if None in answers or not variable.options:
                self.problem(
                    path,
                    _("the item %(item)s has no numeric answer options to score", item=ref.item),
                )
                continue
            not_scored = sorted(answers - set(ref.rule.values))
            if not_scored:
                self.problem(
                    path,
                    _(
                        "the item %(item)s has the answer %(code)s, which the rule %(rule)s "
                        "gives no value",
                        item=ref.item,
                        code=_num(not_scored[0]),
                        rule=ref.rule.code,
                    ),
                )
            extra = sorted(set(ref.rule.values) - answers)
            if extra:
                codes = ", ".join(_num(v) for v in extra)
                has = _options(options, missing_codes)
                self.problem(
                    path,
                    _(
                        "the rule %(rule)s values answers %(codes)s, which the item %(item)s "
                        "does not have (%(has)s)",
                        rule=ref.rule.code,
                        codes=codes,
                        item=ref.item,
                        has=has,
                    ),
                )


def _as_float(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _round(value: float) -> float:
    """A sum of points as a sentence shows it (0.1 + 0.2 said 0.3)."""
    return round(value, 9)


def _num(value: float) -> str:
    return f"{value:g}"


def _options(options, missing) -> str:
    given = ", ".join(str(v) for v in options if v not in missing)
    if not missing:
        return _("answers %(codes)s", codes=given)
    unknown = ", ".join(str(v) for v in options if v in missing)
    return _("answers %(codes)s; %(missing)s for don't know", codes=given, missing=unknown)
