"""Monitoring: fieldwork figures per wave and questionnaire, refreshed in place every 15 s."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from babel.dates import format_skeleton
from babel.numbers import format_decimal, format_percent, get_decimal_symbol, get_group_symbol
from flask import abort, current_app, g, jsonify, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from ..accounts.auth import role_required
from ..extensions import db
from ..fieldwork.frequencies import QuestionCounts, frequencies
from ..fieldwork.monitoring import Dashboard, DayCount, build_dashboard
from ..fieldwork.waves import response_counts, wave_questionnaires
from ..handlers import wave_view
from ..models import Wave
from ..questionnaire.store import definition, latest_versions
from .blueprint import bp

#: Seconds between two refreshes of the figures where JavaScript is on.
REFRESH_SECONDS = 15
#: Shares are shown with one decimal ("33.3%").
SHARE_FORMAT = "#,##0.0%"
#: The chart's drawing area, in SVG user units.
CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM = 600, 180, 16, 150


@bp.get("/monitor")
@role_required("monitor")
def monitor_home():
    pairs = wave_questionnaires(db.session)
    counts = response_counts(db.session)
    versions = latest_versions(db.session)
    titles = {code: definition(v).title for code, v in versions.items()}
    rows = [
        {
            "wave": wave,
            "code": code,
            "title": titles.get(code),
            "started": counts[wave.id, code].total(),
            "complete": counts[wave.id, code]["complete"],
        }
        for wave, code in pairs
    ]
    return render_template("admin/monitor_home.html", rows=rows)


@bp.get("/monitor/<wave_code>/<questionnaire>")
@wave_view("monitor", questionnaire=True)
def monitor(wave: Wave, questionnaire: str):
    dashboard = _dashboard(wave, questionnaire)
    return render_template("admin/monitor.html", **_context(wave, dashboard))


@bp.get("/monitor/<wave_code>/<questionnaire>/data")
@wave_view("monitor", questionnaire=True)
def monitor_data(wave: Wave, questionnaire: str):
    """The figures as JSON, with the page's two refreshable parts rendered as HTML."""
    dashboard = _dashboard(wave, questionnaire)
    context = _context(wave, dashboard)
    figures = dashboard.figures()
    figures["wave"] = wave.code
    figures["html"] = {
        "monitor-summary": render_template("admin/monitor_summary.html", **context),
        "monitor-quotas": render_template("admin/monitor_quotas.html", **context),
    }
    return jsonify(figures)


@bp.get("/monitor/<wave_code>/<questionnaire>/frequencies")
@wave_view("monitor", questionnaire=True)
def frequencies_page(wave: Wave, questionnaire: str):
    """Each closed question's answers counted, as a table and a bar chart, overall or in the
    district chosen."""
    version = latest_versions(db.session).get(questionnaire)
    if version is None:
        abort(404)
    parsed = definition(version)
    found = frequencies(db.session, wave.id, questionnaire, parsed, request.args.get("district"))
    numbers = NumberFormat.of(str(get_locale()))
    return render_template(
        "admin/frequencies.html",
        wave=wave,
        questionnaire=parsed,
        found=found,
        charts={q.item.code: _option_bars(q) for q in found.questions},
        zip=zip,
        count=numbers.count,
        share=numbers.share,
    )


#: One bar's height and the chart's width, in SVG user units; bars start after the codes.
BAR_ROW, BAR_WIDTH, BAR_START = 22, 480, 60


def _option_bars(question: QuestionCounts) -> dict:
    """Horizontal bars of the options' shares, laid out for an inline SVG (no inline style)."""
    span = BAR_WIDTH - BAR_START - 60
    bars = []
    for i, option in enumerate(question.options):
        width = round(span * (option.share or 0), 1)
        bars.append(
            {
                "y": i * BAR_ROW + 4,
                "text_y": i * BAR_ROW + 17,
                "width": width,
                "value_x": BAR_START + width + 4,
                "option": option,
            }
        )
    return {
        "width": BAR_WIDTH,
        "height": max(len(bars), 1) * BAR_ROW + 4,
        "start": BAR_START,
        "bars": bars,
    }


