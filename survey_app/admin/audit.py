"""The audit log, for admins."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import func, select

from ..accounts.auth import role_required
from ..extensions import db
from ..models import AuditEvent
from .blueprint import bp

PAGE_SIZE = 100


@bp.get("/audit")
@role_required("admin")
def audit_log():
    page = max(1, request.args.get("page", 1, type=int))
    action = request.args.get("action") or None
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    count = select(func.count(AuditEvent.id))
    if action:
        query = query.where(AuditEvent.action == action)
        count = count.where(AuditEvent.action == action)
    events = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    total = db.session.scalar(count)
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    return render_template(
        "admin/audit.html",
        events=events,
        page=page,
        total=total,
        pages=max(1, -(-total // PAGE_SIZE)),
        action=action,
        actions=list(actions),
    )
