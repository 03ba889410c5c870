"""An XLSForm (the survey, choices and settings sheets of KoboToolbox and ODK) turned into one of
our questionnaires, or refused whole with every construct that does not map named by sheet and
row.

pyxform reads the workbook (its own reader: the rows as ODK reads them, empty rows counted, so
row numbers are the spreadsheet's) and checks it as ODK would; the mapping to our format is
ours. What maps: select_one / select_multiple with their choice lists (select_one with the
minimal or autocomplete appearance as a dropdown), integer, decimal (text that must be a
number), text (multiline: long text), note; each top-level group a page, a nested group a note
whose relevance its questions carry; relevant, required, constraint and their messages through
`xpath`; labels, hints and messages in every language of the app (label::English (en),
label::Tiếng Việt (vi)). A question whose relevance reads a question of its own page starts a
new page, since our relevance looks only at earlier pages (the form works without JavaScript).
Metadata (start, end, today, ...) and display hints are left out and said so, as notices.
"""

from __future__ import annotations

import copy
import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from analysis.file_limits import FileTooLarge, check_workbook
from analysis.languages import LANGUAGES
from analysis.problems import FileInvalid, Problem

from .definition import Questionnaire
from .expressions import Expression, ExpressionError
from .validate import IDENTIFIER, build_questionnaire
from .xpath import XPathUnsupported, to_ours

#: An XLSForm is a few hundred rows; the limits of every other upload apply on top.
MAX_ROWS = 5_000
MAX_COLUMNS = 200
#: Types ODK records by itself, not questions: left out (the app keeps its own times).
METADATA = {
    "start",
    "end",
    "today",
    "deviceid",
    "imei",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
    "start-geopoint",
}
#: Columns read; any other column with a value in a row is a construct that does not map.
SURVEY_COLUMNS = {"type", "name", "label", "hint", "required", "relevant", "constraint"}
SURVEY_COLUMNS |= {"constraint_message", "appearance"}
SURVEY_ALIASES = {
    "relevance": "relevant",
    "caption": "label",
    "constraint message": "constraint_message",
    "constraining_message": "constraint_message",
    "required message": "required_message",
    "requiredmsg": "required_message",
}
#: Columns whose text is only shown by ODK: left out with a notice.
SURVEY_NOTICED = {"required_message", "guidance_hint"}
CHOICE_ALIASES = {"list name": "list_name", "value": "name", "caption": "label"}
#: Appearances that change nothing here (a group is a page anyway) or that we map.
APPEARANCES = {"field-list", "minimal", "autocomplete", "multiline"}
DROPDOWN_APPEARANCES = {"minimal", "autocomplete", "search"}
YES = {"yes", "true", "true()"}
NO = {"no", "false", "false()"}
_CONTROL = re.compile(r"^(begin|end)[ _](group|repeat)$", re.IGNORECASE)
_SELECT = re.compile(
    r"^(select[ _]one|select1|select[ _]multiple|select all that apply)"
    r"(?P<file>[ _]from[ _]file)?(?:\s+(?P<rest>.*))?$",
    re.IGNORECASE,
)
_LANGUAGE_CODE = re.compile(r"\(([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?\)\s*$")


class XLSFormInvalid(FileInvalid):
    """An XLSForm refused whole; `problems` names each construct by sheet and row."""


@dataclass
class Imported:
    questionnaire: Questionnaire
    #: Constructs left out without changing what is asked (metadata, display hints).
    notices: list[Problem] = field(default_factory=list)


def where(sheet: str, row: int | None) -> str:
    """`survey sheet, row 14` in the reader's language."""
    if row is None:
        return _("%(sheet)s sheet", sheet=sheet)
    return _("%(sheet)s sheet, row %(row)s", sheet=sheet, row=row)


