"""The audit log, for admins."""

from __future__ import annotations

from flask import render_template, request

from ..accounts import audit, audit_names
from ..accounts.auth import role_required
from ..extensions import db
from ..urls import int_arg
from .blueprint import bp

PAGE_SIZE = 100


@bp.get("/audit")
@role_required("admin")
def audit_log():
    page = max(1, int_arg("page", 1, largest=10**6))
    action = request.args.get("action") or None
    events, total, actions = audit.page_of_events(db.session, page, PAGE_SIZE, action)
    return render_template(
        "admin/audit.html",
        events=events,
        page=page,
        total=total,
        pages=max(1, -(-total // PAGE_SIZE)),
        action=action,
        actions=actions,
        names=audit_names,
    )
