"""Waves as the commands need them: the default wave of a fresh install."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Wave, WaveQuestionnaire, utcnow
from ..questionnaire.store import latest_versions


def ensure_default_wave(session: Session) -> Wave | None:
    """Open every loaded questionnaire in one wave when no wave exists, so a fresh install takes
    responses at once. Returns the wave it made, or None when there were waves already."""
    if session.scalars(select(Wave).limit(1)).first() is not None:
        return None
    year = utcnow().year
    wave = Wave(
        code=f"wave-{year}",
        title={"vi": f"Đợt khảo sát năm {year}", "en": f"Survey wave {year}"},
        status="open",
    )
    wave.questionnaires = [
        WaveQuestionnaire(questionnaire_code=c) for c in latest_versions(session)
    ]
    session.add(wave)
    session.flush()
    return wave


def wave_by_code(session: Session, code: str) -> Wave | None:
    return session.scalars(select(Wave).where(Wave.code == code)).first()


def wave_for(session: Session, questionnaire_code: str, wave_code: str | None) -> Wave | None:
    """The wave named, or else the newest wave that carries the questionnaire."""
    query = (
        select(Wave)
        .join(WaveQuestionnaire)
        .where(WaveQuestionnaire.questionnaire_code == questionnaire_code)
    )
    if wave_code:
        query = query.where(Wave.code == wave_code)
    return session.scalars(query.order_by(Wave.created_at.desc(), Wave.id.desc())).first()
