"""The rules of answering: which survey is open, who holds which response, saving a page."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.orm import Session

from ..fieldwork import quotas
from ..models import (
    Answer,
    QuestionnaireVersion,
    Quota,
    Response,
    SiteLink,
    Wave,
    WaveQuestionnaire,
    utcnow,
)
from ..questionnaire.definition import Page, Questionnaire
from ..questionnaire.flow import (
    encode,
    expression_values,
    next_page,
    page_is_relevant,
    previous_page,
    question_is_relevant,
)
from ..questionnaire.store import definition, definition_of, latest_version

#: Crockford's base32 without I, L, O, U: nothing a respondent can misread when copying it.
RESUME_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RESUME_LENGTH = 16  # 80 bits


def new_resume_code() -> str:
    return "".join(secrets.choice(RESUME_ALPHABET) for _ in range(RESUME_LENGTH))


def format_resume_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalize_resume_code(text: str) -> str | None:
    cleaned = (text or "").upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(cleaned) != RESUME_LENGTH or any(c not in RESUME_ALPHABET for c in cleaned):
        return None
    return cleaned


# --- waves --------------------------------------------------------------------------------------


@dataclass
class Availability:
    state: str  # "open", "not_yet_open", "closed", "unknown"
    wave: Wave | None = None
    version: QuestionnaireVersion | None = None
    opens_at: dt.datetime | None = None


def wave_is_open(wave: Wave | WaveWindow, now: dt.datetime) -> bool:
    return (
        wave.status == "open"
        and (wave.opens_at is None or wave.opens_at <= now)
        and (wave.closes_at is None or now < wave.closes_at)
    )


def availability(session: Session, code: str, now: dt.datetime | None = None) -> Availability:
    """Whether questionnaire `code` takes responses now, and in which wave."""
    now = now or utcnow()
    version = latest_version(session, code)
    if version is None:
        return Availability("unknown")
    waves = session.scalars(
        select(Wave)
        .join(WaveQuestionnaire)
        .where(WaveQuestionnaire.questionnaire_code == code)
        .order_by(Wave.created_at.desc(), Wave.id.desc())
    ).all()
    for wave in waves:
        if wave_is_open(wave, now):
            return Availability("open", wave, version)
    upcoming = [w for w in waves if w.status == "open" and w.opens_at and w.opens_at > now]
    if upcoming:
        first = min(upcoming, key=lambda w: w.opens_at)
        return Availability("not_yet_open", first, version, first.opens_at)
    if waves:
        return Availability("closed", waves[0], version)
    return Availability("closed", None, version)


def wave_availability(wave: Wave | None, now: dt.datetime | None = None) -> Availability:
    """Whether one wave takes responses now (an invitation names its wave)."""
    now = now or utcnow()
    if wave is not None and wave_is_open(wave, now):
        return Availability("open", wave)
    if wave is not None and wave.opens_at and wave.opens_at > now:
        return Availability("not_yet_open", wave, None, wave.opens_at)
    return Availability("closed", wave, None, wave.opens_at if wave else None)


def open_questionnaires(session: Session, now: dt.datetime | None = None) -> list[tuple]:
    """(wave, version) of every questionnaire that takes responses now, newest wave first."""
    now = now or utcnow()
    found: dict[str, tuple] = {}
    rows = session.execute(
        select(Wave, WaveQuestionnaire.questionnaire_code)
        .join(WaveQuestionnaire)
        .where(Wave.status == "open")
        .order_by(Wave.created_at.desc(), Wave.id.desc())
    ).all()
    for wave, code in rows:
        if code in found or not wave_is_open(wave, now):
            continue
        version = latest_version(session, code)
        if version is not None:
            found[code] = (wave, version)
    return sorted(found.values(), key=lambda pair: pair[1].code)


# --- answers ------------------------------------------------------------------------------------


# --- responses ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaveWindow:
    """The part of a wave that decides whether it takes answers now."""

    id: int
    status: str
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None


@dataclass(frozen=True)
class Held:
    """What a page needs to know of a response and its wave, read in one query."""

    response_id: int
    status: str
    page_index: int
    furthest_page: int
    version_id: int
    content_hash: str
    wave: WaveWindow
    started_at: dt.datetime
    questionnaire_code: str
    #: Answered by invitation: times kept to the day, no duration (docs/security.md).
    anonymous: bool
    #: Typed in from paper by an interviewer: the time taken is the typing's, not an answer's.
    paper: bool = False
    #: An admin's test response: counted nowhere (`fieldwork.counted`).
    test: bool = False
    #: Started by a site link: its id and the answer it gives to the questionnaire's `site_item`.
    site_link_id: int | None = None
    site_value: str | None = None
    #: The wave has quotas for this questionnaire: without any, a save reads none.
    has_quotas: bool = True

    def questionnaire(self, session: Session) -> Questionnaire:
        return definition_of(session, self.version_id, self.content_hash)


def _hold_query(lock: bool):
    """The query of `hold`, built once: the key is a bound parameter."""
    has_quotas = (
        select(Quota.id)
        .where(
            Quota.wave_id == Response.wave_id,
            Quota.questionnaire_code == Response.questionnaire_code,
        )
        .exists()
    )
    query = (
        select(
            Response.id,
            Response.status,
            Response.page_index,
            Response.furthest_page,
            Response.questionnaire_version_id,
            QuestionnaireVersion.content_hash,
            Wave.id,
            Wave.status,
            Wave.opens_at,
            Wave.closes_at,
            Response.started_at,
            Response.questionnaire_code,
            QuestionnaireVersion.access,
            Response.mode,
            Response.test,
            Response.site_link_id,
            SiteLink.site_value,
            has_quotas,
            Answer.item_code,
            Answer.value,
        )
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_version_id)
        .join(Wave, Wave.id == Response.wave_id)
        .outerjoin(SiteLink, SiteLink.id == Response.site_link_id)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(Response.key_hash == bindparam("key_hash"))
    )
    if lock:
        query = query.with_for_update(of=Response)
    return query


_HOLD_QUERIES = {False: _hold_query(False), True: _hold_query(True)}


def hold(session: Session, key_hash: str, lock: bool = False) -> tuple[Held, dict] | None:
    """The response behind a respondent's secret, with its stored answers and whether its wave
    has quotas for it, in one round trip.

    `lock` holds the response's row to the end of the transaction, so concurrent saves of one
    response happen one after the other and each reads what the previous one wrote.
    """
    rows = session.connection().execute(_HOLD_QUERIES[lock], {"key_hash": key_hash}).all()
    if not rows:
        return None
    first = rows[0]
    wave = WaveWindow(first[6], first[7], first[8], first[9])
    held = Held(
        *first[:6],
        wave,
        first[10],
        first[11],
        first[12] == "invitation",
        paper=first[13] == "paper",
        test=bool(first[14]),
        site_link_id=first[15],
        site_value=first[16],
        has_quotas=bool(first[17]),
    )
    stored = {row[18]: row[19] for row in rows if row[18] is not None}
    return held, stored


def read_without_transaction(session: Session) -> None:
    """Let the session's next statements run each on its own, outside a transaction, when
    nothing has begun yet (PostgreSQL): a page shown from one read needs no BEGIN and ROLLBACK,
    two round trips of the three. Only for requests that write nothing."""
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def find_response(session: Session, key_hash: str) -> Response | None:
    return session.scalars(select(Response).where(Response.key_hash == key_hash)).first()


def start_response(
    session: Session,
    wave: Wave,
    version: QuestionnaireVersion,
    key_hash: str,
    language: str,
    started_at: dt.datetime,
    entered_by: int | None = None,
    test: bool = False,
    site_link_id: int | None = None,
) -> Response:
    """A new response, made when its first page is saved (pressing Start stores nothing, so a
    double click or a bot on the open link leaves no empty responses behind). `entered_by`: the
    interviewer typing in a paper form, whose response is then of mode paper; `test`: an
    admin's try; `site_link_id`: the site link it came by."""
    questionnaire = definition(version)
    first = next_page(questionnaire, {}, -1) or 0
    response = Response(
        wave_id=wave.id,
        questionnaire_code=version.code,
        questionnaire_version_id=version.id,
        key_hash=key_hash,
        language=language,
        page_index=first,
        furthest_page=first,
        started_at=started_at,
        updated_at=started_at,
        mode="paper" if entered_by is not None else "web",
        entered_by_id=entered_by,
        test=test,
        site_link_id=site_link_id,
    )
    session.add(response)
    session.flush()
    return response


