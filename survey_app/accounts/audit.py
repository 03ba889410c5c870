"""The audit log: every login, import, quota change and export, with who, what and when."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user
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
    if has_request_context():
        ip = request.remote_addr
        if actor is None and current_user and current_user.is_authenticated:
            actor, user_id = current_user.email, current_user.id
    event = AuditEvent(
        actor=actor or "cli", user_id=user_id, action=action, details=details or {}, ip=ip
    )
    session.add(event)
    return event
