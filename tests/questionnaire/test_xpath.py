"""XLSForm's expressions to ours and back: what both languages have, translated; what ours lacks,
named; and an expression of ours, written as XPath and read back, means the same."""

from __future__ import annotations

import pytest

from survey_app.questionnaire.expressions import parse
from survey_app.questionnaire.xpath import XPathUnsupported, to_ours, to_xpath


@pytest.mark.parametrize(
    "xpath, ours",
    [
        ("${likes_pizza} = 'yes'", "likes_pizza = 'yes'"),
        ("${age} >= 18 and ${age} < 65", "age >= 18 and age < 65"),
        (". >= 18 and . <= 110", ". >= 18 and . <= 110"),
        ("selected(${toppings}, 'cheese')", "selected(toppings, 'cheese')"),
        ("not(selected(${q}, 'x')) or ${n} div 2 > 1", "not (selected(q, 'x')) or n / 2 > 1"),
        ("count-selected(${colors}) <= 3", "count(colors) <= 3"),
        ("${name} != ''", "answered(name)"),
        ("${name} = ''", "not answered(name)"),
        ("${a} = true()", "a = true"),
    ],
)
def test_xlsform_expressions_become_ours(xpath, ours):
    assert to_ours(xpath).source == ours


@pytest.mark.parametrize(
    "xpath, construct",
    [
        ("regex(., '^[0-9]+$')", "regex()"),
        ("string-length(${a}) > 3", "string-length()"),
        ("/data/age > 3", "/"),
        ("${a} mod 2 = 0", "mod"),
        ("../sibling = 1", ".."),
        ("${a} | ${b}", "|"),
        ("${} = 1", "${}"),
    ],
)
def test_what_ours_lacks_is_named(xpath, construct):
    with pytest.raises(XPathUnsupported) as caught:
        to_ours(xpath)
    assert caught.value.construct == construct


ANSWERS = [
    {},
    {"a": "1", "b": "x", "m": ["p", "q"]},
    {"a": "5", "b": "y", "m": ["q"]},
    {"a": "-2", "m": []},
]


@pytest.mark.parametrize(
    "source",
    [
        "a = 1 or b != 'x'",
        "not a > 2 and answered(b)",
        "a in (1, 5) and count(m) >= 1",
        "selected(m, 'p') or -a + 3 * 2 / 4 > 1",
        'not (b = "x" or a <= 0)',
    ],
)
def test_ours_written_as_xpath_reads_back_the_same(source):
    ours = parse(source)
    back = to_ours(to_xpath(ours))
    for answers in ANSWERS:
        assert back.evaluate(answers) == ours.evaluate(answers), (source, to_xpath(ours), answers)
