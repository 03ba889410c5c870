"""Sentences for people that each caller says in its reader's language.

`analysis` imports no Flask and no catalog, yet its messages (a refused targets file, a run that
cannot weight) are read on Vietnamese pages. So a message is made with `_()`, the marker pybabel
extracts (babel.cfg reads `analysis/` too): it reads as English (`str()`, the command lines and
the logs), and keeps its English template and parameters, which the web app translates with its
catalog when it shows them (`survey_app.i18n.say`). A run stores them as JSON (`as_json`), so a
failure is told in the language of whoever opens it later.

Templates use only ``%(name)s``; a parameter is a string, a number (formatted for the reader's
locale by the web app), or a message itself (translated in turn). A sentence that depends on a
count is made with `ngettext` (extracted as a plural message): English takes the singular for 1,
the web app the form its catalog gives for the count.
"""

from __future__ import annotations

from typing import Any

from analysis.problems import Problem


def number_text(value: float) -> str:
    """A number in an English sentence: 1300000, 0.3, 1.5e-12 (no trailing zeros); a whole
    count grouped: 20,000,000."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:.10g}"


class Message(str):
    """An English sentence that remembers its template and parameters (and, for a sentence
    that depends on a count, its plural template; the count is the parameter ``num``)."""

    template: str
    params: dict[str, Any]
    plural: str | None

    def __new__(cls, template: str, /, plural: str | None = None, **params: Any) -> Message:
        shown = {
            k: str(v) if isinstance(v, bool) or not isinstance(v, int | float) else number_text(v)
            for k, v in params.items()
        }
        english = template if plural is None or params["num"] == 1 else plural
        self = super().__new__(cls, english % shown if params else english)
        self.template, self.params, self.plural = template, params, plural
        return self

    def __reduce__(self):  # pickled (a worker's exception) as the message it is
        return (_rebuild, (self.template, self.params, self.plural))

    def as_json(self) -> dict[str, Any]:
        data = {
            "template": self.template,
            "params": {k: to_json(v) for k, v in self.params.items()},
        }
        if self.plural is not None:
            data["plural"] = self.plural
        return data


def _rebuild(template: str, params: dict[str, Any], plural: str | None = None) -> Message:
    return Message(template, plural, **params)


def _(template: str, /, **params: Any) -> Message:
    """A message to be said in the reader's language (see the module's docstring)."""
    return Message(template, **params)


def ngettext(singular: str, plural: str, num: int, /, **params: Any) -> Message:
    """A message whose words depend on the count `num` (a parameter too, as in Flask-Babel's
    ``ngettext``): said with the singular or the plural the reader's language uses for it."""
    return Message(singular, plural, num=num, **params)


def to_json(value: Any) -> Any:
    """A message, a located problem or plain text as JSON, to be stored and said later."""
    if isinstance(value, Message):
        return value.as_json()
    if isinstance(value, Problem):
        return {
            "file": value.file,
            "line": value.line,
            "key": value.key,
            "message": to_json(value.message),
        }
    if isinstance(value, bool | int | float) or value is None:
        return value
    return str(value)


def from_json(data: Any) -> Any:
    """The message, problem or text `to_json` stored."""
    if isinstance(data, dict) and "template" in data:
        params = {k: from_json(v) for k, v in (data.get("params") or {}).items()}
        return Message(data["template"], data.get("plural"), **params)
    if isinstance(data, dict) and "message" in data:
        return Problem(
            data.get("file"), data.get("line"), data.get("key"), from_json(data["message"])
        )
    return data


def reasons(exc: BaseException) -> list[Any]:
    """What an error says, as messages and problems: a refused file's every problem, else its
    message (plain text when it was raised without one, e.g. by a library)."""
    problems = getattr(exc, "problems", None)
    if problems:
        return list(problems)
    if exc.args and isinstance(exc.args[0], Message):
        return [exc.args[0]]
    return [str(exc)]
