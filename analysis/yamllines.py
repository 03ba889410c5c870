"""YAML read as plain data that remembers the line of every key, so problems can name it.

Used for scoring schemes here and, by the web application, for questionnaire files: `analysis`
never imports the application, the application may import `analysis`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]

#: libyaml's parser where PyYAML was built with it (its wheels are): the same nodes, marks and
#: safe constructors as the pure-Python one, about ten times faster (every app start and every
#: test's fresh database parses all the questionnaires)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Values a file may hold once its aliases are followed: every real questionnaire or scheme
#: has a few thousand; an alias bomb (a few lines, each alias doubling the last) has billions.
MAX_VALUES = 200_000


@dataclass
class LocatedData:
    """Plain data (dicts, lists, scalars) and the 1-based line of every value and key in it."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    #: keys written twice in one mapping, with the line of the second
    duplicates: list[tuple[KeyPath, int]] = field(default_factory=list)
    #: values converted so far (aliases counted each time they are followed)
    values: int = 0

    def line(self, path: KeyPath) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


class YamlSyntaxError(ValueError):
    """A file that is not valid YAML; ``line`` is where the parser stopped."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def load_located(text: str) -> LocatedData:
    """Parse ``text`` with the safe loader, keeping the line of every node."""
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        result = LocatedData(None)
        if node is not None:
            result.data = _convert(loader, node, (), result)
        return result
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(exc.problem or str(exc), mark.line + 1 if mark else 1) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc), 1) from exc
    finally:
        loader.dispose()


def _convert(loader: yaml.SafeLoader, node: yaml.Node, path: KeyPath, out: LocatedData) -> Any:
    out.values += 1
    if out.values > MAX_VALUES:
        raise YamlSyntaxError(
            f"the file holds more than {MAX_VALUES:,} values once its aliases are followed",
            node.start_mark.line + 1,
        )
    out.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                key = str(key)
            key_path = (*path, str(key))
            if key in mapping:
                out.duplicates.append((key_path, key_node.start_mark.line + 1))
            mapping[key] = _convert(loader, value_node, key_path, out)
            out.lines[key_path] = key_node.start_mark.line + 1
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [_convert(loader, child, (*path, i), out) for i, child in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
