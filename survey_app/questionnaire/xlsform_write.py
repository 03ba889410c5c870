"""One of our questionnaires written as an XLSForm (.xlsx with survey, choices and settings
sheets) that pyxform converts and KoboToolbox or ODK Collect open: a group per page (field-list),
a list per distinct set of options, labels and hints in every language (`label::Tiếng Việt (vi)`),
relevance and constraints through `xpath`.

What XLSForm has no place for is left out: `missing` and `profile` marks, the `thanks` text and
the length limit of text answers; an exclusive option becomes a constraint, integer bounds a
constraint, a grid a group of single-choice questions.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from flask_babel import force_locale
from flask_babel import gettext as _

from analysis.languages import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES

from .definition import Item, Option, Questionnaire
from .xpath import to_xpath


def language_column(base: str, lang: str) -> str:
    """`label::Tiếng Việt (vi)`: the way KoboToolbox and ODK name a language's column."""
    return f"{base}::{LANGUAGE_NAMES[lang]} ({lang})"


def _texts(base: str, label: dict | None) -> dict[str, str]:
    if not label:
        return {}
    return {language_column(base, lang): label[lang] for lang in LANGUAGES if label.get(lang)}


def _in_every_language(message) -> dict[str, str]:
    out = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            out[lang] = str(message())
    return out


class _Sheets:
    def __init__(self) -> None:
        self.survey: list[dict[str, Any]] = []
        self.choices: list[dict[str, Any]] = []
        self.lists: dict[tuple, str] = {}
        self.names: set[str] = set()

    def unique(self, wanted: str) -> str:
        name, number = wanted, 2
        while name in self.names:
            name, number = f"{wanted}_{number}", number + 1
        self.names.add(name)
        return name

    def choice_list(self, wanted: str, options: list[Option]) -> str:
        key = tuple((o.key, tuple(sorted(o.label.items()))) for o in options)
        if key not in self.lists:
            name = wanted
            taken = set(self.lists.values())
            number = 2
            while name in taken:
                name, number = f"{wanted}_{number}", number + 1
            self.lists[key] = name
            for option in options:
                self.choices.append(
                    {"list_name": name, "name": option.key, **_texts("label", option.label)}
                )
        return self.lists[key]

    def item(self, item: Item) -> None:
        row: dict[str, Any] = {"name": item.code, **_texts("label", item.label)}
        row.update(_texts("hint", item.hint))
        if item.required:
            row["required"] = "yes"
        if item.relevant is not None:
            row["relevant"] = to_xpath(item.relevant)
        constraints = [to_xpath(item.constraint)] if item.constraint is not None else []
        message = item.constraint_message
        if item.type in ("single", "dropdown"):
            row["type"] = f"select_one {self.choice_list(item.code, item.options)}"
            if item.type == "dropdown":
                row["appearance"] = "minimal"
        elif item.type == "multiple":
            row["type"] = f"select_multiple {self.choice_list(item.code, item.options)}"
            for option in item.options:
                if option.exclusive:
                    value = option.key
                    constraints.append(f"not(selected(., '{value}') and count-selected(.) > 1)")
                    message = message or _in_every_language(
                        lambda v=option: _(
                            "%(option)s cannot be chosen with another answer.",
                            option=v.label.get(DEFAULT_LANGUAGE, v.key),
                        )
                    )
        elif item.type == "integer":
            row["type"] = "integer"
            if item.min is not None:
                constraints.append(f". >= {item.min}")
            if item.max is not None:
                constraints.append(f". <= {item.max}")
            if (item.min is not None or item.max is not None) and message is None:
                message = _in_every_language(
                    lambda: _(
                        "Enter a whole number from %(min)s to %(max)s.",
                        min="" if item.min is None else item.min,
                        max="" if item.max is None else item.max,
                    )
                )
        elif item.type in ("text", "longtext"):
            row["type"] = "text"
            if item.type == "longtext":
                row["appearance"] = "multiline"
        else:
            row["type"] = "note"
        if constraints:
            row["constraint"] = " and ".join(
                f"({c})" if len(constraints) > 1 else c for c in constraints
            )
            row.update(_texts("constraint_message", message))
        self.names.add(item.code)
        self.survey.append(row)


def xlsform_sheets(questionnaire: Questionnaire) -> dict[str, list[dict[str, Any]]]:
    """The rows of the survey, choices and settings sheets."""
    sheets = _Sheets()
    sheets.names.update(q.code for q in questionnaire.questions)
    sheets.names.update(i.code for p in questionnaire.pages for i in p.items)
    sheets.survey.append(
        {"type": "note", "name": sheets.unique("intro"), **_texts("label", questionnaire.intro)}
    )
    for page in questionnaire.pages:
        group: dict[str, Any] = {
            "type": "begin_group",
            "name": sheets.unique(page.code),
            "appearance": "field-list",
            **_texts("label", page.title),
        }
        if page.relevant is not None:
            group["relevant"] = to_xpath(page.relevant)
        sheets.survey.append(group)
        if page.intro:
            name = sheets.unique(f"{page.code}_intro")
            sheets.survey.append({"type": "note", "name": name, **_texts("label", page.intro)})
        for item in page.items:
            if item.type != "grid":
                sheets.item(item)
                continue
            grid: dict[str, Any] = {
                "type": "begin_group",
                "name": sheets.unique(item.code),
                "appearance": "field-list",
                **_texts("label", item.label),
            }
            if item.relevant is not None:
                grid["relevant"] = to_xpath(item.relevant)
            sheets.survey.append(grid)
            for row in item.rows:
                sheets.item(row)
            sheets.survey.append({"type": "end_group"})
        sheets.survey.append({"type": "end_group"})
    settings = {
        "form_title": questionnaire.title.get(DEFAULT_LANGUAGE, questionnaire.code),
        "form_id": questionnaire.code,
        "default_language": f"{LANGUAGE_NAMES[DEFAULT_LANGUAGE]} ({DEFAULT_LANGUAGE})",
    }
    return {"survey": sheets.survey, "choices": sheets.choices, "settings": [settings]}


def survey_columns() -> list[str]:
    texts = [language_column(base, lang) for base in ("label", "hint") for lang in LANGUAGES]
    messages = [language_column("constraint_message", lang) for lang in LANGUAGES]
    return ["type", "name", *texts, "required", "relevant", "constraint", *messages, "appearance"]


def write_xlsform(questionnaire: Questionnaire, target: BinaryIO) -> None:
    """The XLSForm workbook of `questionnaire`, written to `target` (a binary file)."""
    import pandas as pd

    from analysis.export import write_xlsx

    sheets = xlsform_sheets(questionnaire)
    columns = {
        "survey": survey_columns(),
        "choices": ["list_name", "name", *[language_column("label", lang) for lang in LANGUAGES]],
        "settings": ["form_title", "form_id", "default_language"],
    }
    write_xlsx(
        target,
        {
            name: (columns[name], [pd.DataFrame(rows, columns=columns[name], dtype=object)])
            for name, rows in sheets.items()
        },
    )
