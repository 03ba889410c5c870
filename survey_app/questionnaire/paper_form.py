"""A questionnaire laid out for paper: every question numbered, its options with their codes,
and the routing (relevance rules) written out in words in the reader's language, "answer only
if ..." on a question or part that is asked only sometimes, and "if ..., go on to ...;
otherwise go to ..." on the question that decides it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _

from analysis.languages import in_language

from .definition import Item, Page, Questionnaire
from .expressions import Expression, Node

_COMPARISONS = {
    "=": lambda q, v: _("the answer to %(question)s is %(value)s", question=q, value=v),
    "!=": lambda q, v: _("the answer to %(question)s is not %(value)s", question=q, value=v),
    "<": lambda q, v: _("the answer to %(question)s is less than %(value)s", question=q, value=v),
    "<=": lambda q, v: _("the answer to %(question)s is at most %(value)s", question=q, value=v),
    ">": lambda q, v: _("the answer to %(question)s is more than %(value)s", question=q, value=v),
    ">=": lambda q, v: _("the answer to %(question)s is at least %(value)s", question=q, value=v),
}


@dataclass
class PaperItem:
    item: Item
    #: "12" for a question, None for a note or a grid (its rows carry the numbers).
    number: str | None
    #: "Answer only if ..." when the item is asked only sometimes.
    only_if: str | None = None
    #: "If ..., go on to ...; otherwise go to ..." for the parts this question decides.
    go_to: list[str] = field(default_factory=list)
    rows: list[PaperItem] = field(default_factory=list)


@dataclass
class PaperPage:
    page: Page
    only_if: str | None
    items: list[PaperItem]


@dataclass
class PaperForm:
    questionnaire: Questionnaire
    pages: list[PaperPage]


class _Words:
    """Expressions said in words, questions named by their number on the form and code."""

    def __init__(self, questionnaire: Questionnaire, numbers: dict[str, str], lang: str):
        self.questionnaire = questionnaire
        self.numbers = numbers
        self.lang = lang

    def question(self, code: str) -> str:
        number = self.numbers.get(code)
        if number is None:
            return code
        return _("question %(number)s (%(code)s)", number=number, code=code)

    def value(self, code: str | None, value: Any) -> str:
        item = self.questionnaire.by_code.get(code) if code else None
        option = item.option(str(value)) if item is not None else None
        if option is not None:
            return _(
                "“%(label)s” (%(code)s)",
                label=in_language(option.label, self.lang),
                code=option.key,
            )
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return format_decimal(value)
        return f"“{value}”"

    def say(self, expression: Expression) -> str:
        return self._node(expression.tree, top=True)

    def _node(self, node: Node, top: bool = False) -> str:
        op = node.op
        if op in ("and", "or"):
            parts = [self._node(arg) for arg in node.args]
            joined = (
                _("%(left)s and %(right)s", left=parts[0], right=parts[1])
                if op == "and"
                else _("%(left)s, or %(right)s", left=parts[0], right=parts[1])
            )
            return joined if top else f"({joined})"
        if op == "not":
            return _("not (%(condition)s)", condition=self._node(node.args[0], top=True))
        if op in _COMPARISONS and node.args[0].op == "item":
            code = node.args[0].args[0]
            right = node.args[1]
            if right.op == "value":
                return _COMPARISONS[op](self.question(code), self.value(code, right.args[0]))
        if op == "in" and node.args[0].op == "item":
            code = node.args[0].args[0]
            values = ", ".join(self.value(code, v) for v in node.args[1])
            return _(
                "the answer to %(question)s is one of %(values)s",
                question=self.question(code),
                values=values,
            )
        if op == "call":
            name, args = node.args
            if args and args[0].op == "item":
                code = args[0].args[0]
                if name == "selected" and len(args) == 2 and args[1].op == "value":
                    return _(
                        "%(value)s is chosen at %(question)s",
                        value=self.value(code, args[1].args[0]),
                        question=self.question(code),
                    )
                if name == "answered":
                    return _("%(question)s is answered", question=self.question(code))
        # Anything else is printed as written in the questionnaire file, named codes included.
        return _("%(rule)s holds", rule=_source(node))


def _source(node: Node) -> str:
    op = node.op
    if op == "value":
        value = node.args[0]
        return f"'{value}'" if isinstance(value, str) else str(value)
    if op == "item":
        return node.args[0]
    if op == "self":
        return "."
    if op == "neg":
        return f"-{_source(node.args[0])}"
    if op == "not":
        return f"not ({_source(node.args[0])})"
    if op == "in":
        values = ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in node.args[1])
        return f"{_source(node.args[0])} in ({values})"
    if op == "call":
        return f"{node.args[0]}({', '.join(_source(a) for a in node.args[1])})"
    return f"({_source(node.args[0])} {op} {_source(node.args[1])})"


def _numbers(questionnaire: Questionnaire) -> dict[str, str]:
    """Questions numbered 1, 2, ... in order; a grid's rows as 7a, 7b, ..."""
    numbers: dict[str, str] = {}
    count = 0
    for page in questionnaire.pages:
        for item in page.items:
            if item.type == "grid":
                count += 1
                numbers[item.code] = str(count)
                for i, row in enumerate(item.rows):
                    numbers[row.code] = f"{count}{_letter(i)}"
            elif item.is_question:
                count += 1
                numbers[item.code] = str(count)
    return numbers


