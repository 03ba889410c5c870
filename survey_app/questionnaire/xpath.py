"""XLSForm's expressions (XPath as ODK writes it: `${age} >= 18 and selected(${q}, 'x')`) to
ours and back: the few constructs both languages have, token by token; anything else is refused
with its name, never guessed."""

from __future__ import annotations

import re
from decimal import Decimal

from .expressions import Expression, ExpressionError, Node, parse

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<ref>\$\{[^}]*\})
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>'[^'\n]*'|"[^"\n]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_:.-]*)
  | (?P<op><=|>=|!=|=|<|>|\+|-|\*|\(|\)|,|\.\.|\.|/|\|)
    """,
    re.VERBOSE,
)
#: XPath functions with an equivalent of ours: name -> our name.
FUNCTIONS = {"selected": "selected", "count-selected": "count", "not": "not"}
CONSTANTS = {"true": "true", "false": "false"}
KEYWORDS = {"and", "or"}


class XPathUnsupported(ValueError):
    """An expression with a construct our language lacks; `construct` names it."""

    def __init__(self, construct: str) -> None:
        super().__init__(construct)
        self.construct = construct


def _tokens(source: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise XPathUnsupported(source[pos])
        if match.lastgroup != "space":
            found.append((match.lastgroup or "", match.group()))
        pos = match.end()
    return found


def to_ours(source: str) -> Expression:
    """Our expression for an XLSForm one; `XPathUnsupported` names what has no equivalent,
    `ExpressionError` says what the result could not be parsed for."""
    tokens = _tokens(source.strip())
    out: list[str] = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        following = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if kind == "ref" or (kind == "op" and text == "."):
            target = text[2:-1].strip() if kind == "ref" else "."
            if not target:
                raise XPathUnsupported(text)
            # `${q} != ''` and `${q} = ''` are how XLSForm asks whether a question was answered
            if (
                following in ("=", "!=")
                and i + 2 < len(tokens)
                and tokens[i + 2][1] in ("''", '""')
            ):
                test = f"answered({target})"
                out.append(test if following == "!=" else f"not {test}")
                i += 3
                continue
            out.append(target)
        elif kind == "name":
            if text in KEYWORDS:
                out.append(text)
            elif text == "div":
                out.append("/")
            elif following == "(" and text in CONSTANTS:
                if i + 2 >= len(tokens) or tokens[i + 2][1] != ")":
                    raise XPathUnsupported(f"{text}()")
                out.append(CONSTANTS[text])
                i += 3
                continue
            elif following == "(" and text in FUNCTIONS:
                out.append(FUNCTIONS[text] + (" (" if text == "not" else "("))
                i += 2
                continue
            elif following == "(":
                raise XPathUnsupported(f"{text}()")
            else:
                raise XPathUnsupported(text)
        elif kind == "op" and text in ("..", "/", "|"):
            raise XPathUnsupported(text)
        else:
            out.append(text)
        i += 1
    return parse(_joined(out))


def _joined(parts: list[str]) -> str:
    """The tokens as a person would write them: `selected(q, 'x')`, not `selected( q , 'x' )`."""
    text = ""
    for part in parts:
        tight = not text or text.endswith("(") or part in (")", ",")
        text += part if tight else " " + part
    return text


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true()" if value else "false()"
    if isinstance(value, int | Decimal):
        return str(value)
    return f'"{value}"' if "'" in value else f"'{value}'"


def _ref(node: Node) -> str:
    return "." if node.op == "self" else "${" + node.args[0] + "}"


def _write(node: Node) -> str:
    op = node.op
    if op == "value":
        return _literal(node.args[0])
    if op in ("item", "self"):
        return _ref(node)
    if op in ("and", "or"):
        return f"({_write(node.args[0])} {op} {_write(node.args[1])})"
    if op == "not":
        return f"not({_write(node.args[0])})"
    if op == "neg":
        return f"-({_write(node.args[0])})"
    if op in ("=", "!=", "<", "<=", ">", ">=", "+", "-", "*"):
        return f"({_write(node.args[0])} {op} {_write(node.args[1])})"
    if op == "/":
        return f"({_write(node.args[0])} div {_write(node.args[1])})"
    if op == "in":
        left = _write(node.args[0])
        return "(" + " or ".join(f"{left} = {_literal(v)}" for v in node.args[1]) + ")"
    name, args = node.args
    if name == "selected":
        return f"selected({_ref(args[0])}, {_write(args[1])})"
    if name == "count":
        return f"count-selected({_ref(args[0])})"
    return f"({_ref(args[0])} != '')"  # answered()


def to_xpath(expression: Expression) -> str:
    """The XLSForm expression of one of ours."""
    text = _write(expression.tree)
    return text[1:-1] if text.startswith("(") and _balanced(text[1:-1]) else text


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


__all__ = ["ExpressionError", "XPathUnsupported", "to_ours", "to_xpath"]