def _language(suffix: str, default: str | None) -> str | None:
    """The app language a column suffix (`English (en)`, `Tiếng Việt (vi)`, `Vietnamese`) names;
    None for a language the app does not have."""
    if suffix == "":
        suffix = default or ""
    found = _LANGUAGE_CODE.search(suffix)
    if found:
        code = found[1].lower()
        return code if code in LANGUAGES else None
    from babel import Locale

    wanted = suffix.strip().casefold()
    for lang in LANGUAGES:
        names = {Locale.parse(lang).get_display_name(other).casefold() for other in LANGUAGES}
        if wanted in names or wanted == lang:
            return lang
    return None


class _Reader:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []
        self.notices: list[Problem] = []
        self.default_language: str | None = None

    def problem(self, sheet: str, row: int | None, message: Any) -> None:
        self.problems.append(Problem(self.filename, None, where(sheet, row), message))

    def notice(self, sheet: str, row: int | None, message: Any) -> None:
        self.notices.append(Problem(self.filename, None, where(sheet, row), message))

    # -- columns ---------------------------------------------------------------------------

    def columns(self, sheet: str, header: list[str], aliases: dict[str, str]) -> dict:
        """header -> (base, language or None, known language?) for one sheet."""
        out = {}
        for column in header:
            base, _sep, suffix = column.partition("::")
            base = base.strip().lower()
            base = aliases.get(base, base)
            lang = (
                _language(suffix.strip(), self.default_language)
                if _sep
                or base
                in (
                    "label",
                    "hint",
                    "constraint_message",
                )
                else None
            )
            if _sep and lang is None and not base.startswith("$"):
                self.notice(
                    sheet,
                    1,
                    _(
                        "the column %(column)s is in a language the app does not have (it has "
                        "%(langs)s); left out",
                        column=column,
                        langs=", ".join(LANGUAGES),
                    ),
                )
            out[column] = (base, lang, bool(_sep))
        return out

    def text(self, row: dict, columns: dict, base: str) -> dict[str, str] | None:
        """A label in every language found in the row, or None when the row gives none."""
        found: dict[str, str] = {}
        for column, value in row.items():
            column_base, lang, _suffixed = columns.get(column, ("", None, False))
            if column_base == base and lang is not None and value:
                found.setdefault(lang, str(value))
        return found or None


def _header(rows: list[dict] | None, header: list[dict] | None) -> list[str]:
    if header:
        return list(header[0])
    names: list[str] = []
    for row in rows or []:
        names.extend(k for k in row if k not in names)
    return names


