"""Problems found in a file a person gave us, each located so that they can find and fix it.

One type for every file: questionnaires and scoring schemes (file, line, key path), and tables
such as invitee lists, quota targets and appraisal files (file, row, column). Readers collect
every problem before giving up, so a file is corrected in one go, and refuse the file whole.
(Population targets still stop at their first problem, with the row in the message; last
year's index names every cell that is not a number, and stops at its first other problem.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    #: The file as the person knows it (its name, or the path they gave); None when implied.
    file: str | None = None
    #: The line of a text file, or the row of a table (its header being row 1); None or 0 for the
    #: file as a whole.
    line: int | None = None
    #: Where on the line: a key path in a YAML file ("pages[2].items"), or a column.
    key: str | None = None
    #: What is wrong, in words (a lazy translated string in the web app).
    message: Any = ""

    @classmethod
    def at_row(cls, row: int | None, message: Any, column: str | None = None) -> Problem:
        """A problem in a table's row (the header being row 1); row None or 0: the whole file."""
        return cls(None, row or None, column, message)

    @property
    def row(self) -> int | None:
        """The row of a table (the same number as `line`), None for the file as a whole."""
        return self.line or None

    def located(self, file: str) -> Problem:
        """The same problem, in the named file (a command names the file it was given)."""
        return Problem(file, self.line, self.key, self.message)

    def __str__(self) -> str:
        where = [str(part) for part in (self.file, self.line) if part not in (None, "")]
        prefix = ":".join(where)
        parts = [p for p in (prefix, self.key) if p]
        return ": ".join([*parts, str(self.message)])


class FileInvalid(ValueError):
    """A file refused whole; `problems` lists every problem found, the message joins them."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


KeyPath = tuple[str | int, ...]


def format_key(path: KeyPath) -> str:
    """A key path as people write it: `pages[2].items[0].code`; `(file)` for the whole file."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"
