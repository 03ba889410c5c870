"""The small expression language of relevance and constraints: parsed into a tree, never `eval`ed.

Grammar (lowest precedence first)::

    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (COMPARISON sum | "in" "(" literal ("," literal)* ")")?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    COMPARISON := "=" | "!=" | "<" | "<=" | ">" | ">="
    atom    := NUMBER | STRING | "true" | "false" | "." | NAME | NAME "(" args ")" | "(" or ")"

A missing answer is ``None``: comparisons with it are false and arithmetic with it is missing, so a
relevance rule never shows a follow-up to a question that was not answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_LENGTH = 500
MAX_DEPTH = 32

FUNCTIONS = {"selected": 2, "count": 1, "answered": 1}
KEYWORDS = {"and", "or", "not", "in", "true", "false"}

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>'[^'\\\n]*'|"[^"\\\n]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|=|<|>|\+|-|\*|/|\(|\)|,|\.)
    """,
    re.VERBOSE,
)


class ExpressionError(ValueError):
    """A syntax error, with the 1-based column where it was found."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} (column {column})")
        self.message = message
        self.column = column


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    column: int


@dataclass(frozen=True, slots=True)
class Node:
    op: str
    args: tuple[Any, ...] = ()


def tokenize(source: str) -> list[Token]:
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters", MAX_LENGTH + 1)
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ExpressionError(f"unexpected character {source[pos]!r}", pos + 1)
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(Token(kind, match.group(), pos + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(source) + 1))
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, text: str) -> bool:
        if self.token.text == text and self.token.kind in ("op", "name"):
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            found = self.token.text or "end of expression"
            raise ExpressionError(f"expected {text!r}, found {found!r}", self.token.column)

    def nested(self, parse):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested deeper than {MAX_DEPTH}", self.token.column)
        try:
            return parse()
        finally:
            self.depth -= 1

    def parse(self) -> Node:
        node = self.parse_or()
        if self.token.kind != "end":
            raise ExpressionError(f"unexpected {self.token.text!r}", self.token.column)
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.accept("or"):
            node = Node("or", (node, self.parse_and()))
        return node

    def parse_and(self) -> Node:
        node = self.parse_not()
        while self.accept("and"):
            node = Node("and", (node, self.parse_not()))
        return node

    def parse_not(self) -> Node:
        if self.accept("not"):
            return Node("not", (self.nested(self.parse_not),))
        return self.parse_compare()

    def parse_compare(self) -> Node:
        left = self.parse_sum()
        if self.token.kind == "op" and self.token.text in ("=", "!=", "<", "<=", ">", ">="):
            op = self.take().text
            return Node(op, (left, self.parse_sum()))
        if self.accept("in"):
            self.expect("(")
            values = [self.parse_literal()]
            while self.accept(","):
                values.append(self.parse_literal())
            self.expect(")")
            return Node("in", (left, tuple(values)))
        return left

    def parse_sum(self) -> Node:
        node = self.parse_product()
        while self.token.kind == "op" and self.token.text in ("+", "-"):
            op = self.take().text
            node = Node(op, (node, self.parse_product()))
        return node

    def parse_product(self) -> Node:
        node = self.parse_unary()
        while self.token.kind == "op" and self.token.text in ("*", "/"):
            op = self.take().text
            node = Node(op, (node, self.parse_unary()))
        return node

    def parse_unary(self) -> Node:
        if self.token.kind == "op" and self.token.text == "-":
            self.take()
            return Node("neg", (self.nested(self.parse_unary),))
        return self.parse_atom()

    def parse_literal(self) -> Any:
        token = self.token
        negative = False
        if token.kind == "op" and token.text == "-":
            self.take()
            negative = True
            token = self.token
        if token.kind == "number":
            self.take()
            value = _number(token)
            return -value if negative else value
        if token.kind == "string" and not negative:
            self.take()
            return token.text[1:-1]
        if token.kind == "name" and token.text in ("true", "false") and not negative:
            self.take()
            return token.text == "true"
        raise ExpressionError(f"expected a value, found {token.text or 'end'!r}", token.column)

    def parse_atom(self) -> Node:
        token = self.token
        if token.kind in ("number", "string"):
            return Node("value", (self.parse_literal(),))
        if token.kind == "op" and token.text == "(":
            self.take()
            node = self.nested(self.parse_or)
            self.expect(")")
            return node
        if token.kind == "op" and token.text == ".":
            self.take()
            return Node("self")
        if token.kind == "name":
            if token.text in ("true", "false"):
                return Node("value", (self.parse_literal(),))
            if token.text in KEYWORDS:
                raise ExpressionError(f"unexpected {token.text!r}", token.column)
            self.take()
            if self.accept("("):
                return self.parse_call(token)
            return Node("item", (token.text, token.column))
        found = token.text or "end of expression"
        raise ExpressionError(f"unexpected {found!r}", token.column)

    def parse_call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            raise ExpressionError(f"unknown function {name.text!r}", name.column)
        args: list[Node] = []
        if not self.accept(")"):
            args.append(self.nested(self.parse_or))
            while self.accept(","):
                args.append(self.nested(self.parse_or))
            self.expect(")")
        if len(args) != FUNCTIONS[name.text]:
            raise ExpressionError(
                f"{name.text}() takes {FUNCTIONS[name.text]} argument(s), got {len(args)}",
                name.column,
            )
        if args[0].op not in ("item", "self"):
            raise ExpressionError(f"{name.text}() needs an item code first", name.column)
        return Node("call", (name.text, tuple(args)))


def _number(token: Token) -> int | Decimal:
    try:
        return int(token.text) if "." not in token.text else Decimal(token.text)
    except (ValueError, InvalidOperation) as exc:  # pragma: no cover - the regex admits only digits
        raise ExpressionError(f"bad number {token.text!r}", token.column) from exc


@dataclass(frozen=True)
class Expression:
    """A parsed expression with the item codes it reads."""

    source: str
    tree: Node

    @property
    def names(self) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        _collect(self.tree, found)
        return found

    @property
    def uses_self(self) -> bool:
        return _uses_self(self.tree)

    def evaluate(self, answers: dict[str, Any], current: Any = None) -> bool:
        return _evaluate(self.tree, answers, current) is True


def parse(source: str) -> Expression:
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("empty expression", 1)
    return Expression(source, _Parser(source).parse())


def _collect(node: Node, found: list[tuple[str, int]]) -> None:
    if node.op == "item":
        found.append((node.args[0], node.args[1]))
        return
    if node.op == "call":
        for arg in node.args[1]:
            _collect(arg, found)
        return
    for arg in node.args:
        if isinstance(arg, Node):
            _collect(arg, found)


def _uses_self(node: Node) -> bool:
    if node.op == "self":
        return True
    children = node.args[1] if node.op == "call" else node.args
    return any(isinstance(arg, Node) and _uses_self(arg) for arg in children)


def _numeric(value: Any) -> Any:
    """Numbers stored as text (answers arrive from forms) compare as numbers."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | Decimal):
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return int(value) if "." not in value else Decimal(value)
    return value


