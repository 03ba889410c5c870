"""The audit log: every login, import, quota change and export, with who, what and when; kept
in the same transaction as the action, and read a page at a time."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import AuditEvent


def record(
    session: Session,
    action: str,
    details: dict[str, Any] | None = None,
    actor: str | None = None,
    user_id: int | None = None,
) -> AuditEvent:
    """Add an event to the caller's transaction: it is kept only if the action itself is."""
    ip = None
    # the system's own acts (a sending resumed) may run inside someone else's request: that
    # person's address is not theirs to carry
    if has_request_context() and actor != "system":
        ip = request.remote_addr
        if actor is None and current_user and current_user.is_authenticated:
            actor, user_id = current_user.email, current_user.id
    event = AuditEvent(
        actor=actor or "cli", user_id=user_id, action=action, details=details or {}, ip=ip
    )
    session.add(event)
    return event


def page_of_events(
    session: Session, page: int, size: int, action: str | None = None
) -> tuple[list[AuditEvent], int, list[str]]:
    """One page of the log, newest first, optionally of one action; how many events there are
    under the filter; and every action that occurs (for the filter's choices)."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    count = select(func.count(AuditEvent.id))
    if action:
        query = query.where(AuditEvent.action == action)
        count = count.where(AuditEvent.action == action)
    events = list(session.scalars(query.limit(size).offset((page - 1) * size)))
    actions = session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    return events, session.scalar(count), list(actions)