def _dashboard(wave: Wave, questionnaire: str) -> Dashboard:
    cell_filter = {key: value for key, value in request.args.items() if value}
    return build_dashboard(
        db.session,
        wave.id,
        questionnaire,
        g.lang,
        current_app.config["BABEL_DEFAULT_TIMEZONE"],
        cell_filter,
    )


def _context(wave: Wave, dashboard: Dashboard) -> dict:
    versions = latest_versions(db.session)
    version = versions.get(dashboard.questionnaire_code)
    title = definition(version).title if version is not None else None
    chosen = {f.variable: f.selected for f in dashboard.filters if f.selected}
    numbers = NumberFormat.of(str(get_locale()))
    return {
        "wave": wave,
        "dashboard": dashboard,
        "questionnaire_title": title,
        "chart": _chart(dashboard.per_day),
        "chosen": chosen,
        "count": numbers.count,
        "share": numbers.share,
        "mode_names": {"web": _("Complete on the web"), "paper": _("Complete, entered from paper")},
        "refresh_seconds": REFRESH_SECONDS,
        "data_url": url_for(
            "admin.monitor_data",
            wave_code=wave.code,
            questionnaire=dashboard.questionnaire_code,
            **chosen,
        ),
    }


def _chart(days: list[DayCount]) -> dict:
    """Bars of completions per day, laid out for an inline SVG (no script, no inline style)."""
    highest = max((day.complete for day in days), default=0)
    slot = CHART_WIDTH / max(len(days), 1)
    area = CHART_BOTTOM - CHART_TOP
    locale = get_locale()
    bars = []
    for i, day in enumerate(days):
        height = round(area * day.complete / highest, 1) if highest else 0
        bars.append(
            {
                "x": round(i * slot + slot * 0.15, 1),
                "width": round(slot * 0.7, 1),
                "y": round(CHART_BOTTOM - height, 1),
                "height": height,
                "day": day.day,
                "complete": day.complete,
                "short": format_skeleton("Md", day.day, locale=locale),
                "label": format_date(day.day, "medium"),
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "bottom": CHART_BOTTOM,
        "top": CHART_TOP,
        "highest": highest,
        "total": sum(day.complete for day in days),
        "bars": bars,
        "busiest": max(days, key=lambda d: d.complete) if highest else None,
    }


class NumberFormat:
    """Counts and shares written exactly as babel writes them for a locale, without babel's work
    per call: a quota table shows some 800 numbers, and babel's 50 us each was most of the page.

    The fast path is used only where it gave babel's own result on every sample; other locales
    (other grouping rules, other digits) go through babel.
    """

    _made: dict[str, NumberFormat] = {}
    COUNTS = (0, 7, 999, 1000, 12345, 1234567, -4321)
    SHARES = (0, 0.0005, 0.00049, 0.25, 1 / 3, 0.3335, 0.99949, 1, 12.345)

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._symbols = str.maketrans(
            {",": get_group_symbol(locale), ".": get_decimal_symbol(locale)}
        )
        self.fast = all(
            self._fast_count(n) == format_decimal(n, locale=locale) for n in self.COUNTS
        ) and all(
            self._fast_share(v) == format_percent(v, SHARE_FORMAT, locale=locale)
            for v in self.SHARES
        )

    @classmethod
    def of(cls, locale: str) -> NumberFormat:
        found = cls._made.get(locale)
        if found is None:
            found = cls._made[locale] = cls(locale)
        return found

    def count(self, value: int) -> str:
        if self.fast:
            return self._fast_count(value)
        return format_decimal(value, locale=self.locale)

    def share(self, value: float | None) -> str:
        if value is None:
            return "—"
        if self.fast:
            return self._fast_share(value)
        return format_percent(value, SHARE_FORMAT, locale=self.locale)

    def _fast_count(self, value: int) -> str:
        return f"{value:,}".translate(self._symbols)

    def _fast_share(self, value: float) -> str:
        # As babel rounds: the float's shortest decimal form, scaled, half to even.
        scaled = (Decimal(str(value)) * 100).quantize(Decimal("0.1"), ROUND_HALF_EVEN)
        return f"{scaled:,.1f}".translate(self._symbols) + "%"
