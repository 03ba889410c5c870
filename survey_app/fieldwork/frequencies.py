"""How often each option of each closed question was chosen, over the complete responses that
count: overall, in one district, and district by district. One GROUP BY over the answers (by
question, answer and district) gives all three, whatever the number of responses. Shares are of
the responses that answered the question."""

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
    #: The same counts district by district: (district value, answered, options), in the
    #: questionnaire's order of districts.
    districts: list[tuple[str, int, list[OptionCount]]] = field(default_factory=list)


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
    """The counts over every district, or over `district` alone (an unknown one: every district),
    with each question's counts district by district besides."""
    questions = closed_questions(questionnaire)
    district_item = questionnaire.by_code.get(DISTRICT)
    districts = [(o.key, o.label) for o in district_item.options] if district_item else []
    if district not in {key for key, _label in districts}:
        district = None
    scope = and_(
        Response.wave_id == wave_id,
        Response.questionnaire_code == code,
        Response.status == "complete",
        counted_condition(),
    )
    place = aliased(Answer)
    where = place.value
    per_district = dict(
        session.execute(
            select(where, sql.count())
            .select_from(Response)
            .outerjoin(place, and_(place.response_id == Response.id, place.item_code == DISTRICT))
            .where(scope)
            .group_by(where)
        ).all()
    )
    rows = session.execute(
        select(Answer.item_code, Answer.value, where, sql.count())
        .join(Response, and_(Response.id == Answer.response_id, scope))
        .outerjoin(place, and_(place.response_id == Response.id, place.item_code == DISTRICT))
        .where(Answer.item_code.in_([q.code for q in questions]))
        .group_by(Answer.item_code, Answer.value, where)
    ).all()
    multiple = {q.code for q in questions if q.type == "multiple"}
    #: (item, district) -> {option: count}, and (item, district) -> responses that answered
    counted: dict[tuple[str, str | None], dict[str, int]] = {}
    answered: dict[tuple[str, str | None], int] = {}
    for item_code, value, place_value, count in rows:
        key = (item_code, place_value)
        answered[key] = answered.get(key, 0) + count
        per_option = counted.setdefault(key, {})
        for chosen in value.split(" ") if item_code in multiple else [value]:
            per_option[chosen] = per_option.get(chosen, 0) + count
    result = []
    for item in questions:
        places = {p for (c, p) in counted if c == item.code}
        wanted = [district] if district is not None else places
        given = _summed(counted, item.code, wanted)
        base = sum(answered.get((item.code, p), 0) for p in wanted)
        shown = QuestionCounts(item, base, _options(item, given, base))
        for value, _label in districts:
            in_place = counted.get((item.code, value), {})
            place_base = answered.get((item.code, value), 0)
            shown.districts.append((value, place_base, _options(item, in_place, place_base)))
        result.append(shown)
    responses = (
        per_district.get(district, 0) if district is not None else sum(per_district.values())
    )
    return Frequencies(result, districts, district, responses)


def _summed(counted, item_code: str, places) -> dict[str, int]:
    total: dict[str, int] = {}
    for place in places:
        for key, count in counted.get((item_code, place), {}).items():
            total[key] = total.get(key, 0) + count
    return total


def _options(item: Item, given: dict[str, int], base: int) -> list[OptionCount]:
    options = [
        OptionCount(o.key, o.label, given.get(o.key, 0), _share(given.get(o.key, 0), base))
        for o in item.options
    ]
    # Codes no option has any more (an earlier version's), kept so that nothing disappears.
    known = {o.key for o in item.options}
    for key in sorted(set(given) - known):
        options.append(OptionCount(key, None, given[key], _share(given[key], base)))
    return options


def _share(count: int, base: int) -> float | None:
    return count / base if base else None
