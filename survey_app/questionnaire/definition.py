"""A validated questionnaire: pages, items and the leaf questions whose answers are stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .expressions import Expression

#: Item types that hold an answer of their own (a grid holds one per row, a note none).
ANSWER_TYPES = ("single", "multiple", "integer", "text", "longtext", "dropdown")
ITEM_TYPES = (*ANSWER_TYPES, "grid", "note")
#: A respondent group is any identifier (citizen, leader, delegate, commune_leader, ...), which
#: scoring schemes name; the database keeps 16 characters of it.
GROUP_LENGTH = 16
ACCESS = ("open", "invitation")

Label = dict[str, str]


@dataclass(frozen=True)
class Option:
    value: int | str
    label: Label
    missing: bool = False
    exclusive: bool = False

    @property
    def key(self) -> str:
        """The option's value as it travels in forms and is stored."""
        return str(self.value)


@dataclass
class Item:
    code: str
    type: str
    label: Label
    hint: Label | None = None
    required: bool = False
    relevant: Expression | None = None
    options: list[Option] = field(default_factory=list)
    rows: list[Item] = field(default_factory=list)
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    constraint: Expression | None = None
    constraint_message: Label | None = None
    profile: bool = False
    page_index: int = 0
    #: For a grid row: the grid it belongs to (its relevance and hint apply).
    grid: Item | None = field(default=None, repr=False)

    @property
    def is_question(self) -> bool:
        return self.type in ANSWER_TYPES

    def option(self, key: str) -> Option | None:
        # A dict, not a scan: exports and demo data look one up for every stored answer. Built
        # again if the list is replaced (validation assigns it after making the item); the first
        # of two options with one key wins, as a scan would.
        index = self.__dict__.get("_option_index")
        if index is None or index[0] is not self.options:
            found: dict[str, Option] = {}
            for option in self.options:
                found.setdefault(option.key, option)
            index = self.__dict__["_option_index"] = (self.options, found)
        return index[1].get(key) if isinstance(key, str) else None


@dataclass
class Page:
    code: str
    title: Label
    items: list[Item]
    index: int
    intro: Label | None = None
    relevant: Expression | None = None
    #: The optional section the page belongs to (`sections:` of the file), or None.
    section: str | None = None

    @property
    def questions(self) -> list[Item]:
        """The leaf questions of the page, grid rows in place of their grid."""
        found: list[Item] = []
        for item in self.items:
            if item.type == "grid":
                found.extend(item.rows)
            elif item.is_question:
                found.append(item)
        return found


@dataclass
class Questionnaire:
    code: str
    group: str
    access: str
    title: Label
    intro: Label
    pages: list[Page]
    thanks: Label | None = None
    #: The optional sections, switched on (True) or off (False); an off section's pages are not
    #: in `pages`.
    sections: dict[str, bool] = field(default_factory=dict)
    #: The question a site link answers for the respondent (e.g. the district), or None.
    site_item: str | None = None
    #: The raw definition (shared scales and lists resolved), stored as the snapshot.
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.questions: list[Item] = [q for page in self.pages for q in page.questions]
        self.by_code: dict[str, Item] = {q.code: q for q in self.questions}

    @property
    def profile_items(self) -> list[Item]:
        return [q for q in self.questions if q.profile]