def _letter(index: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[index] if index < len(letters) else f".{index + 1}"


def _first_number(page: Page | None, numbers: dict[str, str]) -> str | None:
    if page is None:
        return None
    for item in page.items:
        if item.code in numbers:
            return numbers[item.code]
    return None


def paper_form(questionnaire: Questionnaire, lang: str) -> PaperForm:
    numbers = _numbers(questionnaire)
    words = _Words(questionnaire, numbers, lang)
    go_to: dict[str, list[str]] = {}
    pages = questionnaire.pages
    for position, page in enumerate(pages):
        if page.relevant is None:
            continue
        rule_text = page.relevant.source
        before = pages[position - 1] if position else None
        if (
            before is not None
            and before.relevant is not None
            and before.relevant.source == rule_text
        ):
            continue  # a run of parts under one rule is routed once, from its first part
        following = next(
            (
                p
                for p in pages[position + 1 :]
                if p.relevant is None or p.relevant.source != rule_text
            ),
            None,
        )
        part = in_language(page.title, lang)
        start = _first_number(page, numbers)
        otherwise = (
            _(
                "go to part “%(part)s” (question %(number)s)",
                part=in_language(following.title, lang),
                number=_first_number(following, numbers) or "—",
            )
            if following is not None
            else _("the questionnaire ends")
        )
        rule = _(
            "If %(condition)s, go on to part “%(part)s” (question %(number)s); otherwise "
            "%(otherwise)s.",
            condition=words.say(page.relevant),
            part=part,
            number=start or "—",
            otherwise=otherwise,
        )
        for code, _column in page.relevant.names:
            target = go_to.setdefault(code, [])
            if rule not in target:
                target.append(rule)
    laid_out = []
    for page in pages:
        only_if = (
            _("Answer this part only if %(condition)s.", condition=words.say(page.relevant))
            if page.relevant is not None
            else None
        )
        items = []
        for item in page.items:
            shown = PaperItem(item, numbers.get(item.code), go_to=go_to.get(item.code, []))
            if item.relevant is not None:
                shown.only_if = _(
                    "Answer only if %(condition)s.", condition=words.say(item.relevant)
                )
            shown.rows = [
                PaperItem(row, numbers.get(row.code), go_to=go_to.get(row.code, []))
                for row in item.rows
            ]
            items.append(shown)
        laid_out.append(PaperPage(page, only_if, items))
    return PaperForm(questionnaire, laid_out)