def _compare(op: str, left: Any, right: Any) -> bool | None:
    left, right = _numeric(left), _numeric(right)
    if left is None or right is None or isinstance(left, list) or isinstance(right, list):
        return False
    left_is_number = isinstance(left, int | Decimal) and not isinstance(left, bool)
    right_is_number = isinstance(right, int | Decimal) and not isinstance(right, bool)
    if op in ("=", "!="):
        equal = left == right if left_is_number == right_is_number else False
        return equal if op == "=" else not equal
    if left_is_number != right_is_number:
        return False
    try:
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    except TypeError:
        return False


def _arithmetic(op: str, left: Any, right: Any) -> Any:
    left, right = _numeric(left), _numeric(right)
    for value in (left, right):
        if not isinstance(value, int | Decimal) or isinstance(value, bool):
            return None
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        return None
    return Decimal(left) / Decimal(right)


def _evaluate(node: Node, answers: dict[str, Any], current: Any) -> Any:
    op = node.op
    if op == "value":
        return node.args[0]
    if op == "item":
        return answers.get(node.args[0])
    if op == "self":
        return current
    if op == "and":
        return _evaluate(node.args[0], answers, current) is True and (
            _evaluate(node.args[1], answers, current) is True
        )
    if op == "or":
        return _evaluate(node.args[0], answers, current) is True or (
            _evaluate(node.args[1], answers, current) is True
        )
    if op == "not":
        return _evaluate(node.args[0], answers, current) is not True
    if op == "neg":
        value = _numeric(_evaluate(node.args[0], answers, current))
        return -value if isinstance(value, int | Decimal) and not isinstance(value, bool) else None
    if op in ("=", "!=", "<", "<=", ">", ">="):
        left = _evaluate(node.args[0], answers, current)
        return _compare(op, left, _evaluate(node.args[1], answers, current))
    if op in ("+", "-", "*", "/"):
        left = _evaluate(node.args[0], answers, current)
        return _arithmetic(op, left, _evaluate(node.args[1], answers, current))
    if op == "in":
        value = _evaluate(node.args[0], answers, current)
        return any(_compare("=", value, option) for option in node.args[1])
    if op == "call":
        return _call(node.args[0], node.args[1], answers, current)
    raise AssertionError(f"unknown node {op}")  # pragma: no cover


def _call(name: str, args: tuple[Node, ...], answers: dict[str, Any], current: Any) -> Any:
    value = _evaluate(args[0], answers, current)
    if name == "answered":
        return value not in (None, "", [])
    chosen = value if isinstance(value, list) else ([] if value in (None, "") else [value])
    if name == "count":
        return len(chosen)
    wanted = _evaluate(args[1], answers, current)
    return any(_compare("=", option, wanted) for option in chosen)
