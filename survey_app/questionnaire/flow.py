"""Answers as a questionnaire's rules see them: how they are stored (encode, decode), what the
expressions see ("don't know" is missing), which questions and pages are relevant, and the order
of the relevant pages. Used by the respondent's pages and by the demo data alike."""

from __future__ import annotations

from typing import Any

from .definition import Item, Page, Questionnaire


def encode(item: Item, value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if item.type == "multiple":
        return " ".join(value)
    return str(value)


def decode(item: Item | None, stored: str) -> Any:
    if item is not None and item.type == "multiple":
        return stored.split(" ")
    return stored


def decode_all(questionnaire: Questionnaire, stored: dict[str, str]) -> dict:
    return {code: decode(questionnaire.by_code.get(code), value) for code, value in stored.items()}


def expression_values(questionnaire: Questionnaire, answers: dict) -> dict:
    """Answers as expressions see them: an answer coded as missing ("don't know") is missing."""
    values = {}
    for code, value in answers.items():
        item = questionnaire.by_code.get(code)
        if item is not None and item.type in ("single", "dropdown"):
            option = item.option(value)
            if option is not None and option.missing:
                continue
        values[code] = value
    return values


def page_is_relevant(page: Page, values: dict) -> bool:
    return page.relevant is None or page.relevant.evaluate(values)


def question_is_relevant(item: Item, values: dict) -> bool:
    owner = item.grid or item
    return owner.relevant is None or owner.relevant.evaluate(values)


def next_page(questionnaire: Questionnaire, values: dict, after: int) -> int | None:
    for page in questionnaire.pages[after + 1 :]:
        if page_is_relevant(page, values):
            return page.index
    return None


def previous_page(questionnaire: Questionnaire, values: dict, before: int) -> int | None:
    for page in reversed(questionnaire.pages[:before]):
        if page_is_relevant(page, values):
            return page.index
    return None
