"""What the statisticians' pages call things: names in the reader's language, not codes.

Questionnaires by their titles, weighting methods by what they do, a margin's variable and level
by the question's and the option's labels (``sex male`` is "Giới tính: Nam"), blocks by the
scheme's names. Each falls back to the code when there is no name (a question renamed since, a
level the questionnaire does not list).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from analysis.languages import in_language
from analysis.targets import CROSS

from ..questionnaire.store import definition, latest_version

if TYPE_CHECKING:
    from ..questionnaire.definition import Questionnaire

#: The weighting methods of `analysis.choices.METHODS`, by what they do.
METHOD_NAMES = {
    "poststratify": _l("Post-stratification"),
    "rake": _l("Raking (iterative proportional fitting)"),
    "linear": _l("Linear calibration"),
    "raking": _l("Calibration with the raking distance"),
    "logit": _l("Logit calibration (bounded)"),
}


def method_name(method: str | None) -> str:
    if not method:
        return str(_l("none"))
    return str(METHOD_NAMES.get(method, method))


def questionnaires(session: Session, codes) -> dict[str, Questionnaire]:
    """The newest version of each questionnaire named (those never loaded are left out)."""
    found = {}
    for code in sorted(set(codes)):
        version = latest_version(session, code)
        if version is not None:
            found[code] = definition(version)
    return found


def titles(session: Session, codes) -> dict[str, dict[str, str]]:
    """Each questionnaire's title per language."""
    return {code: dict(q.title) for code, q in questionnaires(session, codes).items()}


def title(titles_by_code: dict[str, Any], code: str, lang: str) -> str:
    return in_language(titles_by_code.get(code), lang, code)


def margin_labels(
    questionnaire: Questionnaire | None, variable: str, level: str, lang: str
) -> tuple[str, str]:
    """A margin's variable and level as the questionnaire words them; a crossed one
    (``sex:district``, ``female:Ky Anh``) part by part, joined with ×."""
    variables = variable.split(CROSS)
    levels = level.split(CROSS)
    if len(levels) != len(variables):
        levels = [level] + [""] * (len(variables) - 1)
    names, values = [], []
    for code, key in zip(variables, levels, strict=True):
        item = questionnaire.by_code.get(code) if questionnaire is not None else None
        names.append(in_language(item.label, lang, code) if item is not None else code)
        option = item.option(key) if item is not None else None
        values.append(in_language(option.label, lang, key) if option is not None else key)
    return " × ".join(names), " × ".join(values)


def option_names(questionnaire: Questionnaire | None, question: str | None, lang: str):
    """The options of a question (e.g. the districts of `district`) by code, named."""
    item = questionnaire.by_code.get(question) if questionnaire and question else None
    if item is None:
        return {}
    return {option.key: in_language(option.label, lang, option.key) for option in item.options}
