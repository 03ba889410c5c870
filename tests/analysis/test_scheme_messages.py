"""A scheme's problems are said in the reader's language, each naming its file, line and key
(issue 14): the checker makes them with analysis.messages, so the statisticians' pages and
`flask score-wave` (PAR_LANG) say them in Vietnamese while `python -m analysis` says English."""

from __future__ import annotations

import pandas as pd
import pytest
from flask_babel import force_locale, gettext
from hand_scoring import QUESTIONNAIRES, SCHEME

from analysis.messages import Message, reasons
from analysis.scheme import SchemeError, parse_scheme
from analysis.scoring import ScoringError, score
from survey_app.i18n import say

#: One file with a mistake of most kinds: rules, combine, floors, totals, bands, items.
BROKEN = (
    SCHEME.replace("combine: {leader: 0.6, delegate: 0.4}", "combine: {leader: 0.6, delegate: 0.3}")
    .replace('code: "1.2"', "code: 1.2")
    .replace("name: {vi: Lĩnh vực hai, en: Field two}", "name: {vi: Lĩnh vực hai}")
    .replace("{code: A, min: 90}", "{code: A, min: 90, colour: red}")
    .replace("items: [f1_1, f1_2]", "items: [f1_1, f1_9]")
    .replace("  said_yes:", "  days: {type: range, worst: 3, best: 3}\n  said_yes:")
)


def broken_problems():
    with pytest.raises(SchemeError) as caught:
        parse_scheme(BROKEN, "s.yaml", QUESTIONNAIRES)
    return caught.value.problems


def test_every_problem_is_a_message_with_its_line():
    problems = broken_problems()
    assert len(problems) == 7
    for problem in problems:
        assert isinstance(problem.message, Message), problem
        assert problem.file == "s.yaml" and problem.line > 0 and problem.key
    # English as before: the command line and the logs
    texts = [str(p) for p in problems]
    assert "s.yaml:16: survey.combine: the group weights add up to 0.9, not 1" in texts
    assert any(t.endswith("rules.days.best: must differ from worst") for t in texts)


def test_problems_are_said_in_vietnamese(app):
    problems = broken_problems()
    with app.test_request_context("/vi/"), force_locale("vi"):
        said = {str(p): say(p) for p in problems}
        for problem in problems:
            text = said[str(problem)]
            where = f"s.yaml:{problem.line}: {problem.key}: "
            assert text.startswith(where), text
            template = problem.message.template
            assert gettext(template) != template, f"no Vietnamese for {template!r}"
            assert text != str(problem)
        combine = next(t for t in said.values() if "survey.combine" in t)
        # the number in the reader's style (decimal comma), the sentence in Vietnamese
        assert combine == "s.yaml:16: survey.combine: tổng trọng số các nhóm là 0,9, không phải 1"
        missing = next(t for t in said.values() if "items.delegate" in t)
        assert missing.endswith("câu hỏi f1_9 không có trong phiếu khảo sát delegate")
    with app.test_request_context("/en/"), force_locale("en"):
        assert [say(p) for p in problems] == [str(p) for p in problems]


def test_a_respondent_rating_a_unit_twice_is_said_in_vietnamese(app):
    """Cross-rating's data errors name the rows in the reader's language too."""
    scheme = parse_scheme(SCHEME, "s.yaml")
    leaders = pd.DataFrame(
        {
            "person": ["p1", "p2", "p1"],
            "unit": ["finance", "finance", "finance"],
            "f1_1": [3, 4, 2],
            "f1_2": [3, 4, 2],
            "f1_3": [3, 4, 2],
        }
    )
    with pytest.raises(ScoringError) as caught:
        score(scheme, {"leader": leaders}, unit="unit", respondent="person")
    (reason,) = reasons(caught.value)
    assert str(reason) == (
        "rows 2 and 4 of the leader responses: the person 'p1' rates the unit 'finance' twice; "
        "a respondent rates a unit once"
    )
    with app.test_request_context("/vi/"), force_locale("vi"):
        assert say(reason) == (
            "dòng 2 và 4 của dữ liệu trả lời nhóm leader: person 'p1' đánh giá đơn vị 'finance' "
            "hai lần; mỗi người chỉ đánh giá một đơn vị một lần"
        )


def test_a_questionnaire_the_folder_lacks_is_said_in_vietnamese(app):
    text = SCHEME.replace("questionnaire: leader,", "questionnaire: leaders,")
    with pytest.raises(SchemeError) as caught:
        parse_scheme(text, "s.yaml", QUESTIONNAIRES)
    (problem,) = caught.value.problems
    wanted = QUESTIONNAIRES / "leaders.yaml"
    assert (
        str(problem)
        == f"s.yaml:5: groups.leader.questionnaire: {wanted}: no such questionnaire file"
    )
    with app.test_request_context("/vi/"), force_locale("vi"):
        assert say(problem) == (
            f"s.yaml:5: groups.leader.questionnaire: {wanted}: không có tệp phiếu khảo sát này"
        )


def test_a_sentence_that_depends_on_a_count_is_said_for_the_count(app, tmp_path):
    """analysis' ngettext: English takes the singular for 1; stored and read back, pickled for a
    worker, and said by the web app with the form for the count and the count as a number."""
    import pickle

    from analysis.index import AppraisalError, read_previous
    from analysis.messages import from_json, ngettext, to_json

    (tmp_path / "one.csv").write_text("unit_code,percent\nu1,80\n")
    (tmp_path / "two.csv").write_text("unit_code\nu1\n")
    said = []
    for name in ("one.csv", "two.csv"):
        with pytest.raises(AppraisalError) as caught:
            read_previous(tmp_path / name)
        said.append(str(caught.value))
    assert "lacks the column rank:" in said[0] and "lacks the columns rank, percent:" in said[1]

    many = ngettext("%(num)s row is bad", "%(num)s rows are bad", 1234)
    assert str(many) == "1,234 rows are bad"
    assert str(ngettext("%(num)s row is bad", "%(num)s rows are bad", 1)) == "1 row is bad"
    for again in (from_json(to_json(many)), pickle.loads(pickle.dumps(many))):
        assert again == many and again.plural == many.plural and again.params == {"num": 1234}
    with app.test_request_context("/en/"), force_locale("en"):
        assert say(many) == "1,234 rows are bad"
        assert say(from_json(to_json(ngettext("%(num)s row", "%(num)s rows", 1)))) == "1 row"
    with app.test_request_context("/vi/"), force_locale("vi"):
        assert say(many) == "1.234 rows are bad"  # no msgstr yet: the count in Vietnamese style
