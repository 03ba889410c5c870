"""Questionnaire versions in the database: load files as snapshots, read them back (cached)."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from ..models import QuestionnaireVersion, Response
from .definition import Questionnaire
from .validate import QuestionnaireInvalid, from_snapshot, load_directory

#: (version id, content hash) -> parsed definition; a stored version changes only before answers.
_cache: dict[tuple[int, str], Questionnaire] = {}
_cache_lock = threading.Lock()


def content_hash(definition: dict) -> str:
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class SyncResult:
    code: str
    version: int
    action: str  # "unchanged", "created", "new version", "updated"


def sync_questionnaires(session: Session, directory: str | Path) -> list[SyncResult]:
    """Store every questionnaire of `directory`; refuses the whole folder if any file is invalid.

    A changed file replaces its latest version while nobody has answered it, and becomes a new
    version once somebody has: responses keep the version they were answered on.
    """
    questionnaires, problems = load_directory(Path(directory))
    if problems:
        raise QuestionnaireInvalid(problems)
    results = [store_version(session, questionnaire) for questionnaire in questionnaires]
    session.flush()
    return results


def store_version(session: Session, questionnaire: Questionnaire) -> SyncResult:
    """Store one validated questionnaire (a file, or an imported XLSForm) under its code."""
    digest = content_hash(questionnaire.raw)
    latest = latest_version(session, questionnaire.code)
    if latest is not None and latest.content_hash == digest:
        return SyncResult(questionnaire.code, latest.version, "unchanged")
    answered = latest is not None and session.scalar(
        select(exists().where(Response.questionnaire_version_id == latest.id))
    )
    if latest is not None and not answered:
        latest.definition = questionnaire.raw
        latest.content_hash = digest
        latest.group = questionnaire.group
        latest.access = questionnaire.access
        _forget(latest.id)
        return SyncResult(questionnaire.code, latest.version, "updated")
    version = (latest.version + 1) if latest is not None else 1
    session.add(
        QuestionnaireVersion(
            code=questionnaire.code,
            version=version,
            group=questionnaire.group,
            access=questionnaire.access,
            content_hash=digest,
            definition=questionnaire.raw,
        )
    )
    session.flush()
    return SyncResult(questionnaire.code, version, "created" if latest is None else "new version")


def latest_version(session: Session, code: str) -> QuestionnaireVersion | None:
    return session.scalars(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.code == code)
        .order_by(QuestionnaireVersion.version.desc())
        .limit(1)
    ).first()


def version_of(session: Session, code: str, number: int) -> QuestionnaireVersion | None:
    return session.scalars(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.code == code, QuestionnaireVersion.version == number
        )
    ).first()


def version_numbers(session: Session) -> dict[str, list[int]]:
    """{code: its stored version numbers, newest first}."""
    numbers: dict[str, list[int]] = {}
    for code, number in session.execute(
        select(QuestionnaireVersion.code, QuestionnaireVersion.version).order_by(
            QuestionnaireVersion.code, QuestionnaireVersion.version.desc()
        )
    ):
        numbers.setdefault(code, []).append(number)
    return numbers


def latest_versions(session: Session) -> dict[str, QuestionnaireVersion]:
    newest = (
        select(QuestionnaireVersion.code, func.max(QuestionnaireVersion.version).label("v"))
        .group_by(QuestionnaireVersion.code)
        .subquery()
    )
    rows = session.scalars(
        select(QuestionnaireVersion).join(
            newest,
            (QuestionnaireVersion.code == newest.c.code)
            & (QuestionnaireVersion.version == newest.c.v),
        )
    )
    return {row.code: row for row in rows}


def definition(version: QuestionnaireVersion) -> Questionnaire:
    """The parsed questionnaire of a stored version; versions never change once answered."""
    key = (version.id, version.content_hash)
    found = _cache.get(key)
    if found is None:
        found = from_snapshot(version.definition)
        with _cache_lock:
            _cache[key] = found
    return found


def definition_of(session: Session, version_id: int, digest: str) -> Questionnaire:
    """The parsed questionnaire of a version known by id and hash: no query when cached."""
    found = _cache.get((version_id, digest))
    if found is not None:
        return found
    version = session.get(QuestionnaireVersion, version_id)
    return definition(version)


def _forget(version_id: int) -> None:
    with _cache_lock:
        for key in [key for key in _cache if key[0] == version_id]:
            _cache.pop(key, None)


def every_version(session: Session) -> list[QuestionnaireVersion]:
    """Every stored version, by questionnaire code, the newest first."""
    return list(
        session.scalars(
            select(QuestionnaireVersion).order_by(
                QuestionnaireVersion.code, QuestionnaireVersion.version.desc()
            )
        )
    )
