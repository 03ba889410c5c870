"""A Flask-WTF form per questionnaire page: CSRF and validation of every answer it holds.

The inputs are rendered by Jinja macros (templates/respond/_items.html), not by WTForms widgets,
which cost most of a page's render time.
"""

from __future__ import annotations

import re
from typing import Any

from flask import request
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from ..questionnaire.definition import Item, Page
from ..questionnaire.flow import question_is_relevant

INTEGER = re.compile(r"^[+-]?\d{1,9}$")
#: Control characters other than tab and newlines never belong in an answer.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class PageForm(FlaskForm):
    """The form of one questionnaire page: Flask-WTF's CSRF check, then every answer validated
    against the page (type, choices, bounds, required, relevance, constraints).

    Answers are read straight from the request rather than through one WTForms field per
    question: a page of thirty questions would build thirty field objects per request for no
    gain, and the inputs are rendered by Jinja macros anyway.
    """

    def __init__(
        self,
        page: Page,
        values: dict | None = None,
        fixed: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.page = page
        #: What relevance and constraints see from earlier pages.
        self.earlier_values = values or {}
        self.answer_errors: dict[str, str] = {}
        form = request.form
        self.data_by_code: dict[str, Any] = {}
        for question in page.questions:
            if question.type == "multiple":
                self.data_by_code[question.code] = [v for v in form.getlist(question.code) if v]
            else:
                # Browsers send line breaks as CRLF; answers keep plain newlines.
                value = form.get(question.code, "").replace("\r\n", "\n").strip()
                self.data_by_code[question.code] = value or None
        # Answered by the link the respondent came by (the site), whatever the request says.
        for code, value in (fixed or {}).items():
            if code in self.data_by_code:
                self.data_by_code[code] = value

    def answers(self) -> dict[str, Any]:
        return dict(self.data_by_code)

    @property
    def csrf_failed(self) -> bool:
        return bool(self.csrf_token.errors)

    def validate(self, extra_validators=None, require: bool = True) -> bool:
        super().validate(extra_validators)
        values = dict(self.earlier_values)
        for question in self.page.questions:
            data = self.data_by_code[question.code]
            if data not in (None, []):
                option = question.option(data) if isinstance(data, str) else None
                if option is None or not option.missing:
                    values[question.code] = data
        for question in self.page.questions:
            if not question_is_relevant(question, self.earlier_values):
                self.data_by_code[question.code] = None
                continue
            message = check_answer(question, self.data_by_code[question.code], values, require)
            if message:
                self.answer_errors[question.code] = message
        return not self.answer_errors and not self.csrf_failed

    def drop_invalid(self) -> None:
        """Going back keeps what is valid and forgets the rest, so it never blocks."""
        for code in self.answer_errors:
            self.data_by_code[code] = None
        self.answer_errors = {}


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
