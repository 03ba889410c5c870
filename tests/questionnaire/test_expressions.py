"""The expression language: what it means, and that hostile input is refused, never run."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey_app.questionnaire.expressions import MAX_DEPTH, MAX_LENGTH, ExpressionError, parse


@pytest.mark.parametrize(
    ("source", "answers", "expected"),
    [
        ("a = 1", {"a": "1"}, True),
        ("a = 1", {"a": "2"}, False),
        ("a = 1", {}, False),
        ("a != 1", {}, False),  # every comparison with a missing answer is false
        ("a > 2 and b = 'yes'", {"a": "3", "b": "yes"}, True),
        ("a > 2 and b = 'yes'", {"a": "3"}, False),
        ("a > 2 or b = 'yes'", {"b": "yes"}, True),
        ("not (a > 2)", {"a": "1"}, True),
        ("a + b * 2 = 7", {"a": "1", "b": "3"}, True),
        ("(a + b) * 2 = 8", {"a": "1", "b": "3"}, True),
        ("a / 0 = 1", {"a": "1"}, False),
        ("-a < 0", {"a": "4"}, True),
        ("a in (1, 2, 3)", {"a": "2"}, True),
        ("a in ('x', 'y')", {"a": "z"}, False),
        ("selected(m, 'b')", {"m": ["a", "b"]}, True),
        ("selected(m, 'c')", {"m": ["a", "b"]}, False),
        ("count(m) <= 1", {"m": ["a", "b"]}, False),
        ("count(m) = 0", {}, True),
        ("answered(t)", {"t": "x"}, True),
        ("answered(t)", {}, False),
        ("a >= 2.5", {"a": "3"}, True),
        ("a = '1'", {"a": "1"}, True),
        ("a < 'b'", {"a": "1"}, False),  # a number never orders against text
        ("true and not false", {}, True),
    ],
)
def test_meaning(source, answers, expected):
    assert parse(source).evaluate(answers) is expected


def test_constraint_sees_its_own_answer():
    rule = parse(". >= 18 and . <= age_max")
    assert rule.evaluate({"age_max": "110"}, current="40") is True
    assert rule.evaluate({"age_max": "110"}, current="17") is False
    assert rule.uses_self


def test_names_are_collected_with_their_columns():
    assert parse("a = 1 and selected(bb, 'x')").names == [("a", 1), ("bb", 20)]


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("__import__('os').system('id')", "unknown function '__import__'"),
        ("a.__class__", "unexpected"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("a = ", "unexpected 'end of expression'"),
        ("a = 1 b", "unexpected 'b'"),
        ("(a = 1", "expected ')'"),
        ("a == 1", "unexpected '='"),
        ("a = `1`", "unexpected character '`'"),
        ("a = 'unterminated", "unexpected character"),
        ("a = 1; b = 2", "unexpected character ';'"),
        ("selected('a', 'b')", "needs an item code"),
        ("count(a, b)", "takes 1 argument"),
        ("a in ()", "expected a value"),
        ("lambda: 1", "unexpected character ':'"),
        ("a = 1\x00", "unexpected character"),
        ("", "empty expression"),
        ("and", "unexpected 'and'"),
    ],
)
def test_hostile_or_broken_input_is_refused_with_a_position(source, fragment):
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert fragment in str(caught.value)
    assert caught.value.column >= 1


def test_length_and_depth_are_bounded():
    with pytest.raises(ExpressionError, match="longer than"):
        parse("a = 1 or " * (MAX_LENGTH // 8) + "a = 1")
    with pytest.raises(ExpressionError, match="nested deeper"):
        parse("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(ExpressionError, match="nested deeper"):
        parse("not " * (MAX_DEPTH + 1) + "a")
    parse("(" * (MAX_DEPTH - 1) + "a" + ")" * (MAX_DEPTH - 1))


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=120))
def test_any_text_either_parses_or_raises_expression_error(source):
    try:
        expression = parse(source)
    except ExpressionError:
        return
    # Whatever parsed evaluates without raising, on any answers.
    expression.evaluate({name: "1" for name, _ in expression.names}, current="2")
    expression.evaluate({}, current=None)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab()=<>!+-*/., '\"0123456789andornotin", max_size=80))
def test_operator_soup_never_escapes(source):
    with contextlib.suppress(ExpressionError):
        parse(source).evaluate({"a": "3", "b": ["1"]}, current="1")