def read_workbook(data: bytes, filename: str) -> dict[str, Any]:
    """The sheets of an .xlsx as pyxform reads them, after the limits every upload gets."""
    unreadable = XLSFormInvalid(
        [
            Problem(
                filename, None, None, _("The file cannot be opened as an Excel workbook (.xlsx).")
            )
        ]
    )
    if not data.startswith(b"PK"):
        raise unreadable
    try:
        check_workbook(data, max_rows=MAX_ROWS, max_columns=MAX_COLUMNS)
    except FileTooLarge as exc:
        message = _("The file is too large to read: %(reason)s.", reason=exc)
        raise XLSFormInvalid([Problem(filename, None, None, message)]) from exc
    from pyxform.xls2json_backends import xlsx_to_dict

    try:
        with warnings.catch_warnings():
            # Workbooks from Excel often carry extensions openpyxl only warns about.
            warnings.simplefilter("ignore")
            return xlsx_to_dict(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any workbook pyxform's reader refuses (entities too)
        raise unreadable from exc


def _pyxform_problem(sheets: dict[str, Any], filename: str) -> Problem | None:
    """What pyxform itself finds wrong with the form (unclosed groups, unknown lists...)."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import DefinitionData

    try:
        workbook_to_json(DefinitionData(**copy.deepcopy(sheets)), warnings=[])
    except PyXFormError as exc:
        return Problem(filename, None, None, _("pyxform refuses the form: %(error)s", error=exc))
    except Exception as exc:  # noqa: BLE001 - pyxform raises others on malformed sheets
        return Problem(filename, None, None, _("pyxform refuses the form: %(error)s", error=exc))
    return None


def read_xlsform(
    data: bytes,
    filename: str,
    code: str | None = None,
    group: str = "citizen",
    access: str = "open",
) -> Imported:
    """Our questionnaire from an .xlsx XLSForm, validated as a questionnaire file is; raises
    `XLSFormInvalid` with every problem (none is stored: the caller stores only a result)."""
    sheets = read_workbook(data, filename)
    reader = _Reader(filename)
    if not sheets.get("survey"):
        raise XLSFormInvalid(
            [Problem(filename, None, None, _("The workbook has no survey sheet."))]
        )
    refused = _pyxform_problem(sheets, filename)
    if refused is not None:
        reader.problems.append(refused)
    settings = (sheets.get("settings") or [{}])[0] if sheets.get("settings") else {}
    settings = {str(k).strip().lower(): v for k, v in settings.items()}
    reader.default_language = settings.get("default_language")
    for key in settings:
        if key not in ("form_title", "form_id", "default_language", "version", "style"):
            reader.notice("settings", 2, _("the setting %(name)s is left out", name=key))
    lists, list_rows = _choices(reader, sheets)
    builder = _Builder(reader, lists, list_rows, settings)
    builder.walk(sheets["survey"], _header(sheets["survey"], sheets.get("survey_header")))
    title_text = settings.get("form_title") or settings.get("form_id") or code or filename
    title = {lang: str(title_text) for lang in LANGUAGES}
    code = code or str(settings.get("form_id") or "")
    raw: dict[str, Any] = {
        "code": code,
        "group": group,
        "access": access,
        "title": title,
        "intro": builder.intro or title,
        "pages": builder.pages(title),
    }
    if builder.lists_used:
        raw["lists"] = {name: lists[name] for name in sorted(builder.lists_used)}
    questionnaire, problems = build_questionnaire(raw, file=filename)
    # The form checked whole as well, so that one reading tells everything; a row already
    # refused is not told again for what followed from refusing it.
    told = {str(p.key) for p in reader.problems}
    located = [builder.locate(p) for p in problems]
    found = reader.problems + [
        p
        for p in located
        if not any(str(p.key) == t or str(p.key).startswith(t + ",") for t in told)
    ]
    if found or questionnaire is None:
        raise XLSFormInvalid(found)
    return Imported(questionnaire, reader.notices)


def _choices(reader: _Reader, sheets: dict) -> tuple[dict[str, list], dict[str, list[int]]]:
    rows = sheets.get("choices") or []
    columns = reader.columns("choices", _header(rows, sheets.get("choices_header")), CHOICE_ALIASES)
    lists: dict[str, list] = {}
    list_rows: dict[str, list[int]] = {}
    for number, row in enumerate(rows, start=2):
        if not row:
            continue
        values = {columns[c][0]: v for c, v in row.items() if not columns[c][2]}
        for column, value in row.items():
            base, _lang, _suffixed = columns[column]
            if base not in ("list_name", "name", "label") and not base.startswith("$") and value:
                reader.problem(
                    "choices",
                    number,
                    _("the column %(column)s is not supported", column=column),
                )
        name = str(values.get("list_name") or "")
        value = str(values.get("name") or "")
        option_value: int | str = (
            int(value) if value.isdecimal() and value == str(int(value)) else value
        )
        lists.setdefault(name, []).append(
            {"value": option_value, "label": reader.text(row, columns, "label") or {}}
        )
        list_rows.setdefault(name, []).append(number)
    return lists, list_rows


@dataclass
class _Page:
    code: str
    title: dict | None
    row: int | None
    relevant: str | None = None
    items: list[tuple[dict, int]] = field(default_factory=list)


class _Builder:
    """Walks the survey sheet's rows into pages and items, each remembered with its row."""

    def __init__(self, reader: _Reader, lists: dict, list_rows: dict, settings: dict) -> None:
        self.reader = reader
        self.lists = lists
        self.list_rows = list_rows
        self.settings = settings
        self.lists_used: set[str] = set()
        self.intro: dict | None = None
        self.raw_pages: list[_Page] = []
        #: key path prefix (as validate formats it) -> (sheet, row)
        self.rows: dict[str, tuple[str, int]] = {}

    def walk(self, rows: list[dict], header: list[str]) -> None:
        self.columns = self.reader.columns("survey", header, SURVEY_ALIASES)
        for column, (base, _lang, _suffixed) in self.columns.items():
            if base in SURVEY_NOTICED:
                self.reader.notice(
                    "survey", 1, _("the column %(column)s is left out", column=column)
                )
        #: open groups: (name, row, our condition or None, is the page)
        stack: list[tuple[str, int, str | None, bool]] = []
        skipping: list[int] = []  # rows of open repeats, whose contents are not read
        page: _Page | None = None
        for number, row in enumerate(rows, start=2):
            if not row:
                continue
            kind = " ".join(str(row.get("type", "")).split())
            control = _CONTROL.match(kind.lower())
            words = [control[1].lower(), control[2].lower()] if control else kind.split(" ")
            if skipping:
                if words == ["begin", "repeat"]:
                    skipping.append(number)
                elif words == ["end", "repeat"]:
                    skipping.pop()
                continue
            if words == ["begin", "repeat"]:
                self.reader.problem("survey", number, _("repeats are not supported"))
                skipping.append(number)
                continue
            self.check_columns(row, number)
            if words == ["begin", "group"]:
                condition = self.condition(row, number, "relevant")
                if not stack:
                    page = _Page(
                        code=str(row.get("name") or ""),
                        title=self.text(row, "label"),
                        row=number,
                        relevant=condition,
                    )
                    self.raw_pages.append(page)
                    stack.append((page.code, number, None, True))
                else:
                    label = self.text(row, "label")
                    if label and page is not None:
                        note = {"code": str(row.get("name") or ""), "type": "note", "label": label}
                        relevant = self.combined(stack, condition)
                        if relevant:
                            note["relevant"] = relevant
                        page.items.append((note, number))
                    stack.append((str(row.get("name") or ""), number, condition, False))
                self.check_appearance(row, number)
                continue
            if words == ["end", "group"]:
                if stack:
                    stack.pop()
                if not stack:
                    page = None
                continue
            item = self.item(row, number, words)
            if item is None:
                continue
            relevant = self.combined(stack, item.pop("relevant", None))
            if relevant:
                item["relevant"] = relevant
            if page is None:
                if item["type"] == "note" and not self.raw_pages and "relevant" not in item:
                    self.intro = _joined_intro(self.intro, item["label"])
                    continue
                if not self.raw_pages or self.raw_pages[-1].row is not None:
                    self.raw_pages.append(
                        _Page(code=f"page_{len(self.raw_pages) + 1}", title=None, row=None)
                    )
                self.raw_pages[-1].items.append((item, number))
                continue
            page.items.append((item, number))

    def combined(self, stack: list, own: str | None) -> str | None:
        parts = [c for _n, _r, c, is_page in stack if c and not is_page]
        if own:
            parts.append(own)
        if len(parts) <= 1:
            return parts[0] if parts else None
        return " and ".join(f"({p})" for p in parts)

    def text(self, row: dict, base: str) -> dict | None:
        return self.reader.text(row, self.columns, base)

    def check_columns(self, row: dict, number: int) -> None:
        for column, value in row.items():
            base = self.columns.get(column, ("", None, False))[0]
            if value in (None, "") or base.startswith("$") or base in SURVEY_NOTICED:
                continue
            if base not in SURVEY_COLUMNS:
                self.reader.problem(
                    "survey", number, _("the column %(column)s is not supported", column=column)
                )

    def check_appearance(self, row: dict, number: int) -> None:
        for word in str(row.get("appearance") or "").split():
            if word not in APPEARANCES:
                self.reader.notice(
                    "survey",
                    number,
                    _("the appearance %(name)s has no equivalent; left out", name=word),
                )

    def condition(self, row: dict, number: int, column: str) -> str | None:
        source = row.get(column)
        if not source:
            return None
        translated = self.translate(str(source), number, column)
        return translated.source if translated is not None else None

    def translate(self, source: str, number: int, column: str) -> Expression | None:
        try:
            return to_ours(source)
        except XPathUnsupported as exc:
            self.reader.problem(
                "survey",
                number,
                _(
                    "%(column)s %(expression)s: %(construct)s has no equivalent",
                    column=column,
                    expression=source,
                    construct=exc.construct,
                ),
            )
        except ExpressionError as exc:
            self.reader.problem(
                "survey",
                number,
                _(
                    "%(column)s %(expression)s cannot be translated: %(error)s",
                    column=column,
                    expression=source,
                    error=exc,
                ),
            )
        return None

    def item(self, row: dict, number: int, words: list[str]) -> dict | None:
        reader = self.reader
        kind = " ".join(words)
        base = words[0].lower()
        if base in METADATA:
            reader.notice(
                "survey",
                number,
                _("type %(type)s is metadata ODK records itself; left out", type=kind),
            )
            return None
        appearance = set(str(row.get("appearance") or "").split())
        self.check_appearance(row, number)
        item: dict[str, Any] = {"code": str(row.get("name") or "")}
        select = _SELECT.match(kind)
        if select:
            rest = (select["rest"] or "").split()
            if select["file"] or len(rest) != 1:
                reader.problem("survey", number, _("type %(type)s is not supported", type=kind))
                return None
            name = rest[0]
            if name not in self.lists:
                reader.problem(
                    "survey",
                    number,
                    _("the choice list %(name)s is not on the choices sheet", name=name),
                )
                return None
            single = select[1].lower() in ("select one", "select_one", "select1")
            if single and appearance & DROPDOWN_APPEARANCES:
                item.update(type="dropdown", list=name)
                self.lists_used.add(name)
            else:
                item.update(
                    type="single" if single else "multiple",
                    options=copy.deepcopy(self.lists[name]),
                )
                item["_list"] = name
        kind = kind.lower()
        if select:
            pass
        elif kind in ("integer", "int"):
            item["type"] = "integer"
        elif kind == "decimal":
            item["type"] = "text"
            item["max_length"] = 30
        elif kind in ("text", "string"):
            item["type"] = "longtext" if "multiline" in appearance else "text"
        elif kind == "note":
            item["type"] = "note"
        else:
            reader.problem("survey", number, _("type %(type)s is not supported", type=kind))
            return None
        item["label"] = self.text(row, "label") or {}
        hint = self.text(row, "hint")
        if hint and item["type"] != "note":
            item["hint"] = hint
        elif hint:
            reader.notice("survey", number, _("the hint of a note is left out"))
        self.required(row, number, item)
        relevant = self.condition(row, number, "relevant")
        if relevant:
            item["relevant"] = relevant
        self.constraint(row, number, item, kind == "decimal")
        return item

    def required(self, row: dict, number: int, item: dict) -> None:
        value = str(row.get("required") or "").strip()
        if value.lower() in YES:
            if item["type"] == "note":
                reader = self.reader
                reader.notice("survey", number, _("a note cannot be required; left out"))
            else:
                item["required"] = True
        elif value and value.lower() not in NO:
            self.reader.problem(
                "survey",
                number,
                _(
                    "required %(expression)s: a question required only under a condition is "
                    "not supported",
                    expression=value,
                ),
            )

    def constraint(self, row: dict, number: int, item: dict, decimal: bool) -> None:
        source = row.get("constraint")
        parts: list[str] = []
        if decimal:
            # A number: text that arithmetic accepts (`.` + 0 is missing for any other text).
            parts.append(". + 0 = .")
        if source:
            translated = self.translate(str(source), number, "constraint")
            if translated is None:
                return
            parts.append(translated.source)
        if not parts:
            return
        item["constraint"] = parts[0] if len(parts) == 1 else " and ".join(f"({p})" for p in parts)
        message = self.text(row, "constraint_message")
        if not message:
            text = (
                (lambda: _("Enter a number, such as 2.5."))
                if decimal and not source
                else (lambda: _("This answer is not accepted."))
            )
            message = {}
            for lang in LANGUAGES:
                with force_locale(lang):
                    message[lang] = str(text())
        item["constraint_message"] = message

    def pages(self, title: dict) -> list[dict]:
        """Our pages, a page split where a question's relevance reads one of its own page."""
        out: list[dict] = []
        taken = {page.code for page in self.raw_pages}
        for page in self.raw_pages:
            part: dict[str, Any] | None = None
            on_part: set[str] = set()
            split = 1
            for item, number in page.items:
                reads = _names(item.get("relevant"))
                if part is None or reads & on_part:
                    code = page.code
                    if part is not None:
                        split += 1
                        code = f"{page.code}_{split}"
                        while code in taken:
                            code += "_"
                        taken.add(code)
                    part = {"code": code, "title": page.title or title, "items": []}
                    if page.relevant:
                        part["relevant"] = page.relevant
                    index = len(out)
                    self.rows[f"pages[{index}]"] = ("survey", page.row or number)
                    out.append(part)
                    on_part = set()
                index = len(out) - 1
                at = len(part["items"])
                self.rows[f"pages[{index}].items[{at}]"] = ("survey", number)
                list_name = item.pop("_list", None)
                if list_name is not None:
                    for k, choice_row in enumerate(self.list_rows.get(list_name, [])):
                        key = f"pages[{index}].items[{at}].options[{k}]"
                        self.rows[key] = ("choices", choice_row)
                part["items"].append(item)
                on_part.add(item["code"])
            if part is None:
                index = len(out)
                self.rows[f"pages[{index}]"] = ("survey", page.row or 0)
                empty = {"code": page.code, "title": page.title or title, "items": []}
                out.append(empty)
        for part in out:
            _skip_when_empty(part)
        for name in self.lists_used:
            for k, choice_row in enumerate(self.list_rows.get(name, [])):
                self.rows[f"lists.{name}[{k}]"] = ("choices", choice_row)
        return out

    def locate(self, problem: Problem) -> Problem:
        """A problem of the built questionnaire, told where it is in the workbook."""
        key = problem.key or ""
        best = ""
        for prefix in self.rows:
            if (key == prefix or key.startswith(prefix + ".") or key.startswith(prefix + "[")) and (
                len(prefix) > len(best)
            ):
                best = prefix
        if not best:
            if key in ("title", "code") or key.startswith(("title.", "intro")):
                location = where("settings", None)
                return Problem(problem.file, None, f"{location}, {key}", problem.message)
            return problem
        sheet, row = self.rows[best]
        tail = key[len(best) :].lstrip(".")
        location = where(sheet, row)
        return Problem(
            problem.file, None, f"{location}, {tail}" if tail else location, problem.message
        )


def _skip_when_empty(page: dict) -> None:
    """A page all of whose items have a relevance is skipped when none of them is relevant, as
    ODK hides a group with nothing to show: its relevance becomes theirs, joined by or."""
    conditions = [item.get("relevant") for item in page["items"]]
    if not conditions or not all(conditions):
        return
    unique = list(dict.fromkeys(conditions))
    either = unique[0] if len(unique) == 1 else " or ".join(f"({c})" for c in unique)
    own = page.get("relevant")
    page["relevant"] = f"({own}) and ({either})" if own else either


def _names(source: str | None) -> set[str]:
    if not source:
        return set()
    from .expressions import parse

    try:
        return {name for name, _column in parse(source).names}
    except ExpressionError:
        return set()


def _joined_intro(intro: dict | None, label: dict) -> dict:
    if intro is None:
        return dict(label)
    return {lang: f"{intro.get(lang, '')}\n\n{label.get(lang, '')}".strip() for lang in LANGUAGES}


__all__ = ["IDENTIFIER", "Imported", "XLSFormInvalid", "read_xlsform", "where"]
