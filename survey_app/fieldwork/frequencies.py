"""How often each option of each closed question was chosen, over the complete responses that
count, overall or in one district: one GROUP BY over the answers, whatever the number of
responses. Shares are of the responses that answered the question."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy import func as sql
from sqlalchemy.orm import Session, aliased

from ..models import Answer, Response
from ..questionnaire.definition import Item, Questionnaire
from .counted import counted_condition

#: The profile question that names the district (a quota and weighting variable).
DISTRICT = "district"


@dataclass
class OptionCount:
    key: str
    label: dict[str, str] | None
    count: int
    share: float | None


@dataclass
class QuestionCounts:
    item: Item
    #: Responses that answered the question (for a multiple choice: that chose at least one).
    answered: int
    options: list[OptionCount] = field(default_factory=list)


@dataclass
class Frequencies:
    questions: list[QuestionCounts]
    #: (value, label) of the districts, in the questionnaire's order; empty without a district.
    districts: list[tuple[str, dict[str, str] | None]]
    district: str | None
    responses: int


def closed_questions(questionnaire: Questionnaire) -> list[Item]:
    return [q for q in questionnaire.questions if q.options]


def frequencies(
    session: Session,
    wave_id: int,
    code: str,
    questionnaire: Questionnaire,
    district: str | None = None,
) -> Frequencies:
    questions = closed_questions(questionnaire)
    district_item = questionnaire.by_code.get(DISTRICT)
    districts = [(o.key, o.label) for o in district_item.options] if district_item else []
    if district not in {key for key, _label in districts}:
        district = None
    scope = [
        Response.wave_id == wave_id,
        Response.questionnaire_code == code,
        Response.status == "complete",
        counted_condition(),
    ]
    if district is not None:
        place = aliased(Answer)
        scope.append(
            select(place.id)
            .where(
                place.response_id == Response.id,
                place.item_code == DISTRICT,
                place.value == district,
            )
            .exists()
        )
    responses = session.scalar(select(sql.count()).select_from(Response).where(*scope)) or 0
    rows = session.execute(
        select(Answer.item_code, Answer.value, sql.count())
        .join(Response, and_(Response.id == Answer.response_id, *scope))
        .where(Answer.item_code.in_([q.code for q in questions]))
        .group_by(Answer.item_code, Answer.value)
    ).all()
    multiple = {q.code for q in questions if q.type == "multiple"}
    counted: dict[str, dict[str, int]] = {}
    answered: dict[str, int] = {}
    for item_code, value, count in rows:
        answered[item_code] = answered.get(item_code, 0) + count
        per_option = counted.setdefault(item_code, {})
        for key in value.split(" ") if item_code in multiple else [value]:
            per_option[key] = per_option.get(key, 0) + count
    result = []
    for item in questions:
        base = answered.get(item.code, 0)
        given = counted.get(item.code, {})
        options = [
            OptionCount(o.key, o.label, given.get(o.key, 0), _share(given.get(o.key, 0), base))
            for o in item.options
        ]
        # Codes no option has any more (an earlier version's), kept so that nothing disappears.
        known = {o.key for o in item.options}
        for key in sorted(set(given) - known):
            options.append(OptionCount(key, None, given[key], _share(given[key], base)))
        result.append(QuestionCounts(item, base, options))
    return Frequencies(result, districts, district, responses)


def _share(count: int, base: int) -> float | None:
    return count / base if base else None
