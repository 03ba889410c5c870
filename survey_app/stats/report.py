"""What the run page and the wave report show: tables and charts from a run's files.

Built in the request's language (names from the scheme, chart labels through gettext); the
charts are drawn on each request, which takes a few tens of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import g
from flask_babel import gettext as _
from markupsafe import Markup

from ..i18n import in_language
from . import charts, names
from .services import Results, finite

if TYPE_CHECKING:  # pandas is imported where used (see `survey_app.stats.chain`)
    import pandas as pd


#: Decimals of the margins' relative errors (the fit reaches 1e-7 or better, so what shows is 0).
RELATIVE_ERROR_DECIMALS = 4


@dataclass
class View:
    results: Results
    weighting: dict[str, Any] = field(default_factory=dict)
    sipas: list[dict[str, Any]] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)
    totals: list[dict[str, Any]] = field(default_factory=list)
    index: list[dict[str, Any]] = field(default_factory=list)
    index_fields: list[dict[str, Any]] = field(default_factory=list)
    weak: list[dict[str, Any]] = field(default_factory=list)
    charts: dict[str, Markup] = field(default_factory=dict)
    has_previous: bool = False
    #: names in the page's language, by code: the groups (their questionnaires' titles), the
    #: rated units (the appraisal file's names, else the unit question's options), the blocks
    group_names: dict[str, str] = field(default_factory=dict)
    unit_names: dict[str, str] = field(default_factory=dict)
    block_names: dict[str, str] = field(default_factory=dict)
    #: decimals of the margins table's targets and achieved totals: none when every target is
    #: a whole number (people), else three (shares)
    margin_decimals: dict[str, int] = field(default_factory=dict)

    @property
    def results_decimals(self) -> int:
        from analysis.scheme import DECIMALS

        return self.results.scheme.decimals if self.results.scheme else DECIMALS

    #: the index's figures as published: the scheme's decimals, rounded half away from zero
    #: (analysis.index.published), so the page shows the value ranks and bands were decided on
    published_format: str = "#,##0.00"


def _name(label: dict[str, str] | None, fallback: str) -> str:
    return in_language(label, g.lang, fallback)


def _row(series) -> dict[str, Any]:
    return {
        "n": int(series["n"]) if finite(series.get("n")) is not None else None,
        "estimate": finite(series["estimate"]),
        "se": finite(series.get("se")),
        "ci_low": finite(series.get("ci_low")),
        "ci_high": finite(series.get("ci_high")),
        "max_points": finite(series.get("max_points")),
        "low_n": str(series.get("low_n")).lower() in ("true", "1"),
    }


def build(results: Results) -> View:
    import pandas as pd

    view = View(results)
    scheme = results.scheme
    decimals = view.results_decimals
    view.published_format = "#,##0." + "0" * decimals if decimals else "#,##0"
    _names(view)
    view.weighting = {
        group: _weighting(view, group, report)
        for group, report in (results.summary.get("weighting") or {}).items()
    }
    scores = results.scores
    elements = {e.code: e for e in scheme.sipas.elements} if scheme and scheme.sipas else {}
    for _i, row in results.sipas_elements.iterrows():
        code = str(row["code"])
        if row["kind"] == "sipas":
            label = _("Overall SIPAS")
        else:
            label = _name(elements[code].name if code in elements else None, code)
        view.sipas.append(
            {"code": code, "label": label, "overall": row["kind"] == "sipas", **_row(row)}
        )
    field_names = {f.code: f.name for f in scheme.fields} if scheme else {}
    for _i, row in results.fields.iterrows():
        code = str(row["field"] if pd.notna(row.get("field")) else row["code"])
        view.fields.append(
            {
                "unit": str(row["unit"]),
                "code": code,
                "label": _name(field_names.get(code), code),
                **_row(row),
            }
        )
    for _i, row in results.totals.iterrows():
        view.totals.append({"unit": str(row["unit"]), "code": str(row["code"]), **_row(row)})
    if results.index is not None:
        _index(view, results.index, field_names)
    if results.weak is not None:
        names = {c.code: c.name for c in scheme.criteria.values()} if scheme else {}
        for _i, row in results.weak.iterrows():
            item = {k: (None if pd.isna(v) else v) for k, v in row.items()}
            item["points"] = _published(view, item.get("points"))
            item["label"] = _name(names.get(str(row.get("criterion"))), str(row.get("criterion")))
            view.weak.append(item)
    _charts(view, scores)
    return view


def _names(view: View) -> None:
    results, lang = view.results, g.lang
    scheme, found = results.scheme, results.questionnaires
    titles = {code: in_language(q.title, lang, code) for code, q in found.items()}
    if scheme is not None:
        view.group_names = {
            code: titles.get(group.questionnaire, code) for code, group in scheme.groups.items()
        }
        view.block_names = {b.code: _name(b.name, b.code) for b in scheme.blocks}
    unit_question = (results.run.parameters or {}).get("unit")
    for questionnaire in found.values():
        for code, name in names.option_names(questionnaire, unit_question, lang).items():
            view.unit_names.setdefault(code, name)
    if results.index is not None and "unit_name" in results.index:
        for code, name in zip(results.index["unit_code"], results.index["unit_name"], strict=True):
            if isinstance(name, str) and name.strip():
                view.unit_names[str(code)] = name.strip()


def _weighting(view: View, group: str, report: dict[str, Any] | None) -> dict[str, Any]:
    """A group's weighting report with names: the method's, the margins' variables and levels."""
    report = dict(report or {})
    scheme = view.results.scheme
    code = scheme.groups[group].questionnaire if scheme and group in scheme.groups else group
    questionnaire = view.results.questionnaires.get(code)
    report["method_name"] = names.method_name(report.get("method"))
    margins = []
    for margin in report.get("margins") or []:
        variable, level = names.margin_labels(
            questionnaire, str(margin["variable"]), str(margin["level"]), g.lang
        )
        error = float(margin["rel_error"])
        # fixed decimals, never 6.3E-12: an error that rounds to nothing shows as 0,0000, unsigned
        error = 0.0 if round(error, RELATIVE_ERROR_DECIMALS) == 0 else error
        margins.append(
            {**margin, "variable_label": variable, "level_label": level, "rel_error": error}
        )
    report["margins"] = margins
    whole = all(float(m["target"]).is_integer() for m in margins)
    view.margin_decimals[group] = 0 if whole else 3
    return report


