"""A Flask-WTF form per questionnaire page: CSRF and validation of every answer it holds.

The inputs are rendered by Jinja macros (templates/respond/_items.html), not by WTForms widgets,
which cost most of a page's render time.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import Field

from ..questionnaire.definition import Item, Page, Questionnaire
from .services import question_is_relevant

INTEGER = re.compile(r"^[+-]?\d{1,9}$")
#: Control characters other than tab and newlines never belong in an answer.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class AnswerField(Field):
    """One value from the form, or None; trims white space."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw_data = valuelist
        value = valuelist[0].strip() if valuelist else ""
        self.data = value or None

    def _value(self) -> str:
        return self.data or ""


class AnswersField(Field):
    """Every value chosen in a group of check boxes."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw_data = valuelist
        self.data = [v for v in valuelist if v]


class PageForm(FlaskForm):
    """Fields are added per page by `form_class`; `validate` checks them against the page."""

    page: Page
    questionnaire: Questionnaire

    def __init__(self, *args: Any, values: dict | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: What relevance and constraints see from earlier pages.
        self.earlier_values = values or {}

    def answers(self) -> dict[str, Any]:
        return {q.code: self[q.code].data for q in self.page.questions}

    def validate(self, extra_validators=None, require: bool = True) -> bool:
        super().validate(extra_validators)
        values = dict(self.earlier_values)
        for question in self.page.questions:
            data = self[question.code].data
            if data not in (None, []):
                option = question.option(data) if isinstance(data, str) else None
                if option is None or not option.missing:
                    values[question.code] = data
        for question in self.page.questions:
            field = self[question.code]
            if not question_is_relevant(question, self.earlier_values):
                field.data = None
                continue
            message = check_answer(question, field.data, values, require)
            if message:
                field.errors = [*field.errors, message]
                field.data = None if not require else field.data
        return not any(self[q.code].errors for q in self.page.questions) and not (
            self.csrf_token.errors if hasattr(self, "csrf_token") else False
        )

    def drop_invalid(self) -> None:
        """Going back keeps what is valid and forgets the rest, so it never blocks."""
        for question in self.page.questions:
            field = self[question.code]
            if field.errors:
                field.data = None
                field.errors = []


def check_answer(question: Item, data: Any, values: dict, require: bool) -> str | None:
    """The translated error for one answer, or None when it is acceptable."""
    if data in (None, []):
        if require and question.required:
            if question.type in ("single", "multiple", "dropdown"):
                return _("Please choose an answer.")
            return _("Please answer this question.")
        return None
    if question.type in ("single", "dropdown"):
        if question.option(data) is None:
            return _("Please choose one of the answers listed.")
    elif question.type == "multiple":
        keys = {option.key for option in question.options}
        if len(set(data)) != len(data) or any(value not in keys for value in data):
            return _("Please choose among the answers listed.")
        exclusive = [o.key for o in question.options if o.exclusive]
        if exclusive and exclusive[0] in data and len(data) > 1:
            label = question.option(exclusive[0]).label
            return _(
                "“%(option)s” cannot be chosen together with other answers.",
                option=label_text(label),
            )
    elif question.type == "integer":
        if not INTEGER.match(data):
            return _("Please enter a whole number, using digits only.")
        number = int(data)
        if question.min is not None and number < question.min:
            return _("Please enter a number of at least %(min)s.", min=format_decimal(question.min))
        if question.max is not None and number > question.max:
            return _("Please enter a number of at most %(max)s.", max=format_decimal(question.max))
    elif question.type in ("text", "longtext"):
        if CONTROL.search(data):
            return _("The answer contains characters that cannot be stored.")
        if len(data) > (question.max_length or 0):
            return _(
                "Please shorten your answer to at most %(max)s characters (it has %(length)s).",
                max=format_decimal(question.max_length),
                length=format_decimal(len(data)),
            )
    if question.constraint is not None:
        current = values.get(question.code)
        if not question.constraint.evaluate(values, current):
            if question.constraint_message:
                return label_text(question.constraint_message)
            return _("This answer is not accepted.")
    return None


def label_text(label: dict[str, str]) -> str:
    from flask_babel import get_locale

    return label.get(str(get_locale()), next(iter(label.values())))


_classes: dict[tuple, type[PageForm]] = {}
_classes_lock = threading.Lock()


def form_class(cache_key: tuple, questionnaire: Questionnaire, page: Page) -> type[PageForm]:
    """One form class per stored page, built once per process."""
    found = _classes.get(cache_key)
    if found is not None:
        return found
    attributes: dict[str, Any] = {"page": page, "questionnaire": questionnaire}
    for question in page.questions:
        attributes[question.code] = AnswersField() if question.type == "multiple" else AnswerField()
    cls = type(f"Page_{page.code}", (PageForm,), attributes)
    with _classes_lock:
        _classes[cache_key] = cls
    return cls
