"""Charts as SVG made on the server with matplotlib, ready to sit inline in a page.

Figures are made with the object API (`matplotlib.figure.Figure`, no pyplot state), so threads
can draw at the same time. The SVG is rewritten for the site's Content-Security-Policy (no
inline styles: matplotlib's ``style`` attributes become presentation attributes), its ids are
prefixed so several charts can share a page, and it carries ``role="img"`` and a title.
"""

from __future__ import annotations

import html
import io
import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = ["#1d4e89", "#e07a1f", "#3a8d3f", "#b23a48", "#6b4c9a", "#5f6b6d"]
_counter = itertools.count(1)
_STYLE = re.compile(r'style="([^"]*)"')
_ID = re.compile(r'id="([^"]+)"')


def _attributes(match: re.Match) -> str:
    pairs = []
    for declaration in match.group(1).split(";"):
        name, sep, value = declaration.partition(":")
        if sep and name.strip():
            pairs.append(f'{name.strip()}="{html.escape(value.strip(), quote=True)}"')
    return " ".join(pairs)


def to_svg(figure: Figure, title: str) -> Markup:
    """The figure as inline SVG markup, safe under ``style-src 'self'``."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)
    svg = _STYLE.sub(_attributes, svg)
    prefix = f"c{next(_counter)}-"
    ids = set(_ID.findall(svg))
    for name in sorted(ids, key=len, reverse=True):
        svg = svg.replace(f'id="{name}"', f'id="{prefix}{name}"')
        svg = svg.replace(f'"#{name}"', f'"#{prefix}{name}"')
        svg = svg.replace(f"url(#{name})", f"url(#{prefix}{name})")
    title_id = f"{prefix}title"
    svg = svg.replace(
        "<svg ",
        f'<svg role="img" aria-labelledby="{title_id}" stroke-linejoin="round" '
        'stroke-linecap="butt" class="chart-svg" ',
        1,
    )
    head_end = svg.index(">") + 1
    svg = svg[:head_end] + f'<title id="{title_id}">{html.escape(title)}</title>' + svg[head_end:]
    return Markup(svg)


def _figure(width: float = 7.0, height: float = 3.4) -> Figure:
    # matplotlib is imported at the first chart, not with the app: it takes half a second, which
    # every flask command paid
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "par-survey"
    matplotlib.rcParams["svg.fonttype"] = "path"
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=72)
    return figure


def weight_histogram(weights: Sequence[float], title: str, xlabel: str, ylabel: str) -> Markup:
    figure = _figure()
    axes = figure.add_subplot()
    axes.hist(list(weights), bins=min(40, max(5, len(weights) // 10)), color=COLOURS[0])
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.spines[["top", "right"]].set_visible(False)
    return to_svg(figure, title)


def estimates_with_intervals(
    labels: Sequence[str],
    estimates: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    title: str,
    xlabel: str,
    xmax: float | None = None,
) -> Markup:
    """Horizontal bars with 95 % intervals, first label on top."""
    figure = _figure(7.0, 0.5 + 0.45 * max(1, len(labels)))
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    errors = [
        [max(0.0, e - lo) for e, lo in zip(estimates, lows, strict=True)],
        [max(0.0, hi - e) for e, hi in zip(estimates, highs, strict=True)],
    ]
    axes.barh(positions, estimates, xerr=errors, color=COLOURS[0], ecolor="#222222", capsize=3)
    axes.set_yticks(positions, labels)
    axes.set_xlabel(xlabel)
    if xmax is not None:
        axes.set_xlim(0, xmax)
    axes.spines[["top", "right"]].set_visible(False)
    return to_svg(figure, title)


def points_by_field(
    fields: Sequence[str],
    series: dict[str, Sequence[float]],
    maxima: Sequence[float],
    title: str,
    xlabel: str,
    ylabel: str,
    max_label: str,
) -> Markup:
    """Grouped bars: points per field, one bar per unit, the field's maximum as a marker."""
    figure = _figure()
    axes = figure.add_subplot()
    count = max(1, len(series))
    width = 0.8 / count
    for number, (unit, values) in enumerate(series.items()):
        offsets = [i - 0.4 + width * (number + 0.5) for i in range(len(fields))]
        axes.bar(offsets, values, width, label=unit, color=COLOURS[number % len(COLOURS)])
    axes.scatter(range(len(fields)), maxima, marker="_", s=400, color="#222222", label=max_label)
    axes.set_xticks(range(len(fields)), fields)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.legend(frameon=False, fontsize="small")
    axes.spines[["top", "right"]].set_visible(False)
    return to_svg(figure, title)


def rank_changes(
    units: Sequence[str],
    previous: Sequence[float | None],
    current: Sequence[float],
    title: str,
    previous_label: str,
    current_label: str,
    ylabel: str,
) -> Markup:
    """A slope chart: each unit's rank last year and this year (rank 1 on top)."""
    figure = _figure(5.0, 3.8)
    axes = figure.add_subplot()
    for number, (unit, before, now) in enumerate(zip(units, previous, current, strict=True)):
        colour = COLOURS[number % len(COLOURS)]
        if before is not None:
            axes.plot([0, 1], [before, now], marker="o", color=colour)
        else:
            axes.plot([1], [now], marker="o", color=colour)
        axes.annotate(unit, (1, now), xytext=(6, 0), textcoords="offset points", va="center")
    axes.set_xticks([0, 1], [previous_label, current_label])
    axes.set_xlim(-0.2, 1.5)
    axes.invert_yaxis()
    axes.set_ylabel(ylabel)
    axes.spines[["top", "right"]].set_visible(False)
    return to_svg(figure, title)
