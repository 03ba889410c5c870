"""Synthetic demo data: a wave of realistic, seeded responses that need weighting.

Field samples at one-stop shops over-represent some groups (here: men, people of working age, the
districts near the provincial capital), so unweighted figures differ from weighted ones.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ..fieldwork.tokens import response_key_for_resume_code
from ..fieldwork.waves import wave_by_code
from ..models import Answer, Response, Wave, WaveQuestionnaire, utcnow
from ..questionnaire.definition import Item, Questionnaire
from ..questionnaire.flow import expression_values, page_is_relevant, question_is_relevant
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


class _Respondent:
    """One synthetic person: a general mood plus noise, profile drawn with field-sample skews."""

    def __init__(self, rng: random.Random, district_weights: list[float]) -> None:
        self.rng = rng
        self.mood = rng.gauss(0.0, 0.9)
        self.district_weights = district_weights

    def choose(self, item: Item) -> Any:
        rng = self.rng
        options = item.options
        if item.code == "sex" and {o.key for o in options} >= set(SEX_SKEW):
            return "male" if rng.random() < SEX_SKEW["male"] else "female"
        if item.code == "age_group":
            weights = [0.8, 1.6, 1.2, 0.4][: len(options)] + [1.0] * max(0, len(options) - 4)
            return rng.choices(options, weights=weights)[0].key
        if item.code == "district":
            return rng.choices(options, weights=self.district_weights[: len(options)])[0].key
        valued = [o for o in options if not o.missing and isinstance(o.value, int)]
        missing = [o for o in options if o.missing]
        if missing and rng.random() < DONT_KNOW_RATE:
            return missing[0].key
        if len(valued) >= 3 and len(valued) == len([o for o in options if not o.missing]):
            # An ordered scale: lean towards the top, shifted by the respondent's mood.
            low, high = min(o.value for o in valued), max(o.value for o in valued)
            centre = low + (high - low) * 0.72 + self.mood * (high - low) / 4
            target = round(min(high, max(low, rng.gauss(centre, (high - low) / 4))))
            return str(target)
        candidates = [o for o in options if not o.missing] or options
        return rng.choice(candidates).key

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


def synthetic_answers(questionnaire: Questionnaire, person: _Respondent) -> dict[str, Any]:
    """Answers that follow the questionnaire's relevance and constraints, page by page."""
    answers: dict[str, Any] = {}
    for page in questionnaire.pages:
        values = expression_values(questionnaire, answers)
        if not page_is_relevant(page, values):
            continue
        for question in page.questions:
            if not question_is_relevant(question, values):
                continue
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
                answers[question.code] = value
    return answers


def seed_demo(session: Session, count: int, seed: int = 2025) -> dict[str, int]:
    """Add `count` complete citizen responses (and a quarter as many leaders, a tenth delegates)."""
    rng = random.Random(seed + demo_response_count(session))
    wave = demo_wave(session)
    versions = latest_versions(session)
    plan = {"citizen": count, "leader": max(1, count // 4), "delegate": max(1, count // 10)}
    made: dict[str, int] = {}
    today = utcnow()
    for code, n in plan.items():
        version = versions.get(code)
        if version is None or n <= 0:
            continue
        questionnaire = definition(version)
        district = questionnaire.by_code.get("district")
        k = len(district.options) if district else 0
        # Districts near the capital are easier to reach: earlier districts are over-sampled.
        district_weights = [1.0 / (1 + 0.25 * i) for i in range(k)]
        for _ in range(n):
            person = _Respondent(rng, district_weights)
            answers = synthetic_answers(questionnaire, person)
            started = today - dt.timedelta(days=rng.randint(0, 20), minutes=rng.randint(0, 1440))
            finished = started + dt.timedelta(seconds=rng.randint(240, 1500))
            response = Response(
                wave_id=wave.id,
                questionnaire_code=code,
                questionnaire_version_id=version.id,
                key_hash=response_key_for_resume_code(f"demo-{rng.getrandbits(128):032x}"),
                status="complete",
                language=rng.choice(["vi", "vi", "vi", "en"]),
                page_index=len(questionnaire.pages) - 1,
                furthest_page=len(questionnaire.pages) - 1,
                started_at=started,
                updated_at=finished,
                completed_at=finished,
            )
            session.add(response)
            session.flush()
            rows = [
                {
                    "response_id": response.id,
                    "item_code": c,
                    "value": " ".join(v) if isinstance(v, list) else str(v),
                }
                for c, v in answers.items()
            ]
            if rows:
                session.execute(insert(Answer), rows)
        made[code] = n
    return made
