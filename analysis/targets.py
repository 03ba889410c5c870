"""Population targets: the long ``variable,level,target`` table and its checks.

A target file has one row per level of a weighting variable::

    variable,level,target
    sex,female,51200
    sex,male,48800
    sex:district,female:Ky Anh,1520

A crossed variable joins its columns with ``:`` and writes its levels the same way.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from analysis.file_limits import MAX_ROWS, FileTooLarge, check_csv_header
from analysis.messages import _, reasons

CROSS = ":"

#: Margins whose totals differ by more than this (relative) are refused.
TOTAL_TOLERANCE = 1e-6
#: Rows of a targets file, one per level: a crossing of district x sex x age group for a whole
#: country is under it, as a national quota's cells are (survey_app/fieldwork/quota_file.py).
MAX_TARGET_ROWS = MAX_ROWS


class TargetError(ValueError):
    """Targets that cannot be used: the message says what to fix."""


def level_key(value: object) -> str:
    """The text under which a level is matched between data and targets.

    Integral numbers lose their decimal part (``2.0`` and ``"2"`` are the same level); everything
    else is compared as stripped text.
    """
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return repr(value)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number == int(number):
        return str(int(number))
    return text


@dataclass(frozen=True)
class Margin:
    """Population totals of one (possibly crossed) weighting variable."""

    variable: str
    levels: tuple[str, ...]
    totals: tuple[float, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The data columns this margin is defined on (several for a crossed variable)."""
        return tuple(self.variable.split(CROSS))

    @property
    def total(self) -> float:
        return math.fsum(self.totals)

    def level_parts(self, level: str) -> tuple[str, ...]:
        parts = tuple(level_key(p) for p in level.split(CROSS))
        if len(parts) != len(self.columns):
            raise TargetError(
                _(
                    "target level %(level)s of %(variable)s needs %(parts)s parts joined by "
                    "%(cross)s",
                    level=repr(level),
                    variable=self.variable,
                    parts=len(self.columns),
                    cross=repr(CROSS),
                )
            )
        return parts


@dataclass(frozen=True)
class Targets:
    """All margins of a target file, in file order."""

    margins: tuple[Margin, ...]

    def __iter__(self):
        return iter(self.margins)

    def __len__(self) -> int:
        return len(self.margins)

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(m.variable for m in self.margins)

    def get(self, variable: str) -> Margin | None:
        for margin in self.margins:
            if margin.variable == variable:
                return margin
        return None

    def check_totals(self) -> float:
        """Return the common total; raise `TargetError` if the margins disagree."""
        if not self.margins:
            raise TargetError(_("the targets are empty: give at least one variable"))
        first = self.margins[0]
        for margin in self.margins[1:]:
            if abs(margin.total - first.total) > TOTAL_TOLERANCE * abs(first.total):
                raise TargetError(
                    _(
                        "targets do not add to the same total: %(first)s sums to %(first_total)s "
                        "but %(other)s sums to %(other_total)s",
                        first=first.variable,
                        first_total=first.total,
                        other=margin.variable,
                        other_total=margin.total,
                    )
                )
        return first.total


def targets_from_rows(rows: Iterable[tuple[str, object, object]]) -> Targets:
    """Build `Targets` from ``(variable, level, target)`` rows, checking each value."""
    levels: dict[str, dict[str, float]] = {}
    for number, (variable, level, target) in enumerate(rows, start=1):
        variable = str(variable).strip()
        if not variable:
            raise TargetError(_("target row %(row)s has no variable", row=number))
        key = CROSS.join(level_key(p) for p in str(level).split(CROSS))
        if key == "":
            raise TargetError(
                _("target row %(row)s (%(variable)s) has no level", row=number, variable=variable)
            )
        try:
            value = float(target)
        except (TypeError, ValueError):
            raise TargetError(
                _(
                    "target row %(row)s (%(variable)s=%(level)s) has target %(target)s, "
                    "not a number",
                    row=number,
                    variable=variable,
                    level=level,
                    target=repr(target),
                )
            ) from None
        if not math.isfinite(value) or value < 0:
            raise TargetError(
                _(
                    "target row %(row)s (%(variable)s=%(level)s) must be a finite number >= 0, "
                    "not %(target)s",
                    row=number,
                    variable=variable,
                    level=level,
                    target=str(target),
                )
            )
        by_level = levels.setdefault(variable, {})
        if key in by_level:
            raise TargetError(
                _("target %(variable)s=%(level)s is given twice", variable=variable, level=level)
            )
        by_level[key] = value
    margins = tuple(
        Margin(variable, tuple(by_level), tuple(by_level.values()))
        for variable, by_level in levels.items()
    )
    for margin in margins:
        for level in margin.levels:
            margin.level_parts(level)
    return Targets(margins)


def targets_from_mapping(mapping: Mapping[str, Mapping[object, float]]) -> Targets:
    """Build `Targets` from ``{variable: {level: total}}``."""
    return targets_from_rows(
        (variable, level, total)
        for variable, by_level in mapping.items()
        for level, total in by_level.items()
    )


def read_targets(path: str | Path) -> Targets:
    """Read a long ``variable,level,target`` CSV file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        check_csv_header(text)
        with io.StringIO(text, newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            if not {"variable", "level", "target"} <= set(header):
                raise TargetError(
                    _(
                        "%(path)s: the header must be variable,level,target (found %(header)s)",
                        path=str(path),
                        header=",".join(header),
                    )
                )
            twice = sorted({h for h in header if header.count(h) > 1 and h})
            if twice:
                # DictReader would keep the last of two "target" columns without a word
                raise TargetError(
                    _(
                        "%(path)s: the column %(columns)s appears twice",
                        path=str(path),
                        columns=", ".join(twice),
                    )
                )
            reader.fieldnames = header
            rows = [
                (r["variable"], r["level"], r["target"])
                for r in itertools.islice(reader, MAX_TARGET_ROWS + 1)
            ]
    except OSError as exc:
        raise TargetError(
            _("cannot read targets %(path)s: %(reason)s", path=str(path), reason=exc.strerror)
        ) from None
    except UnicodeDecodeError:
        raise TargetError(_("%(path)s is not UTF-8 text", path=str(path))) from None
    except (FileTooLarge, csv.Error) as exc:
        raise TargetError(
            _("cannot read targets %(path)s: %(reason)s", path=str(path), reason=reasons(exc)[0])
        ) from None
    if len(rows) > MAX_TARGET_ROWS:
        raise TargetError(
            _(
                "the %(what)s %(path)s has more than %(max_rows)s rows under its header; at "
                "most %(max_rows)s are read",
                what=_("targets"),
                path=str(path),
                max_rows=MAX_TARGET_ROWS,
            )
        )
    for row in rows:
        if any(v is None for v in row):
            raise TargetError(_("%(path)s: a row has fewer than three fields", path=str(path)))
    return targets_from_rows(rows)
