"""Tables out: CSV, one Excel workbook, SPSS .sav and Stata .dta with labels, and codebooks.

Pure functions over DataFrames and a questionnaire definition given as plain data (the YAML of
questionnaires/, with shared scales resolved by `analysis.questionnaire.resolve`). Nothing here
reads the database; the web application streams its rows and calls these for the files.

Limits respected (Stata 15 / SPSS documentation):
- Stata: variable names at most 32 characters, variable and data labels at most 80 characters,
  value labels on integers only; SPSS: names at most 64 bytes, variable labels at most 256 bytes,
  value labels at most 120 bytes. Longer labels are cut at a character boundary and end in "...".
- Answer codes that are identifiers (``dept_leader``) become integers 1..k in the order of the
  options, so both programs can label them; the codebook lists both.
"""

from __future__ import annotations

import csv
import html
import io
import keyword
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from analysis.languages import LANGUAGES
from analysis.questionnaire import Variable, resolve, variables

STATA_NAME = 32
STATA_LABEL = 80
SPSS_NAME_BYTES = 64
SPSS_LABEL_BYTES = 256
SPSS_VALUE_LABEL_BYTES = 120
EXCEL_SHEET = 31
#: SPSS reserved words cannot be variable names.
SPSS_RESERVED = {"all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with"}
#: Headings of the HTML codebook; the web application passes its translated ones.
HEADINGS = {
    "title": "Codebook",
    "variable": "Variable",
    "type": "Type",
    "question": "Question",
    "values": "Values",
    "missing": "missing",
    "page": "Page",
}


class ExportError(ValueError):
    """Data that cannot be written in the requested format; the message says why."""


# ---------------------------------------------------------------------------------------------
# CSV and Excel


