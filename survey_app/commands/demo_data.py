"""Synthetic demo data: a wave of realistic, seeded responses that need weighting.

Field samples at one-stop shops over-represent some groups (here: men, people of working age, the
districts near the provincial capital), so unweighted figures differ from weighted ones.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from ..fieldwork.tokens import response_key_for_resume_code
from ..fieldwork.waves import wave_by_code
from ..models import Response, Wave, WaveQuestionnaire, utcnow
from ..questionnaire.definition import Item, Option, Questionnaire
from ..questionnaire.store import definition, latest_versions

DEMO_WAVE = "demo"
#: Share of each group among complete responses, against roughly 50/50 in the population.
SEX_SKEW = {"male": 0.62, "female": 0.38}
DONT_KNOW_RATE = 0.05
SKIP_OPTIONAL_RATE = 0.04


def demo_wave(session: Session) -> Wave:
    wave = wave_by_code(session, DEMO_WAVE)
    if wave is None:
        wave = Wave(
            code=DEMO_WAVE,
            title={"vi": "Đợt khảo sát mẫu (dữ liệu giả lập)", "en": "Demo wave (synthetic data)"},
            status="open",
        )
        session.add(wave)
        session.flush()
    present = {wq.questionnaire_code for wq in wave.questionnaires}
    for code in latest_versions(session):
        if code not in present:
            wave.questionnaires.append(WaveQuestionnaire(questionnaire_code=code))
    session.flush()
    return wave


def demo_response_count(session: Session) -> int:
    return (
        session.scalar(select(func.count(Response.id)).join(Wave).where(Wave.code == DEMO_WAVE))
        or 0
    )


@dataclass
class _Draw:
    """How one single-choice item is drawn, worked out once per item rather than per answer."""

    options: list[Option]
    #: cumulative weights of a weighted draw (sex, age group, district), else None
    cumulative: list[float] | None = None
    #: "sex" (the skew), "weighted", "scale" (an ordered scale) or "pick" (uniform)
    kind: str = "pick"
    missing: str | None = None
    low: int = 0
    high: int = 0
    #: a scale's centre before the respondent's mood, and its spread
    centre: float = 0.0
    spread: float = 0.0
    #: the keys drawn among: of all options (weighted), of those not missing (pick), or of a
    #: scale's values by value
    keys: list[str] | dict[int, str] = field(default_factory=list)

    @classmethod
    def of(cls, item: Item, district_weights: list[float]) -> _Draw:
        options = item.options
        if item.code == "sex" and {o.key for o in options} >= set(SEX_SKEW):
            return cls(options, kind="sex")
        if item.code in ("age_group", "district"):
            if item.code == "age_group":
                weights = [0.8, 1.6, 1.2, 0.4][: len(options)] + [1.0] * max(0, len(options) - 4)
            else:
                weights = district_weights[: len(options)]
            draw = cls(options, list(itertools.accumulate(weights)), "weighted")
            draw.keys = [o.key for o in options]
            return draw
        valued = [o for o in options if not o.missing and isinstance(o.value, int)]
        missing = [o for o in options if o.missing]
        draw = cls(options, missing=missing[0].key if missing else None)
        if len(valued) >= 3 and len(valued) == len([o for o in options if not o.missing]):
            draw.kind = "scale"
            draw.low, draw.high = min(o.value for o in valued), max(o.value for o in valued)
            draw.centre = draw.low + (draw.high - draw.low) * 0.72
            draw.spread = (draw.high - draw.low) / 4
            draw.keys = {v: str(v) for v in range(draw.low, draw.high + 1)}
        else:
            draw.keys = [o.key for o in ([o for o in options if not o.missing] or options)]
        return draw


class _Respondent:
    """One synthetic person: a general mood plus noise, profile drawn with field-sample skews."""

    def __init__(self, rng: random.Random, draws: dict[str, _Draw], district_weights) -> None:
        self.rng = rng
        self.mood = rng.gauss(0.0, 0.9)
        self.draws = draws
        self.district_weights = district_weights

    def choose(self, item: Item) -> Any:
        rng = self.rng
        draw = self.draws.get(item.code)
        if draw is None or draw.options is not item.options:
            draw = self.draws[item.code] = _Draw.of(item, self.district_weights)
        kind = draw.kind
        if kind == "sex":
            return "male" if rng.random() < SEX_SKEW["male"] else "female"
        if kind == "weighted":
            return rng.choices(draw.keys, cum_weights=draw.cumulative)[0]
        if draw.missing is not None and rng.random() < DONT_KNOW_RATE:
            return draw.missing
        if kind == "scale":
            # An ordered scale: lean towards the top, shifted by the respondent's mood.
            spread = draw.spread
            target = rng.gauss(draw.centre + self.mood * spread, spread)
            return draw.keys[round(min(draw.high, max(draw.low, target)))]
        return rng.choice(draw.keys)

    def answer(self, item: Item) -> Any:
        rng = self.rng
        if not item.required and rng.random() < SKIP_OPTIONAL_RATE:
            return None
        if item.type in ("single", "dropdown"):
            return self.choose(item)
        if item.type == "multiple":
            plain = [o for o in item.options if not o.exclusive]
            picked = rng.sample(plain, k=min(len(plain), rng.randint(1, 2)))
            return [o.key for o in item.options if o in picked]
        if item.type == "integer":
            low = item.min if item.min is not None else 0
            high = item.max if item.max is not None else low + 10
            return str(min(high, low + int(rng.expovariate(1.2))))
        if item.type in ("text", "longtext"):
            return (
                None
                if rng.random() < 0.85
                else rng.choice(
                    [
                        "Cần rút ngắn thời gian giải quyết.",
                        "Thái độ cán bộ tốt.",
                        "Nên có thêm chỗ ngồi chờ.",
                    ]
                )
            )
        return None


@dataclass
class _Asked:
    """A question as the drawing meets it, worked out once per questionnaire."""

    item: Item
    #: the expression that makes it relevant (its grid's for a grid row), or None
    relevant: Any
    #: answers that expressions see as missing ("don't know" options of a single choice)
    missing: frozenset[str]


def _asking_order(questionnaire: Questionnaire) -> list[tuple[Any, list[_Asked]]]:
    """Each page's relevance with its questions: what `page_is_relevant`, `question_is_relevant`
    and `expression_values` look up for every respondent, looked up once."""
    order = []
    for page in questionnaire.pages:
        asked = []
        for question in page.questions:
            missing = frozenset()
            if question.type in ("single", "dropdown"):
                missing = frozenset(
                    key for key in {o.key for o in question.options} if question.option(key).missing
                )
            asked.append(_Asked(question, (question.grid or question).relevant, missing))
        order.append((page.relevant, asked))
    return order


def synthetic_answers(
    questionnaire: Questionnaire, person: _Respondent, order: list | None = None
) -> dict[str, Any]:
    """Answers that follow the questionnaire's relevance and constraints, page by page.
    `order` is `_asking_order(questionnaire)`, given to save working it out for each person."""
    answers: dict[str, Any] = {}
    # What the expressions see of the earlier pages: extended a page at a time (the same as
    # expression_values of all the answers so far, without coding every answer on every page).
    values: dict[str, Any] = {}
    for page_relevant, asked in order or _asking_order(questionnaire):
        if page_relevant is not None and not page_relevant.evaluate(values):
            continue
        on_page: dict[str, Any] = {}
        seen: dict[str, Any] = {}
        for ask in asked:
            if ask.relevant is not None and not ask.relevant.evaluate(values):
                continue
            question = ask.item
            for _attempt in range(5):
                value = person.answer(question)
                if value is None or question.constraint is None:
                    break
                trial = {**values, question.code: value}
                if question.constraint.evaluate(trial, value):
                    break
            else:
                value = None
            if value is None and question.required:
                value = person.choose(question) if question.options else str(question.min or 1)
            if value not in (None, []):
                on_page[question.code] = value
                if not (ask.missing and isinstance(value, str) and value in ask.missing):
                    seen[question.code] = value
        answers.update(on_page)
        values.update(seen)
    return answers


#: Responses generated and written at a time. A flush per response made 20,000 take 19 minutes.
BATCH = 2000

Batch = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def seed_demo(session: Session, count: int, seed: int = 2025) -> dict[str, int]:
    """Add `count` complete citizen responses (and a quarter as many leaders, a tenth delegates).

    The same seed gives the same responses, drawn in the same order, whatever the batch size.
    A thread draws the next batch while the database stores this one.
    """
    rng = random.Random(seed + demo_response_count(session))
    wave = demo_wave(session)
    versions = latest_versions(session)
    plan = {"citizen": count, "leader": max(1, count // 4), "delegate": max(1, count // 10)}
    made: dict[str, int] = {}
    groups = []
    for code, n in plan.items():
        version = versions.get(code)
        if version is not None and n > 0:
            groups.append((code, version.id, definition(version), n))
            made[code] = n
    batches = _batches(rng, wave.id, groups, utcnow())
    with _answer_keys_checked_at_end(session), ThreadPoolExecutor(max_workers=1) as drawing:
        pending = drawing.submit(next, batches, None)
        while (batch := pending.result()) is not None:
            pending = drawing.submit(next, batches, None)
            _insert(session, *batch)
    return made


@contextmanager
def _answer_keys_checked_at_end(session: Session) -> Iterator[None]:
    """On PostgreSQL, the answers' foreign keys checked once for all the rows, not per row.

    A key checked per row runs a query per answer (two thirds of the time the database took to
    store 5.3 million answers); a key added to a full table is checked by one join. So the keys
    are dropped and added again, as they were, in the caller's transaction: nothing is committed
    unchecked, and an answer without its response makes the whole seeding fail. The tables are
    locked (ACCESS EXCLUSIVE) until the transaction ends: this is demo data, not fieldwork.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        yield  # SQLite checks a key with an index lookup in the same process: cheap
        return
    keys = connection.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'answer'::regclass AND contype = 'f' ORDER BY conname"
        )
    ).all()
    quote = connection.dialect.identifier_preparer.quote
    for name, _ in keys:
        connection.execute(text(f"ALTER TABLE answer DROP CONSTRAINT {quote(name)}"))
    yield
    for name, key in keys:
        connection.execute(text(f"ALTER TABLE answer ADD CONSTRAINT {quote(name)} {key}"))