def fixed_answers(questionnaire: Questionnaire, site_value: str | None) -> dict[str, str]:
    """The answers a site link gives: its value for the questionnaire's `site_item`, which the
    respondent is then not asked."""
    if site_value is None or questionnaire.site_item is None:
        return {}
    return {questionnaire.site_item: site_value}


def day_start(moment: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The UTC moment (naive, as stored) at which `moment`'s local day began: what an invited
    response keeps of every time, so it falls on the right day in the dashboard's time zone."""
    local = moment.replace(tzinfo=dt.UTC).astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(dt.UTC).replace(tzinfo=None)


def upsert_answers(session: Session, rows: list[dict]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE for a whole page, as one executemany of one cached
    statement (psycopg pipelines it): no delete-then-insert, no per-request compilation."""
    connection = session.connection()
    statement = _UPSERTS.get(connection.dialect.name)
    if statement is None:
        if connection.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        table = Answer.__table__
        base = dialect_insert(table)
        statement = base.on_conflict_do_update(
            index_elements=[table.c.response_id, table.c.item_code],
            set_={"value": base.excluded.value},
        )
        _UPSERTS[connection.dialect.name] = statement
    connection.execute(statement, rows)


_UPSERTS: dict[str, Any] = {}


@dataclass
class SaveOutcome:
    kind: str  # "page", "complete", "screened_out", "already_complete"
    page_index: int | None = None


def _merged(page: Page, answers: dict[str, Any], submitted: dict[str, Any]):
    """The answers once this page is saved, with the rows to write and the codes to clear."""
    rows, cleared = [], []
    answers = dict(answers)
    for question in page.questions:
        value = submitted.get(question.code)
        stored = encode(question, value)
        if stored is not None:
            rows.append((question.code, stored))
            answers[question.code] = value
        elif answers.pop(question.code, None) is not None:
            cleared.append(question.code)
    return answers, rows, cleared


def finishes(
    questionnaire: Questionnaire,
    page: Page,
    answers: dict[str, Any],
    submitted: dict[str, Any],
    direction: str,
) -> bool:
    """Whether saving this page ends the questionnaire (no relevant page after it)."""
    if direction in ("back", "stay"):
        return False
    merged, _rows, _cleared = _merged(page, answers, submitted)
    return next_page(questionnaire, expression_values(questionnaire, merged), page.index) is None


def save_page(
    session: Session,
    held: Held,
    questionnaire: Questionnaire,
    page: Page,
    answers: dict[str, Any],
    submitted: dict[str, Any],
    direction: str,
    language: str,
    now: dt.datetime,
) -> SaveOutcome:
    """Store one page's answers and move on (`direction` next or back), or stay on the page
    (`stay`: the respondent switched language), in the caller's transaction.

    The caller holds the response's row lock (`hold(..., lock=True)`) and read `answers` after
    taking it, so a double click or a replayed POST waits for the first and then finds the
    response complete: it stores nothing more. `now` is what is stored as the time (the day
    only, for an invited response). Nothing here touches an invitation.
    """
    if held.status != "in_progress":
        return SaveOutcome("already_complete")
    response_id = held.response_id
    answers, written, cleared = _merged(page, answers, submitted)
    if cleared:
        session.execute(
            delete(Answer).where(Answer.response_id == response_id, Answer.item_code.in_(cleared))
        )
    if direction == "stay":
        # the language changes, the page stays: what was typed is kept, nothing is decided yet
        _write_page(session, response_id, written, {"updated_at": now, "language": language})
        return SaveOutcome("page", page.index)
    values = expression_values(questionnaire, answers)
    if direction == "back":
        target = previous_page(questionnaire, values, page.index)
        target = page.index if target is None else target
    else:
        target = next_page(questionnaire, values, page.index)
    if target is None:
        _write_answers(session, response_id, written)
        return _complete(session, held, questionnaire, answers, values, language, now)
    decision = (
        quotas.check_open(session, held.wave.id, held.questionnaire_code, values)
        if held.has_quotas
        else quotas.QuotaDecision()
    )
    if decision.screened_out:
        _write_answers(session, response_id, written)
        return _screen_out(session, held, language, now)
    _write_page(
        session,
        response_id,
        written,
        {
            "page_index": target,
            "furthest_page": max(held.furthest_page, target),
            "updated_at": now,
            "language": language,
            "quota_cell_id": decision.cell_id,
        },
    )
    return SaveOutcome("page", target)


def _write_answers(session: Session, response_id: int, written: list[tuple[str, str]]) -> None:
    if written:
        upsert_answers(
            session, [{"response_id": response_id, "item_code": c, "value": v} for c, v in written]
        )


#: PostgreSQL: a page's answers upserted and its response moved on in one statement (the
#: INSERT in a WITH runs whether or not the UPDATE reads it), one round trip to the server and
#: one statement to plan instead of one per answer. Keyed by the response's columns set.
_PAGE_WRITES: dict[tuple[str, ...], Any] = {}


def _write_page(
    session: Session, response_id: int, written: list[tuple[str, str]], changes: dict
) -> None:
    """This page's answers stored and the response's row changed as `changes` says."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        _write_answers(session, response_id, written)
        session.execute(update(Response).where(Response.id == response_id).values(**changes))
        return
    columns = tuple(changes)
    statement = _PAGE_WRITES.get(columns)
    if statement is None:
        assignments = ", ".join(f"{column} = :{column}" for column in columns)
        statement = text(
            "WITH written AS (INSERT INTO answer (response_id, item_code, value) "
            "SELECT :response_id, code, value FROM unnest(CAST(:codes AS VARCHAR[]), "
            "CAST(:answer_values AS TEXT[])) AS page(code, value) "
            "ON CONFLICT (response_id, item_code) DO UPDATE SET value = EXCLUDED.value) "
            f"UPDATE response SET {assignments} WHERE id = :response_id"
        )
        _PAGE_WRITES[columns] = statement
    connection.execute(
        statement,
        {
            **changes,
            "response_id": response_id,
            "codes": [code for code, _value in written],
            "answer_values": [value for _code, value in written],
        },
    )


def _complete(
    session,
    held: Held,
    questionnaire: Questionnaire,
    answers: dict,
    values: dict,
    language: str,
    now: dt.datetime,
) -> SaveOutcome:
    """The last page: quota check and count, quality flags, status, all at once. A test
    response meets the quotas as a respondent would, but is not counted in them."""
    if not held.has_quotas:
        decision = quotas.QuotaDecision()
    elif held.test:
        decision = quotas.check_open(session, held.wave.id, held.questionnaire_code, values)
    else:
        decision = quotas.count_completion(session, held.wave.id, held.questionnaire_code, values)
    if decision.screened_out:
        return _screen_out(session, held, language, now)
    drop_irrelevant(session, held.response_id, questionnaire, answers)
    # An invited response keeps no duration: with the access log's times it would say whose it is.
    # A paper one neither: it would time the typing, and make a quick typist a "speeder".
    timed = not (held.anonymous or held.paper)
    duration = max(0, int((now - held.started_at).total_seconds())) if timed else None
    done = session.execute(
        update(Response)
        .where(Response.id == held.response_id, Response.status == "in_progress")
        .values(
            status="complete",
            completed_at=now,
            updated_at=now,
            language=language,
            quota_cell_id=decision.cell_id,
            over_quota=decision.over_quota,
            duration_seconds=duration,
            straightlined_grids=straightlined_grids(questionnaire, answers),
        )
    )
    if done.rowcount != 1:  # pragma: no cover - the row lock makes this unreachable
        return SaveOutcome("already_complete")
    return SaveOutcome("complete")


def _screen_out(session, held: Held, language: str, now: dt.datetime) -> SaveOutcome:
    session.execute(
        update(Response)
        .where(Response.id == held.response_id, Response.status == "in_progress")
        .values(status="screened_out", updated_at=now, completed_at=now, language=language)
    )
    return SaveOutcome("screened_out")


def straightlined_grids(questionnaire: Questionnaire, answers: dict) -> int:
    """Grids of three rows or more answered with one and the same option on every row."""
    count = 0
    for page in questionnaire.pages:
        for item in page.items:
            if item.type != "grid" or len(item.rows) < 3:
                continue
            given = [answers.get(row.code) for row in item.rows]
            if None not in given and len(set(given)) == 1:
                count += 1
    return count


def drop_irrelevant(
    session: Session, response_id: int, questionnaire: Questionnaire, answers: dict
) -> None:
    """Answers to questions that later changes made irrelevant are not kept.

    Relevance only looks at earlier pages, so one pass in page order, with only the answers kept
    so far, also drops the follow-ups of a follow-up.
    """
    all_values = expression_values(questionnaire, answers)
    kept: dict[str, Any] = {}
    stale = []
    for page in questionnaire.pages:
        page_shown = page_is_relevant(page, kept)
        for question in page.questions:
            if question.code not in answers:
                continue
            if page_shown and question_is_relevant(question, kept):
                if question.code in all_values:
                    kept[question.code] = all_values[question.code]
            else:
                stale.append(question.code)
    unknown = [code for code in answers if code not in questionnaire.by_code]
    if stale or unknown:
        session.execute(
            delete(Answer).where(
                Answer.response_id == response_id, Answer.item_code.in_(stale + unknown)
            )
        )