#: What a spreadsheet reads as the start of a formula: "=HYPERLINK(...)", "+1+1", "@SUM(...)",
#: and a tab or carriage return before one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A cell that a spreadsheet will show, never run: text starting like a formula gets a leading
    apostrophe (OWASP's advice on CSV injection); numbers such as "-1" are left as they are.
    Every CSV and workbook par-survey writes goes through here."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def _safe_frame(table: pd.DataFrame) -> pd.DataFrame:
    text = [
        c
        for c in table.columns
        if table[c].dtype == object or pd.api.types.is_string_dtype(table[c])
    ]
    if not text:
        return table
    safe = table.copy()
    for column in text:
        safe[column] = safe[column].map(spreadsheet_safe, na_action="ignore")
    return safe


def csv_chunks(
    header: list[str], rows: Iterable[Iterable[Any]], per_chunk: int = 500
) -> Iterator[str]:
    """CSV text a few hundred rows at a time, the header first, every cell `spreadsheet_safe`:
    a download of any size streams with flat memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    starts = frozenset(FORMULA_STARTS)
    for number, row in enumerate(rows, start=1):
        # the first character tested here: most cells are codes, and a call per cell cost more
        # than the rest of writing the row
        writer.writerow(
            [spreadsheet_safe(v) if isinstance(v, str) and v[:1] in starts else v for v in row]
        )
        if number % per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def frame_csv_chunks(frames: Iterable[pd.DataFrame], columns: list[str]) -> Iterator[str]:
    """CSV text of DataFrames given a chunk at a time (the header, then each frame's rows)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(columns)
    yield buffer.getvalue()
    for frame in frames:
        buffer.seek(0)
        buffer.truncate()
        _safe_frame(frame.reindex(columns=columns)).to_csv(
            buffer, header=False, index=False, lineterminator="\n"
        )
        yield buffer.getvalue()


def write_csv(table: pd.DataFrame, path: str | Path, excel_bom: bool = False) -> None:
    """UTF-8 CSV; ``excel_bom`` adds the byte-order mark Excel needs to read Vietnamese."""
    _safe_frame(table).to_csv(path, index=False, encoding="utf-8-sig" if excel_bom else "utf-8")


def sheet_names(names) -> list[str]:
    """Excel sheet names: at most 31 characters, none of ``[]:*?/\\``, unique ignoring case."""
    out: list[str] = []
    taken: set[str] = set()
    for name in names:
        clean = re.sub(r"[\[\]:*?/\\]", "_", str(name)).strip("'") or "sheet"
        candidate = clean[:EXCEL_SHEET]
        number = 2
        while candidate.lower() in taken:
            suffix = f" ({number})"
            candidate = clean[: EXCEL_SHEET - len(suffix)] + suffix
            number += 1
        taken.add(candidate.lower())
        out.append(candidate)
    return out


def write_workbook(tables: Mapping[str, pd.DataFrame], path: str | Path) -> None:
    """One .xlsx workbook with a sheet per table, the header row frozen."""
    if not tables:
        raise ExportError("a workbook needs at least one table")
    write_xlsx(path, {name: (list(t.columns), [t]) for name, t in tables.items()})


def write_xlsx(
    path: str | Path | BinaryIO, sheets: Mapping[str, tuple[list[str], Iterable[pd.DataFrame]]]
) -> None:
    """One workbook, a sheet per entry ``name -> (columns, frames)``, the frames given a chunk at
    a time and streamed to the file, so any size fits.

    Written by `analysis.xlsx` (the format by hand, a cell's XML worked out once per distinct
    value of a column) as XlsxWriter wrote it before, at a tenth of the time: text as text (every
    text `spreadsheet_safe`), numbers as numbers, a signed number given as text as a number, dates
    with a date format, missing values empty; control characters escaped as Excel does. `path`
    may be a binary file (a download built in memory).
    """
    from analysis import xlsx

    names = sheet_names(sheets)
    xlsx.write(path, [(n, *sheet) for n, sheet in zip(names, sheets.values(), strict=True)])


# ---------------------------------------------------------------------------------------------
# Labelled data for SPSS and Stata


@dataclass
class Labelled:
    """A table ready for a statistics package: renamed columns, labels and recodes."""

    data: pd.DataFrame
    #: new name -> variable label
    variable_labels: dict[str, str] = field(default_factory=dict)
    #: new name -> {value: label}
    value_labels: dict[str, dict[int | float, str]] = field(default_factory=dict)
    #: original column -> new name
    names: dict[str, str] = field(default_factory=dict)
    #: original column -> {answer code: integer} for codes that are identifiers
    recodes: dict[str, dict[str, int]] = field(default_factory=dict)


def _cut_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cut_bytes(text: str, limit: int) -> str:
    if len(text.encode("utf-8")) <= limit:
        return text
    cut = text.encode("utf-8")[: limit - 3].decode("utf-8", errors="ignore")
    return cut + "..."


def safe_names(columns, limit: int, byte_limit: bool = False) -> dict[str, str]:
    """Names valid in Stata or SPSS: letters, digits and _, starting with a letter, unique."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        name = re.sub(r"[^A-Za-z0-9_]", "_", str(column))
        if not name or not name[0].isalpha():
            name = "v" + name
        if name.lower() in SPSS_RESERVED or keyword.iskeyword(name):
            name += "_"
        size = len(name.encode("utf-8")) if byte_limit else len(name)
        base = name[:limit] if size > limit else name
        candidate, number = base, 2
        while candidate.lower() in taken:
            suffix = f"_{number}"
            candidate = base[: limit - len(suffix)] + suffix
            number += 1
        taken.add(candidate.lower())
        out[str(column)] = candidate
    return out


def labelled(
    data: pd.DataFrame,
    definition: dict[str, Any] | None,
    language: str = "vi",
    *,
    extra_labels: Mapping[str, str] | None = None,
    name_limit: int = STATA_NAME,
    name_bytes: bool = False,
    cut_label=lambda text: text,
    cut_value_label=lambda text: text,
) -> Labelled:
    """Recode and label ``data`` (export columns) from a questionnaire definition.

    Columns that are questionnaire variables get their question as label and their options as
    value labels; identifier codes become integers 1..k. Other columns (weights, scores) keep
    their values, labelled from ``extra_labels`` when given.
    """
    known = {v.name: v for v in variables(resolve(definition))} if definition else {}
    names = safe_names(data.columns, name_limit, name_bytes)
    out = pd.DataFrame(index=data.index)
    result = Labelled(out, names=names)
    for column in data.columns:
        name = names[str(column)]
        variable = known.get(str(column))
        series = data[column]
        if variable is not None and variable.options:
            out[name], labels, recode = _coded(series, variable, language)
            result.value_labels[name] = {k: cut_value_label(v) for k, v in labels.items()}
            if recode:
                result.recodes[str(column)] = recode
            label = variable.label.get(language, "")
        else:
            out[name] = _plain(series)
            label = (extra_labels or {}).get(str(column), "")
        if label:
            result.variable_labels[name] = cut_label(label)
    return result


def _coded(series: pd.Series, variable: Variable, language: str):
    options = [o for o in variable.options if not o.get("missing")]
    numeric = all(
        isinstance(o["value"], int | float) and not isinstance(o["value"], bool) for o in options
    )
    labels: dict[int | float, str] = {}
    recode: dict[str, int] = {}
    if numeric:
        values = pd.to_numeric(series, errors="coerce")
        bad = values.isna() & series.notna() & (series.astype("string").str.strip() != "")
        for o in options:
            labels[o["value"]] = (o.get("label") or {}).get(language, "")
    else:
        recode = {str(o["value"]): i for i, o in enumerate(options, start=1)}
        text = series.astype("string").str.strip()
        values = text.map(recode, na_action="ignore").astype("Float64")
        bad = values.isna() & text.notna() & (text != "")
        for o in options:
            labels[recode[str(o["value"])]] = (o.get("label") or {}).get(language, "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ExportError(
            f"row {row + 2}: {variable.name} has the answer {series.iloc[row]!r}, which is not "
            "one of its options"
        )
    values = pd.to_numeric(values, errors="coerce").astype(np.float64)
    return values, labels, recode


def _plain(series: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(series, errors="coerce")
    text = series.astype("string")
    if (numbers.notna() | text.isna() | (text.str.strip() == "")).all():
        return numbers.astype(np.float64)
    return text.fillna("").astype(object)


def write_sav(
    data: pd.DataFrame,
    path: str | Path,
    definition: dict[str, Any] | None = None,
    language: str = "vi",
    extra_labels: Mapping[str, str] | None = None,
) -> Labelled | None:
    """SPSS .sav with variable and value labels in ``language``; returns what was written."""
    return write_labelled(path, "sav", [data], definition, language, extra_labels)


def write_dta(
    data: pd.DataFrame,
    path: str | Path,
    definition: dict[str, Any] | None = None,
    language: str = "vi",
    extra_labels: Mapping[str, str] | None = None,
    file_label: str = "",
) -> Labelled | None:
    """Stata .dta (format 119, UTF-8) with variable and value labels; returns what was written."""
    return write_labelled(path, "dta", [data], definition, language, extra_labels, file_label)


def write_labelled(
    path: str | Path,
    fmt: str,
    frames: Iterable[pd.DataFrame],
    definition: dict[str, Any] | None,
    language: str,
    extra_labels: Mapping[str, str] | None = None,
    file_label: str = "",
) -> Labelled | None:
    """Write .sav (``fmt="sav"``) or .dta with variable and value labels, from a table given a
    chunk at a time; returns what was written (None, and no file, when there were no chunks).

    Each chunk is recoded with `labelled` (the same names, labels and recodes for every chunk, as
    they depend on the questionnaire only), so only the numeric result is kept.
    """
    import pyreadstat

    if fmt == "sav":
        options = {
            "name_limit": SPSS_NAME_BYTES,
            "name_bytes": True,
            "cut_label": lambda t: _cut_bytes(t, SPSS_LABEL_BYTES),
            "cut_value_label": lambda t: _cut_bytes(t, SPSS_VALUE_LABEL_BYTES),
        }
    elif fmt == "dta":
        options = {
            "name_limit": STATA_NAME,
            "cut_label": lambda t: _cut_chars(t, STATA_LABEL),
            "cut_value_label": lambda t: _cut_bytes(t, 32000),
        }
    else:
        raise ExportError(f"unknown labelled format {fmt!r} (use sav or dta)")
    parts = []
    first = None
    for frame in frames:
        result = labelled(frame, definition, language, extra_labels=extra_labels, **options)
        first = first or result
        parts.append(result.data)
    if first is None:
        return None
    data = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if len(parts) > 1:
        for column in data.columns:
            if any(part[column].dtype == object for part in parts):
                # A text column: a chunk with every cell empty came out as numbers.
                data[column] = data[column].map(lambda v: "" if _is_missing(v) else str(v))
                data[column] = data[column].astype(object)
    if fmt == "sav":
        pyreadstat.write_sav(
            data,
            str(path),
            column_labels=first.variable_labels,
            variable_value_labels=first.value_labels,
        )
    else:
        pyreadstat.write_dta(
            data,
            str(path),
            file_label=_cut_chars(file_label, STATA_LABEL),
            column_labels=first.variable_labels,
            variable_value_labels=first.value_labels,
        )
    first.data = data
    return first


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def with_labels(data: pd.DataFrame, definition: dict[str, Any], language: str) -> pd.DataFrame:
    """A copy of ``data`` with answer codes replaced by their labels in ``language``."""
    known = {v.name: v for v in variables(resolve(definition))}
    out = data.copy()
    for column in data.columns:
        variable = known.get(str(column))
        if variable is None or not variable.options:
            continue
        mapping = {
            str(o["value"]): (o.get("label") or {}).get(language, "") for o in variable.options
        }
        text = data[column].astype("string").str.strip()
        text = text.str.replace(r"\.0$", "", regex=True)
        out[column] = text.map(lambda v, m=mapping: m.get(v, v) if isinstance(v, str) else v)
    return out


# ---------------------------------------------------------------------------------------------
# Codebooks


def codebook(definition: dict[str, Any], languages=LANGUAGES) -> pd.DataFrame:
    """One row per variable and answer value (one row for a variable without options).

    Columns: ``variable, page, item, type``; per language the variable's label (``label_vi``,
    ``label_en``: the question, a grid row or a multiple-choice option) and, for grid rows and
    options, the question they belong to (``question_vi``...); ``value``, the value's label per
    language, and ``missing`` (true for "don't know", which exports leave empty). With one
    language the columns are ``label``, ``question`` and ``value_label``.
    """
    languages = (languages,) if isinstance(languages, str) else tuple(languages)
    one = len(languages) == 1

    def names(prefix: str) -> dict[str, str]:
        return {lang: prefix if one else f"{prefix}_{lang}" for lang in languages}

    label_cols, question_cols = names("label"), names("question")
    value_cols = names("value_label")
    rows = []
    for variable in variables(resolve(definition)):
        base = {
            "variable": variable.name,
            "page": variable.page,
            "item": variable.item,
            "type": variable.type,
        }
        base.update({label_cols[lang]: variable.label.get(lang, "") for lang in languages})
        base.update({question_cols[lang]: variable.question.get(lang, "") for lang in languages})
        options = variable.options or [None]
        for option in options:
            row = dict(base)
            if option is None:
                row["value"] = ""
                row.update({value_cols[lang]: "" for lang in languages})
                row["missing"] = False
            else:
                row["value"] = option["value"]
                labels = option.get("label") or {}
                row.update({value_cols[lang]: labels.get(lang, "") for lang in languages})
                row["missing"] = bool(option.get("missing"))
            rows.append(row)
    columns = ["variable", "page", "item", "type"]
    columns += list(label_cols.values()) + list(question_cols.values()) + ["value"]
    columns += list(value_cols.values()) + ["missing"]
    return pd.DataFrame(rows, columns=columns)


def codebook_html(
    definition: dict[str, Any], language: str = "vi", headings: Mapping[str, str] | None = None
) -> str:
    """A standalone HTML page: one table per page of the questionnaire, values listed.

    ``headings`` replaces the English defaults of `HEADINGS` (the web application passes its
    translated ones); questionnaire text comes from the definition in ``language``.
    """
    words = {**HEADINGS, **(headings or {})}
    definition = resolve(definition)
    esc = html.escape
    title = (definition.get("title") or {}).get(language, definition.get("code", ""))
    pages = {
        p["code"]: (p.get("title") or {}).get(language, p["code"])
        for p in definition.get("pages") or []
    }
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(language)}"><head><meta charset="utf-8">',
        f"<title>{esc(words['title'])}: {esc(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "width:100%;margin-bottom:2em}th,td{border:1px solid #999;padding:4px 8px;"
        "vertical-align:top;text-align:left}code{white-space:nowrap}</style>",
        f"</head><body><main><h1>{esc(words['title'])}: {esc(title)}</h1>",
    ]
    current = None
    for variable in variables(definition):
        if variable.page != current:
            if current is not None:
                parts.append("</tbody></table>")
            current = variable.page
            parts.append(
                f"<h2>{esc(words['page'])} <code>{esc(current)}</code>: {esc(pages[current])}</h2>"
            )
            parts.append(
                f"<table><thead><tr><th>{esc(words['variable'])}</th><th>{esc(words['type'])}"
                f"</th><th>{esc(words['question'])}</th><th>{esc(words['values'])}</th></tr>"
                "</thead><tbody>"
            )
        values = "<br>".join(
            f"<code>{esc(str(o['value']))}</code> = "
            f"{esc((o.get('label') or {}).get(language, ''))}"
            + (f" ({esc(words['missing'])})" if o.get("missing") else "")
            for o in variable.options
        )
        question = variable.question.get(language, "")
        question = f"<small>{esc(question)}</small><br>" if question else ""
        parts.append(
            f"<tr><td><code>{esc(variable.name)}</code></td><td>{esc(variable.type)}</td>"
            f"<td>{question}{esc(variable.label.get(language, ''))}</td><td>{values}</td></tr>"
        )
    if current is not None:
        parts.append("</tbody></table>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"