def _batches(rng: random.Random, wave_id: int, groups, today: dt.datetime) -> Iterator[Batch]:
    """Responses (as rows of the response table) and their answers, BATCH at a time."""
    for code, version_id, questionnaire, n in groups:
        district = questionnaire.by_code.get("district")
        k = len(district.options) if district else 0
        # Districts near the capital are easier to reach: earlier districts are over-sampled.
        district_weights = [1.0 / (1 + 0.25 * i) for i in range(k)]
        draws: dict[str, _Draw] = {}
        order = _asking_order(questionnaire)
        last_page = len(questionnaire.pages) - 1
        responses: list[dict[str, Any]] = []
        answers: list[dict[str, Any]] = []
        for number in range(1, n + 1):
            person = _Respondent(rng, draws, district_weights)
            answers.append(synthetic_answers(questionnaire, person, order))
            started = today - dt.timedelta(days=rng.randint(0, 20), minutes=rng.randint(0, 1440))
            finished = started + dt.timedelta(seconds=rng.randint(240, 1500))
            responses.append(
                {
                    "wave_id": wave_id,
                    "questionnaire_code": code,
                    "questionnaire_version_id": version_id,
                    "key_hash": response_key_for_resume_code(f"demo-{rng.getrandbits(128):032x}"),
                    "status": "complete",
                    "language": rng.choice(["vi", "vi", "vi", "en"]),
                    "page_index": last_page,
                    "furthest_page": last_page,
                    "started_at": started,
                    "updated_at": finished,
                    "completed_at": finished,
                }
            )
            if len(responses) == BATCH or number == n:
                yield responses, answers
                responses, answers = [], []


