"""One response as an admin sees it (answers and how they came, never who gave them), marked
invalid with a reason or restored. Both change the quota counts in the same transaction and are
logged; an invalid response counts nowhere (`fieldwork.counted`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..accounts import audit
from ..models import Answer, Response, User, utcnow
from ..questionnaire.definition import Item, Questionnaire
from ..questionnaire.flow import decode_all, expression_values
from ..questionnaire.store import definition
from . import quotas
from .counted import counted_condition, real_condition

#: Responses listed on one page of the responses list.
PER_PAGE = 50
REASON_LENGTH = 500


@dataclass
class Listed:
    id: int
    status: str
    mode: str
    version: int
    completed_on: object
    invalid: bool


def responses_of(
    session: Session, wave_id: int, code: str, page: int = 1, status: str | None = None
) -> tuple[list[Listed], int]:
    """A page of a questionnaire's responses in a wave, newest number first, and how many there
    are. Days only: the list must not say more of a response than the export does."""
    # Test responses are an admin's own try-outs: they have their own page and are never
    # reviewed beside real ones.
    scope = [Response.wave_id == wave_id, Response.questionnaire_code == code, real_condition()]
    if status == "invalid":
        scope += [Response.status == "complete", ~counted_condition()]
    elif status:
        scope.append(Response.status == status)
    total = session.scalar(select(func.count()).where(*scope)) or 0
    rows = session.execute(
        select(Response)
        .where(*scope)
        .order_by(Response.id.desc())
        .offset((max(page, 1) - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).scalars()
    listed = [
        Listed(
            r.id,
            r.status,
            r.mode,
            r.version.version,
            r.completed_at.date() if r.completed_at else None,
            r.invalidated_at is not None,
        )
        for r in rows
    ]
    return listed, total


@dataclass
class ShownAnswer:
    item: Item
    stored: str
    #: The chosen options' labels (choices), or None for a typed answer.
    options: list | None


@dataclass
class ResponseView:
    response: Response
    questionnaire: Questionnaire
    answers: list[ShownAnswer]
    entered_by: str | None


def response_in(session: Session, wave_id: int, code: str, response_id: int) -> Response | None:
    return session.scalars(
        select(Response).where(
            Response.id == response_id,
            Response.wave_id == wave_id,
            Response.questionnaire_code == code,
        )
    ).first()


def view_of(session: Session, response: Response) -> ResponseView:
    """The response's answers in the questionnaire's order, with their options' labels."""
    questionnaire = definition(response.version)
    stored = _stored(session, response.id)
    shown = []
    for item in questionnaire.questions:
        if item.code not in stored:
            continue
        value = stored[item.code]
        options = None
        if item.options:
            keys = value.split(" ") if item.type == "multiple" else [value]
            options = [item.option(key) or key for key in keys]
        shown.append(ShownAnswer(item, value, options))
    entered_by = None
    if response.entered_by_id is not None:
        user = session.get(User, response.entered_by_id)
        entered_by = user.email if user is not None else None
    return ResponseView(response, questionnaire, shown, entered_by)


def _stored(session: Session, response_id: int) -> dict[str, str]:
    return dict(
        session.execute(
            select(Answer.item_code, Answer.value).where(Answer.response_id == response_id)
        ).all()
    )


def _profile_values(session: Session, response: Response) -> dict:
    questionnaire = definition(response.version)
    return expression_values(
        questionnaire, decode_all(questionnaire, _stored(session, response.id))
    )


class CannotInvalidate(ValueError):
    """Only a complete response that counts can be marked invalid."""


def invalidate(session: Session, response_id: int, reason: str) -> Response:
    """Mark a complete response invalid, in the caller's transaction: it leaves the quota counts,
    the dashboard, the exports and the weighting; logged with the reason."""
    reason = reason.strip()
    if not reason:
        raise CannotInvalidate("reason")
    response = session.scalars(
        select(Response)
        .where(Response.id == response_id, Response.status == "complete", counted_condition())
        .with_for_update()
    ).first()
    if response is None:
        raise CannotInvalidate("state")
    session.execute(
        update(Response)
        .where(Response.id == response_id)
        .values(invalidated_at=utcnow(), invalid_reason=reason[:REASON_LENGTH])
    )
    quotas.take_out(
        session,
        response.wave_id,
        response.questionnaire_code,
        _profile_values(session, response),
    )
    audit.record(
        session,
        "response_invalidated",
        {"response": response_id, "questionnaire": response.questionnaire_code, "reason": reason},
    )
    session.refresh(response)
    return response


def restore(session: Session, response_id: int) -> Response | None:
    """Count an invalid response again (its quota cells too); logged. None if it is not invalid."""
    response = session.scalars(
        select(Response)
        .where(Response.id == response_id, Response.invalidated_at.is_not(None))
        .with_for_update()
    ).first()
    if response is None:
        return None
    reason = response.invalid_reason
    session.execute(
        update(Response)
        .where(Response.id == response_id)
        .values(invalidated_at=None, invalid_reason=None)
    )
    quotas.put_back(
        session,
        response.wave_id,
        response.questionnaire_code,
        _profile_values(session, response),
    )
    audit.record(
        session,
        "response_restored",
        {"response": response_id, "questionnaire": response.questionnaire_code, "reason": reason},
    )
    session.refresh(response)
    return response
