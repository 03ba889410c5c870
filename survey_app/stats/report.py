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
from . import charts
from .services import Results, finite

if TYPE_CHECKING:  # pandas is imported where used (see `survey_app.stats.chain`)
    import pandas as pd


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
    view.weighting = (results.summary.get("weighting") or {}).copy()
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
            item["label"] = _name(names.get(str(row.get("criterion"))), str(row.get("criterion")))
            view.weak.append(item)
    _charts(view, scores)
    return view


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
        item["fields"] = [
            {
                "code": code,
                "points": finite(row[f"field_{code}_points"]),
                "percent": finite(row.get(f"field_{code}_percent")),
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
        series = {str(u["unit_code"]): [f["points"] or 0 for f in u["fields"]] for u in view.index}
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
                [str(u["unit_code"]) for u in view.index],
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
            u: [(lookup.get((u, c)) or {}).get("estimate") or 0 for c in fields] for u in units
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
