"""Turn a questionnaire file into a `Questionnaire`, or into every problem it has (file, line,
key)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l

from analysis.languages import LANGUAGES
from analysis.problems import FileInvalid, KeyPath, Problem, format_key
from analysis.yamllines import LocatedData as LocatedYaml
from analysis.yamllines import YamlSyntaxError, load_located

from .definition import ACCESS, GROUP_LENGTH, ITEM_TYPES, Item, Option, Page, Questionnaire
from .expressions import Expression, ExpressionError, parse

#: Lower case, starting with a letter; no "__" (analysis.questionnaire.OPTION_SEPARATOR), which
#: exports use to join an item and an option.
IDENTIFIER = re.compile(r"^(?!.*__)[a-z][a-z0-9_]{0,62}$")
DEFAULT_MAX_LENGTH = {"text": 200, "longtext": 2000}
SHARED_FILE = "shared.yaml"
#: Names the page forms use themselves; an item with such a code would shadow them.
RESERVED_CODES = {
    "action",
    "answers",
    "csrf_token",
    "data",
    "drop_invalid",
    "earlier_values",
    "errors",
    "form_errors",
    "hidden_tag",
    "is_submitted",
    "meta",
    "page",
    "populate_obj",
    "process",
    "questionnaire",
    "validate",
    "validate_on_submit",
}

PathT = KeyPath


class QuestionnaireInvalid(FileInvalid):
    """Questionnaire files with problems; ``problems`` lists them all."""


class _Checker:
    """Collects problems while walking one file; never stops at the first."""

    def __init__(self, file: str, located: LocatedYaml | None) -> None:
        self.file = file
        self.located = located
        self.problems: list[Problem] = []

    def problem(self, path: PathT, message: Any) -> None:
        line = self.located.line(path) if self.located else 0
        self.problems.append(Problem(self.file, line, format_key(path), message))

    def mapping(self, value: Any, path: PathT, allowed: set[str], required: set[str]) -> dict:
        if not isinstance(value, dict):
            self.problem(path, _l("must be a mapping of keys to values"))
            return {}
        for key in value:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                self.problem((*path, key), _l("unknown key (known keys: %(known)s)", known=known))
        for key in sorted(required - set(value)):
            self.problem(path, _l("missing required key %(key)s", key=key))
        return value

    def identifier(self, value: Any, path: PathT) -> str | None:
        if not isinstance(value, str) or not IDENTIFIER.match(value):
            self.problem(
                path, _l("must be an identifier: a-z, 0-9 and single _, starting with a letter")
            )
            return None
        return value

    def label(self, value: Any, path: PathT) -> dict[str, str]:
        if not isinstance(value, dict):
            self.problem(
                path, _l("must give the text in every language: %(langs)s", langs=_langs())
            )
            return {lang: "" for lang in LANGUAGES}
        for key in value:
            if key not in LANGUAGES:
                self.problem((*path, key), _l("unknown language (use %(langs)s)", langs=_langs()))
        result = {}
        for lang in LANGUAGES:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                self.problem(
                    (*path, lang) if lang in value else path,
                    _l("the %(lang)s text is missing or empty", lang=lang),
                )
                text = ""
            result[lang] = text.strip() if isinstance(text, str) else ""
        return result

    def boolean(self, value: Any, path: PathT) -> bool:
        if not isinstance(value, bool):
            self.problem(path, _l("must be true or false"))
            return False
        return value

    def integer(self, value: Any, path: PathT) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(path, _l("must be a whole number"))
            return None
        return value

    def expression(self, value: Any, path: PathT) -> Expression | None:
        if not isinstance(value, str):
            self.problem(path, _l("must be an expression written as text"))
            return None
        try:
            return parse(value)
        except ExpressionError as exc:
            self.problem(path, _l("invalid expression: %(error)s", error=str(exc)))
            return None


def _langs() -> str:
    return ", ".join(LANGUAGES)


def check_options(check: _Checker, value: Any, path: PathT, allow_exclusive: bool) -> list[Option]:
    if not isinstance(value, list) or not value:
        check.problem(path, _l("must be a non-empty list of options"))
        return []
    options: list[Option] = []
    seen: set[str] = set()
    allowed = {"value", "label", "missing"} | ({"exclusive"} if allow_exclusive else set())
    for i, raw in enumerate(value):
        opath = (*path, i)
        raw = check.mapping(raw, opath, allowed, {"value", "label"})
        if not raw:
            continue
        option_value = raw.get("value")
        if isinstance(option_value, bool) or not (
            isinstance(option_value, int)
            or (isinstance(option_value, str) and IDENTIFIER.match(option_value))
        ):
            check.problem((*opath, "value"), _l("must be a whole number or an identifier"))
            continue
        if str(option_value) in seen:
            check.problem(
                (*opath, "value"), _l("duplicate option value %(value)s", value=option_value)
            )
        seen.add(str(option_value))
        options.append(
            Option(
                value=option_value,
                label=check.label(raw.get("label"), (*opath, "label")),
                missing=check.boolean(raw["missing"], (*opath, "missing"))
                if "missing" in raw
                else False,
                exclusive=check.boolean(raw["exclusive"], (*opath, "exclusive"))
                if "exclusive" in raw
                else False,
            )
        )
    if sum(o.exclusive for o in options) > 1:
        check.problem(path, _l("at most one option can be exclusive"))
    return options


def check_library(check: _Checker, data: dict, path: PathT) -> tuple[dict, dict]:
    """Scales and lists defined at `path` (the shared file, or a questionnaire's own)."""
    scales: dict[str, list[Option]] = {}
    lists: dict[str, list[Option]] = {}
    raw_scales = data.get("scales", {}) or {}
    if not isinstance(raw_scales, dict):
        check.problem((*path, "scales"), _l("must be a mapping of scale names to scales"))
        raw_scales = {}
    for name, scale in raw_scales.items():
        spath = (*path, "scales", name)
        if check.identifier(name, spath) is None:
            continue
        scale = check.mapping(scale, spath, {"options"}, {"options"})
        if scale:
            scales[name] = check_options(check, scale.get("options"), (*spath, "options"), False)
    raw_lists = data.get("lists", {}) or {}
    if not isinstance(raw_lists, dict):
        check.problem((*path, "lists"), _l("must be a mapping of list names to lists"))
        raw_lists = {}
    for name, entries in raw_lists.items():
        lpath = (*path, "lists", name)
        if check.identifier(name, lpath) is not None:
            lists[name] = check_options(check, entries, lpath, False)
    return scales, lists


ITEM_KEYS = {
    "code",
    "type",
    "label",
    "hint",
    "required",
    "relevant",
    "options",
    "scale",
    "rows",
    "list",
    "min",
    "max",
    "max_length",
    "constraint",
    "constraint_message",
    "profile",
}
KEYS_BY_TYPE = {
    "single": {"options", "scale", "constraint", "constraint_message"},
    "multiple": {"options", "constraint", "constraint_message"},
    "grid": {"scale", "rows"},
    "integer": {"min", "max", "constraint", "constraint_message"},
    "text": {"max_length", "constraint", "constraint_message"},
    "longtext": {"max_length", "constraint", "constraint_message"},
    "dropdown": {"list", "constraint", "constraint_message"},
    "note": set(),
}
COMMON_KEYS = {"code", "type", "label", "hint", "required", "relevant", "profile"}


class _QuestionnaireBuilder:
    def __init__(self, check: _Checker, scales: dict, lists: dict) -> None:
        self.check = check
        self.scales = scales
        self.lists = lists
        self.codes: dict[str, PathT] = {}
        #: item code -> page index, for the rule that relevance looks only backwards.
        self.page_of: dict[str, int] = {}
        #: page index -> its optional section (None: always asked), for the rule that only a
        #: section's own questions may name its items.
        self.section_of_page: dict[int, str | None] = {}
        self.expressions: list[tuple[Expression, PathT, int, str, Item | None]] = []

    def claim_code(
        self, code: str | None, path: PathT, page_index: int, answerable: bool = True
    ) -> None:
        if code is None:
            return
        if code in RESERVED_CODES:
            self.check.problem(
                path, _l("%(code)s is a reserved word; choose another code", code=code)
            )
            return
        if code in self.codes:
            first = self.check.located.line(self.codes[code]) if self.check.located else 0
            self.check.problem(
                path,
                _l("duplicate item code %(code)s (first at line %(line)s)", code=code, line=first),
            )
            return
        self.codes[code] = path
        if answerable:
            self.page_of[code] = page_index

    def item(self, raw: Any, path: PathT, page_index: int) -> Item | None:
        check = self.check
        raw = check.mapping(raw, path, ITEM_KEYS, {"code", "type", "label"})
        if not raw:
            return None
        item_type = raw.get("type")
        if item_type not in ITEM_TYPES:
            check.problem(
                (*path, "type"),
                _l("unknown item type (use one of %(types)s)", types=", ".join(ITEM_TYPES)),
            )
            return None
        allowed = COMMON_KEYS | KEYS_BY_TYPE[item_type]
        for key in raw:
            if key in ITEM_KEYS and key not in allowed:
                check.problem((*path, key), _l("does not apply to a %(type)s item", type=item_type))
        code = check.identifier(raw.get("code"), (*path, "code"))
        self.claim_code(code, (*path, "code"), page_index, item_type not in ("grid", "note"))
        item = Item(
            code=code or "",
            type=item_type,
            label=check.label(raw.get("label"), (*path, "label")),
            hint=check.label(raw["hint"], (*path, "hint")) if "hint" in raw else None,
            required=check.boolean(raw["required"], (*path, "required"))
            if "required" in raw
            else False,
            profile=check.boolean(raw["profile"], (*path, "profile"))
            if "profile" in raw
            else False,
            page_index=page_index,
        )
        if item_type == "note" and (item.required or item.profile):
            check.problem(path, _l("a note cannot be required or a profile item"))
        if "relevant" in raw:
            item.relevant = check.expression(raw["relevant"], (*path, "relevant"))
            if item.relevant:
                self.expressions.append(
                    (item.relevant, (*path, "relevant"), page_index, "relevant", item)
                )
        self.item_details(item, raw, path, page_index)
        return item

    def item_details(self, item: Item, raw: dict, path: PathT, page_index: int) -> None:
        check = self.check
        if item.type in ("single", "multiple"):
            if ("options" in raw) == ("scale" in raw):
                check.problem(path, _l("give either options or a scale"))
            elif "options" in raw:
                item.options = check_options(
                    check, raw["options"], (*path, "options"), item.type == "multiple"
                )
            else:
                item.options = self.scale(raw["scale"], (*path, "scale"))
        elif item.type == "dropdown":
            name = raw.get("list")
            if name not in self.lists:
                check.problem((*path, "list"), _l("unknown list %(name)s", name=name))
            else:
                item.options = self.lists[name]
        elif item.type == "grid":
            options = self.scale(raw.get("scale"), (*path, "scale"))
            rows = raw.get("rows")
            if not isinstance(rows, list) or not rows:
                check.problem((*path, "rows"), _l("must be a non-empty list of rows"))
                rows = []
            for i, row in enumerate(rows):
                rpath = (*path, "rows", i)
                row = check.mapping(row, rpath, {"code", "label"}, {"code", "label"})
                if not row:
                    continue
                row_code = check.identifier(row.get("code"), (*rpath, "code"))
                self.claim_code(row_code, (*rpath, "code"), page_index)
                item.rows.append(
                    Item(
                        code=row_code or "",
                        type="single",
                        label=check.label(row.get("label"), (*rpath, "label")),
                        required=item.required,
                        options=options,
                        profile=item.profile,
                        page_index=page_index,
                        grid=item,
                    )
                )
        elif item.type == "integer":
            for bound in ("min", "max"):
                if bound in raw:
                    setattr(item, bound, check.integer(raw[bound], (*path, bound)))
            if item.min is not None and item.max is not None and item.min > item.max:
                check.problem((*path, "min"), _l("min is greater than max"))
        elif item.type in ("text", "longtext"):
            item.max_length = DEFAULT_MAX_LENGTH[item.type]
            if "max_length" in raw:
                value = check.integer(raw["max_length"], (*path, "max_length"))
                if value is not None and value < 1:
                    check.problem((*path, "max_length"), _l("must be at least 1"))
                item.max_length = value or item.max_length
        if "constraint" in raw:
            item.constraint = check.expression(raw["constraint"], (*path, "constraint"))
            if item.constraint:
                self.expressions.append(
                    (item.constraint, (*path, "constraint"), page_index, "constraint", item)
                )
            if "constraint_message" not in raw:
                check.problem(path, _l("a constraint needs a constraint_message"))
        if "constraint_message" in raw:
            item.constraint_message = check.label(
                raw["constraint_message"], (*path, "constraint_message")
            )

    def scale(self, name: Any, path: PathT) -> list:
        if name not in self.scales:
            self.check.problem(path, _l("unknown scale %(name)s", name=name))
            return []
        return self.scales[name]

    def check_references(self) -> None:
        for expression, path, page_index, kind, _item in self.expressions:
            if kind == "relevant" and expression.uses_self:
                self.check.problem(path, _l("'.' can only be used in a constraint"))
            for name, column in expression.names:
                if name not in self.page_of:
                    self.check.problem(
                        path,
                        _l("unknown item %(name)s (column %(column)s)", name=name, column=column),
                    )
                elif kind == "relevant" and self.page_of[name] >= page_index:
                    self.check.problem(
                        path,
                        _l(
                            "relevance may only use items of earlier pages; %(name)s is on this or "
                            "a later page",
                            name=name,
                        ),
                    )
                elif kind == "constraint" and self.page_of[name] > page_index:
                    self.check.problem(path, _l("%(name)s is on a later page", name=name))
                else:
                    self.check_section(path, name, page_index)

    def check_section(self, path: PathT, name: str, page_index: int) -> None:
        """An item of an optional section may be named only inside it: switched off, the section
        is not asked, and a question outside it would depend on answers nobody gives."""
        section = self.section_of_page.get(self.page_of[name])
        if section is not None and section != self.section_of_page.get(page_index):
            self.check.problem(
                path,
                _l(
                    "%(name)s is in the optional section %(section)s: only that section's "
                    "questions may refer to it",
                    name=name,
                    section=section,
                ),
            )


QUESTIONNAIRE_KEYS = {
    "code",
    "group",
    "access",
    "title",
    "intro",
    "thanks",
    "scales",
    "lists",
    "sections",
    "site_item",
    "pages",
}
PAGE_KEYS = {"code", "title", "intro", "relevant", "section", "items"}


def build_questionnaire(
    data: Any,
    file: str = "<snapshot>",
    located: LocatedYaml | None = None,
    shared: tuple[dict, dict] = ({}, {}),
    expected_code: str | None = None,
) -> tuple[Questionnaire | None, list[Problem]]:
    check = _Checker(file, located)
    if located is not None:
        for path, line in located.duplicates:
            check.problems.append(Problem(file, line, format_key(path), _l("duplicate key")))
    data = check.mapping(
        data, (), QUESTIONNAIRE_KEYS, {"code", "group", "access", "title", "intro", "pages"}
    )
    if not data:
        return None, check.problems
    code = check.identifier(data.get("code"), ("code",))
    if code and expected_code and code != expected_code:
        check.problem(
            ("code",),
            _l(
                "the code %(code)s differs from the file name %(name)s",
                code=code,
                name=expected_code,
            ),
        )
    # any group a scoring scheme names (commune_leader, business...), stored in 16 characters
    group = check.identifier(data.get("group"), ("group",))
    if group is not None and len(group) > GROUP_LENGTH:
        check.problem(
            ("group",),
            _l("must be at most %(count)s characters long", count=GROUP_LENGTH),
        )
    if data.get("access") not in ACCESS:
        check.problem(("access",), _l("must be one of %(values)s", values=", ".join(ACCESS)))
    local_scales, local_lists = check_library(check, data, ())
    for kind, local, inherited in (
        ("scales", local_scales, shared[0]),
        ("lists", local_lists, shared[1]),
    ):
        for name in set(local) & set(inherited):
            check.problem((kind, name), _l("%(name)s is already defined in shared.yaml", name=name))
    builder = _QuestionnaireBuilder(
        check, {**shared[0], **local_scales}, {**shared[1], **local_lists}
    )
    sections = check_sections(check, data.get("sections", {}))
    pages = build_pages(check, builder, data.get("pages"), sections)
    builder.check_references()
    if not check.problems:
        for page in pages:
            if not page.questions:
                check.problem(("pages", page.index), _l("a page needs at least one question"))
    if check.problems:
        return None, check.problems
    pages = asked_pages(pages, sections)
    site_item = check_site_item(check, data.get("site_item"), pages, data["access"])
    if check.problems:
        return None, check.problems
    questionnaire = Questionnaire(
        code=code or "",
        group=data["group"],
        access=data["access"],
        title=check.label(data["title"], ("title",)),
        intro=check.label(data["intro"], ("intro",)),
        thanks=check.label(data["thanks"], ("thanks",)) if "thanks" in data else None,
        pages=pages,
        sections=sections,
        site_item=site_item,
        raw=snapshot(data, builder),
    )
    return questionnaire, check.problems


#: What a site link can answer for a respondent: one choice among listed options.
SITE_ITEM_TYPES = ("single", "dropdown")


def check_site_item(check: _Checker, value: Any, pages: list[Page], access: str) -> str | None:
    """`site_item`: the question a site link answers (the district of a one-stop shop), so
    respondents who come by such a link are not asked it. It must be asked of everyone (a
    single or dropdown question, no `relevant`, not in an optional section), in an open
    questionnaire."""
    if value is None:
        return None
    path = ("site_item",)
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        check.problem(path, _l("must be the code of a question"))
        return None
    if access != "open":
        check.problem(path, _l("only an open questionnaire has site links"))
        return None
    for page in pages:
        for item in page.items:
            if item.code != value:
                continue
            if item.type not in SITE_ITEM_TYPES:
                check.problem(
                    path,
                    _l(
                        "%(code)s must be a question of type %(types)s",
                        code=value,
                        types=", ".join(SITE_ITEM_TYPES),
                    ),
                )
            elif item.relevant is not None or page.relevant is not None or page.section:
                check.problem(
                    path,
                    _l("%(code)s must be asked of everyone (no relevant, no section)", code=value),
                )
            return value
    check.problem(path, _l("no question has the code %(code)s", code=value))
    return None


def check_sections(check: _Checker, value: Any) -> dict[str, bool]:
    """The optional sections, each switched on or off: ``{policy: {enabled: false}}``."""
    if not isinstance(value, dict):
        check.problem(("sections",), _l("must be a mapping of section codes to sections"))
        return {}
    sections: dict[str, bool] = {}
    for name, spec in value.items():
        path = ("sections", name)
        if check.identifier(name, path) is None:
            continue
        spec = check.mapping(spec, path, {"enabled"}, {"enabled"})
        if spec:
            sections[name] = check.boolean(spec.get("enabled"), (*path, "enabled"))
    return sections


def asked_pages(pages: list[Page], sections: dict[str, bool]) -> list[Page]:
    """The pages of a validated questionnaire without those of switched-off sections, numbered
    again in order (a stored version rebuilds the same numbering from its snapshot)."""
    kept = [page for page in pages if page.section is None or sections.get(page.section)]
    for number, page in enumerate(kept):
        page.index = number
        for item in page.items:
            item.page_index = number
            for row in item.rows:
                row.page_index = number
    return kept


def build_pages(
    check: _Checker, builder: _QuestionnaireBuilder, raw_pages: Any, sections: dict[str, bool]
) -> list[Page]:
    if not isinstance(raw_pages, list) or not raw_pages:
        check.problem(("pages",), _l("must be a non-empty list of pages"))
        return []
    pages: list[Page] = []
    page_codes: set[str] = set()
    for index, raw_page in enumerate(raw_pages):
        path: PathT = ("pages", index)
        raw_page = check.mapping(raw_page, path, PAGE_KEYS, {"code", "title", "items"})
        if not raw_page:
            continue
        page_code = check.identifier(raw_page.get("code"), (*path, "code"))
        if page_code in page_codes:
            check.problem((*path, "code"), _l("duplicate page code %(code)s", code=page_code))
        page_codes.add(page_code or "")
        page = Page(
            code=page_code or "",
            title=check.label(raw_page.get("title"), (*path, "title")),
            items=[],
            index=index,
            intro=check.label(raw_page["intro"], (*path, "intro")) if "intro" in raw_page else None,
        )
        if "section" in raw_page:
            page.section = check.identifier(raw_page["section"], (*path, "section"))
            if page.section is not None and page.section not in sections:
                known = ", ".join(sorted(sections)) or "-"
                check.problem(
                    (*path, "section"),
                    _l(
                        "unknown section %(name)s (sections: %(known)s)",
                        name=page.section,
                        known=known,
                    ),
                )
        builder.section_of_page[index] = page.section
        if "relevant" in raw_page:
            page.relevant = check.expression(raw_page["relevant"], (*path, "relevant"))
            if page.relevant:
                builder.expressions.append(
                    (page.relevant, (*path, "relevant"), index, "relevant", None)
                )
        raw_items = raw_page.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            check.problem((*path, "items"), _l("must be a non-empty list of items"))
            raw_items = []
        for i, raw_item in enumerate(raw_items):
            item = builder.item(raw_item, (*path, "items", i), index)
            if item is not None:
                page.items.append(item)
        pages.append(page)
    used = {page.section for page in pages}
    for name in sections:
        if name not in used:
            check.problem(
                ("sections", name), _l("no page belongs to the section %(name)s", name=name)
            )
    if pages and all(page.section is not None and not sections.get(page.section) for page in pages):
        check.problem(("sections",), _l("every page is in a switched-off section"))
    return pages


def snapshot(data: dict, builder: _QuestionnaireBuilder) -> dict:
    """The definition with shared scales and lists copied in, so a stored version stands alone."""
    raw = copy.deepcopy(data)
    used_scales = {name: opts for name, opts in builder.scales.items()}
    raw["scales"] = {
        name: {"options": [_option_raw(o) for o in opts]} for name, opts in used_scales.items()
    }
    raw["lists"] = {name: [_option_raw(o) for o in opts] for name, opts in builder.lists.items()}
    return raw


def _option_raw(option: Option) -> dict:
    raw: dict[str, Any] = {"value": option.value, "label": dict(option.label)}
    if option.missing:
        raw["missing"] = True
    if option.exclusive:
        raw["exclusive"] = True
    return raw


def load_shared(directory: Path) -> tuple[tuple[dict, dict], list[Problem]]:
    path = directory / SHARED_FILE
    if not path.exists():
        return ({}, {}), []
    check = _Checker(path.name, None)
    try:
        located = load_located(path.read_text(encoding="utf-8"))
    except YamlSyntaxError as exc:
        return ({}, {}), [
            Problem(
                path.name, exc.line, "(file)", _l("not valid YAML: %(error)s", error=exc.message)
            )
        ]
    except UnicodeDecodeError:
        return ({}, {}), [Problem(path.name, 1, "(file)", _l("the file is not UTF-8 text"))]
    check.located = located
    for dup_path, line in located.duplicates:
        check.problems.append(Problem(path.name, line, format_key(dup_path), _l("duplicate key")))
    data = check.mapping(located.data, (), {"scales", "lists"}, set())
    library = check_library(check, data, ()) if data else ({}, {})
    return library, check.problems


def load_file(path: Path, shared: tuple[dict, dict]) -> tuple[Questionnaire | None, list[Problem]]:
    try:
        located = load_located(path.read_text(encoding="utf-8"))
    except YamlSyntaxError as exc:
        return None, [
            Problem(
                path.name, exc.line, "(file)", _l("not valid YAML: %(error)s", error=exc.message)
            )
        ]
    except UnicodeDecodeError:
        return None, [Problem(path.name, 1, "(file)", _l("the file is not UTF-8 text"))]
    return build_questionnaire(located.data, path.name, located, shared, expected_code=path.stem)


def load_directory(directory: Path) -> tuple[list[Questionnaire], list[Problem]]:
    """Every questionnaire of a folder, or every problem of every file in it."""
    directory = Path(directory)
    if not directory.is_dir():
        return [], [Problem(str(directory), 0, "(folder)", _l("no such folder"))]
    shared, problems = load_shared(directory)
    questionnaires: list[Questionnaire] = []
    for path in sorted(directory.glob("*.yaml")):
        if path.name == SHARED_FILE:
            continue
        questionnaire, file_problems = load_file(path, shared)
        problems.extend(file_problems)
        if questionnaire is not None:
            questionnaires.append(questionnaire)
    if not questionnaires and not problems:
        problems.append(Problem(str(directory), 0, "(folder)", _l("no questionnaire files")))
    return questionnaires, problems


def from_snapshot(raw: dict) -> Questionnaire:
    """Rebuild a stored version (already validated when it was loaded)."""
    library = ({}, {})
    check = _Checker("<snapshot>", None)
    library = check_library(check, raw, ())
    data = {k: v for k, v in raw.items() if k not in ("scales", "lists")}
    questionnaire, problems = build_questionnaire(data, shared=library)
    if questionnaire is None:
        raise QuestionnaireInvalid(problems)
    questionnaire.raw = raw
    return questionnaire