def _insert(session: Session, responses: list[dict], answers: list[dict[str, Any]]) -> None:
    """Write a batch of responses and their answers: by COPY on PostgreSQL (the ids taken from
    the sequence first), where an executemany sends one statement a row; on SQLite one INSERT
    of the responses returning their ids in order, then sqlite3's executemany of the answers."""
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        ids = session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence('response', 'id'))"
                " FROM generate_series(1, :n)"
            ),
            {"n": len(responses)},
        ).all()
    else:
        ids = session.scalars(
            insert(Response).returning(Response.id, sort_by_parameter_order=True), responses
        ).all()
    rows = [
        (response_id, c, " ".join(v) if isinstance(v, list) else str(v))
        for response_id, given in zip(ids, answers, strict=True)
        for c, v in given.items()
    ]
    if not postgres:
        # the driver's executemany of tuples: SQLAlchemy's costs a dict and more a row
        connection.connection.driver_connection.executemany(
            "INSERT INTO answer (response_id, item_code, value) VALUES (?, ?, ?)", rows
        )
        return
    columns = list(responses[0])
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY response (id, {', '.join(columns)}) FROM STDIN") as copy:
            for response_id, response in zip(ids, responses, strict=True):
                copy.write_row([response_id, *response.values()])
        with cursor.copy("COPY answer (response_id, item_code, value) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
