"""Test responses: what admins answer when they try a questionnaire out in a wave (the
respondent's pages with `Response.test` set). They count nowhere (`counted`); here they are
counted for the admin and deleted when testing is over."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..accounts import audit
from ..models import Answer, Response, Wave


def test_counts(session: Session, wave_id: int) -> dict[str, int]:
    """{questionnaire code: test responses, whatever their status} of one wave."""
    return dict(
        session.execute(
            select(Response.questionnaire_code, func.count(Response.id))
            .where(Response.wave_id == wave_id, Response.test.is_(True))
            .group_by(Response.questionnaire_code)
        ).all()
    )


def delete_test_responses(session: Session, wave: Wave) -> int:
    """Delete the wave's test responses and their answers, in the caller's transaction; logged.
    Returns how many were deleted."""
    ids = select(Response.id).where(Response.wave_id == wave.id, Response.test.is_(True))
    count = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    session.execute(delete(Answer).where(Answer.response_id.in_(ids)))
    session.execute(delete(Response).where(Response.wave_id == wave.id, Response.test.is_(True)))
    audit.record(session, "test_responses_deleted", {"wave": wave.code, "count": count})
    return count
