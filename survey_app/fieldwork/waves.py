"""Waves: finding them, their questionnaires and response counts, saving them, and the default
wave of a fresh install."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from ..i18n import LANGUAGES
from ..models import Response, Wave, WaveQuestionnaire, utcnow
from ..questionnaire.store import latest_versions
from .counted import counted_condition, real_condition


def _in_every_language(text) -> dict[str, str]:
    """A text from the catalogs, in every language (a wave's title is stored per language)."""
    titles = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            titles[lang] = str(text())
    return titles


def ensure_default_wave(session: Session) -> Wave | None:
    """Open every loaded questionnaire in one wave when no wave exists, so a fresh install takes
    responses at once. Returns the wave it made, or None when there were waves already."""
    if session.scalars(select(Wave).limit(1)).first() is not None:
        return None
    year = utcnow().year
    wave = Wave(
        code=f"wave-{year}",
        title=_in_every_language(lambda: _("Survey wave %(year)s", year=year)),
        status="open",
    )
    wave.questionnaires = [
        WaveQuestionnaire(questionnaire_code=c) for c in latest_versions(session)
    ]
    session.add(wave)
    session.flush()
    return wave


def all_waves(session: Session) -> list[Wave]:
    """Every wave, the newest first."""
    return list(session.scalars(select(Wave).order_by(Wave.created_at.desc(), Wave.id.desc())))


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


def shared_open_questionnaires(session: Session) -> dict[str, list[Wave]]:
    """{questionnaire code: the open waves carrying it}, for the codes that more than one wave
    still open carries: the open link takes respondents to the newest of them only, so the older
    wave would quietly stop filling."""
    now = utcnow()
    carried: dict[str, list[Wave]] = {}
    for wave, code in wave_questionnaires(session):
        if wave.status == "open" and (wave.closes_at is None or wave.closes_at > now):
            carried.setdefault(code, []).append(wave)
    return {code: waves for code, waves in sorted(carried.items()) if len(waves) > 1}


def wave_questionnaires(session: Session) -> list[tuple[Wave, str]]:
    """Every (wave, questionnaire) pair, the newest wave first."""
    return [
        tuple(row)
        for row in session.execute(
            select(Wave, WaveQuestionnaire.questionnaire_code)
            .join(WaveQuestionnaire, WaveQuestionnaire.wave_id == Wave.id)
            .order_by(Wave.created_at.desc(), Wave.id.desc(), WaveQuestionnaire.questionnaire_code)
        )
    ]


def response_counts(
    session: Session, wave_id: int | None = None
) -> dict[tuple[int, str], Counter[str]]:
    """Responses by (wave, questionnaire) and status, in one grouped query; test responses are
    left out, and a complete response marked invalid has the status "invalid" here."""
    status = case(
        (and_(Response.status == "complete", ~counted_condition()), literal("invalid")),
        else_=Response.status,
    ).label("counted_status")
    query = (
        select(Response.wave_id, Response.questionnaire_code, status, func.count(Response.id))
        .where(real_condition())
        .group_by(Response.wave_id, Response.questionnaire_code, status)
    )
    if wave_id is not None:
        query = query.where(Response.wave_id == wave_id)
    counts: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    for wave, code, status, count in session.execute(query):
        counts[wave, code][status] = count
    return counts


def complete_by_wave(session: Session, wave_id: int | None = None) -> dict[int, dict[str, int]]:
    """Complete responses by wave and questionnaire (questionnaires with none left out)."""
    complete: dict[int, dict[str, int]] = defaultdict(dict)
    for (wave, code), by_status in response_counts(session, wave_id).items():
        if by_status["complete"]:
            complete[wave][code] = by_status["complete"]
    return complete


def complete_counts(session: Session, wave: Wave) -> dict[str, int]:
    """Complete responses of one wave by questionnaire."""
    return complete_by_wave(session, wave.id)[wave.id]


class WaveCodeTaken(ValueError):
    """Another wave has the code already."""


@dataclass
class WaveFields:
    code: str
    #: {language: title}
    title: dict[str, str]
    status: str
    #: UTC, naive, as stored
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    questionnaires: list[str]
    #: After this day the invitees' names and contacts are erased (`fieldwork.identities`).
    identities_kept_until: dt.date | None = None


def save_wave(session: Session, wave: Wave | None, fields: WaveFields) -> Wave:
    """Create a wave (`wave` None) or change one, in the caller's transaction. The
    questionnaires it keeps keep their rows; raises `WaveCodeTaken`."""
    taken = wave_by_code(session, fields.code)
    if taken is not None and taken is not wave:
        raise WaveCodeTaken(fields.code)
    if wave is None:
        wave = Wave(code=fields.code, title={})
        session.add(wave)
    wave.code = fields.code
    wave.title = dict(fields.title)
    wave.status = fields.status
    wave.opens_at = fields.opens_at
    wave.closes_at = fields.closes_at
    wave.identities_kept_until = fields.identities_kept_until
    chosen = set(fields.questionnaires)
    wave.questionnaires = [wq for wq in wave.questionnaires if wq.questionnaire_code in chosen]
    present = wave.questionnaire_codes
    wave.questionnaires.extend(
        WaveQuestionnaire(questionnaire_code=c) for c in sorted(chosen - present)
    )
    session.flush()
    return wave