def _published(view: View, value) -> float | None:
    from analysis.index import published

    number = finite(value)
    return None if number is None else float(published(number, view.results_decimals))


def _index(view: View, table: pd.DataFrame, field_names) -> None:
    import pandas as pd

    view.has_previous = "previous_rank" in table and table["previous_rank"].notna().any()
    codes = [
        c[len("field_") : -len("_points")]
        for c in table.columns
        if c.startswith("field_") and c.endswith("_points")
    ]
    for _i, row in table.iterrows():
        item = {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for column in ("appraisal_points", "survey_points", "total_points", "percent_change"):
            item[column] = _published(view, item.get(column))
        shown = item.get("published_percent")
        item["percent"] = _published(view, shown if shown is not None else item.get("percent"))
        item["fields"] = [
            {
                "code": code,
                "points": _published(view, row[f"field_{code}_points"]),
                "percent": _published(view, row.get(f"field_{code}_percent")),
            }
            for code in codes
        ]
        view.index.append(item)
    view.index_fields = [
        {"code": code, "label": _name(field_names.get(code), code)} for code in codes
    ]


def _charts(view: View, scores: pd.DataFrame) -> None:
    weights = view.results.weights
    if (
        weights is not None
        and len(weights)
        and any(r and r.get("method") for r in view.weighting.values())
    ):
        view.charts["weights"] = charts.weight_histogram(
            weights["weight"].tolist(),
            _("Distribution of the final weights"),
            _("Weight"),
            _("Respondents"),
        )
    elements = [s for s in view.sipas if s["estimate"] is not None]
    if elements:
        view.charts["sipas"] = charts.estimates_with_intervals(
            [s["label"] if not s["overall"] else _("Overall") for s in elements],
            [s["estimate"] for s in elements],
            [s["ci_low"] if s["ci_low"] is not None else s["estimate"] for s in elements],
            [s["ci_high"] if s["ci_high"] is not None else s["estimate"] for s in elements],
            _("SIPAS by element, with 95 percent confidence intervals"),
            _("Satisfied (%)"),
            xmax=100,
        )
    if view.index:
        fields = [f["code"] for f in view.index_fields]
        series = {
            _unit(view, u["unit_code"]): [f["points"] or 0 for f in u["fields"]] for u in view.index
        }
        maxima = _field_maxima(view, fields)
        view.charts["fields"] = charts.points_by_field(
            fields,
            series,
            maxima,
            _("Points by field per unit"),
            _("Field"),
            _("Points"),
            _("Maximum"),
        )
        if view.has_previous:
            view.charts["ranks"] = charts.rank_changes(
                [_unit(view, u["unit_code"]) for u in view.index],
                [finite(u.get("previous_rank")) for u in view.index],
                [float(u["rank"]) for u in view.index],
                _("Change of rank against last year"),
                _("Last year"),
                _("This year"),
                _("Rank"),
            )
    elif view.fields:
        fields = sorted({f["code"] for f in view.fields}, key=_natural)
        units = sorted({f["unit"] for f in view.fields})
        lookup = {(f["unit"], f["code"]): f for f in view.fields}
        series = {
            _unit(view, u): [(lookup.get((u, c)) or {}).get("estimate") or 0 for c in fields]
            for u in units
        }
        maxima = [(lookup.get((units[0], c)) or {}).get("max_points") or 0 for c in fields]
        view.charts["fields"] = charts.points_by_field(
            fields,
            series,
            maxima,
            _("Survey points by field"),
            _("Field"),
            _("Points"),
            _("Maximum"),
        )


def _unit(view: View, code) -> str:
    return view.unit_names.get(str(code), str(code))


def _field_maxima(view: View, fields: list[str]) -> list[float]:
    scheme = view.results.scheme
    if scheme is None:
        return [0.0] * len(fields)
    maxima = {f.code: f.max_points for f in scheme.fields}
    return [maxima.get(code, 0.0) for code in fields]


def _natural(code: str):
    try:
        return (0, float(code), code)
    except ValueError:
        return (1, 0.0, code)
