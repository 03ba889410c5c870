"""Questionnaire files read as plain data: shared scales resolved, export variables listed.

Only what scoring and exports need: the export column of every question, its label and its
options. The full format and its validation belong to the web application
(questionnaires/README.md).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analysis.messages import _

SHARED = "shared.yaml"


class QuestionnaireError(ValueError):
    """A questionnaire that cannot be read; the message names the file."""


@dataclass
class Variable:
    """One export column of a questionnaire."""

    name: str
    #: the item the column comes from (the grid for a grid row, the item for a multiple choice)
    item: str
    page: str
    type: str
    #: label per language: the item's question, a grid row's text, a multiple choice's option
    label: dict[str, str]
    #: answer options, each ``{"value", "label", "missing"}``; a multiple-choice column is 0/1
    #: with the option's label on 1
    options: list[dict[str, Any]] = field(default_factory=list)
    #: for a grid row or a multiple-choice option: the question of the grid or item
    question: dict[str, str] = field(default_factory=dict)

    @property
    def values(self) -> list[Any]:
        """The option values that carry a value (not "don't know")."""
        return [o["value"] for o in self.options if not o.get("missing")]


def read_questionnaire(folder: str | Path, code: str) -> dict[str, Any]:
    """The questionnaire ``code`` of ``folder`` as plain data with scales and lists resolved."""
    folder = Path(folder)
    path = folder / f"{code}.yaml"
    data = _read_yaml(path)
    shared_path = folder / SHARED
    shared = _read_yaml(shared_path) if shared_path.exists() else {}
    return resolve(data, shared)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuestionnaireError(
            _("%(path)s: no such questionnaire file", path=str(path))
        ) from None
    except yaml.YAMLError as exc:
        raise QuestionnaireError(
            _(
                "%(path)s: not valid YAML (%(error)s)",
                path=str(path),
                error=str(exc).splitlines()[0],
            )
        ) from None
    if not isinstance(data, dict):
        raise QuestionnaireError(
            _("%(path)s: a questionnaire file must be a mapping", path=str(path))
        )
    return data


def resolve(definition: dict[str, Any], shared: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of ``definition`` where every ``scale:`` and ``list:`` is replaced by ``options``."""
    shared = shared or {}
    scales = {**(shared.get("scales") or {}), **(definition.get("scales") or {})}
    lists = {**(shared.get("lists") or {}), **(definition.get("lists") or {})}
    out = copy.deepcopy(definition)
    for page in out.get("pages") or []:
        for item in page.get("items") or []:
            if "options" in item:
                continue
            if item.get("scale") is not None:
                scale = scales.get(item["scale"])
                if scale is None:
                    raise QuestionnaireError(
                        _(
                            "questionnaire %(code)s: item %(item)s names the scale %(scale)s, "
                            "which no file defines",
                            code=str(out.get("code")),
                            item=str(item.get("code")),
                            scale=repr(item["scale"]),
                        )
                    )
                item["options"] = copy.deepcopy(scale["options"])
            elif item.get("list") is not None:
                options = lists.get(item["list"])
                if options is None:
                    raise QuestionnaireError(
                        _(
                            "questionnaire %(code)s: item %(item)s names the list %(list)s, "
                            "which no file defines",
                            code=str(out.get("code")),
                            item=str(item.get("code")),
                            list=repr(item["list"]),
                        )
                    )
                item["options"] = copy.deepcopy(options)
    return out


#: Joins a multiple choice's code and an option's value into that option's 0/1 column, so
#: question and option codes may not contain it (the questionnaire check refuses them).
OPTION_SEPARATOR = "__"


def option_column(item_code: str, value: object) -> str:
    """The export column of one option of a multiple choice: ``services__health``. The one rule
    for the app's exports and the analysis, so both name the same columns."""
    return f"{item_code}{OPTION_SEPARATOR}{value}"


def asked_pages(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The pages that are asked: all but those of an optional section switched off
    (``sections: {policy: {enabled: false}}``, questionnaires/README.md)."""
    sections = definition.get("sections") or {}
    return [
        page
        for page in definition.get("pages") or []
        if page.get("section") is None or (sections.get(page["section"]) or {}).get("enabled")
    ]


def variables(definition: dict[str, Any]) -> list[Variable]:
    """Every export column of a resolved questionnaire, in page order (notes have none); the pages
    of a switched-off section have none."""
    out: list[Variable] = []
    for page in asked_pages(definition):
        for item in page.get("items") or []:
            kind = item.get("type")
            label = item.get("label") or {}
            options = item.get("options") or []
            if kind == "note":
                continue
            if kind == "grid":
                for row in item.get("rows") or []:
                    text = row.get("label") or {}
                    out.append(
                        Variable(
                            row["code"], item["code"], page["code"], kind, text, options, label
                        )
                    )
            elif kind == "multiple":
                for option in options:
                    name = option_column(item["code"], option["value"])
                    text = option.get("label") or {}
                    # 1 = chosen, labelled with the option; 0 = not chosen, left unlabelled
                    chosen = [{"value": 1, "label": text}]
                    out.append(
                        Variable(name, item["code"], page["code"], kind, text, chosen, label)
                    )
            else:
                out.append(Variable(item["code"], item["code"], page["code"], kind, label, options))
    return out
