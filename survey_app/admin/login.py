"""Login and logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..accounts import audit
from ..accounts.auth import authenticate, role_required
from ..extensions import db
from .blueprint import bp
from .forms import LoginForm


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect to another one."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        with db.transaction() as tx:
            result = authenticate(tx, form.email.data, form.password.data)
            if result.user is not None:
                audit.record(tx, "login", actor=result.user.email, user_id=result.user.id)
            else:
                audit.record(
                    tx,
                    "login_failed",
                    {"email": form.email.data.strip().lower()[:254]},
                    actor="anonymous",
                )
        if result.user is not None:
            session.clear()  # a fresh session after login: no fixation
            login_user(result.user)
            return redirect(_safe_next(request.args.get("next")) or url_for("admin.index"))
        if result.locked_until is not None:
            error = _(
                "Too many failed attempts. Try again after %(time)s.",
                time=format_datetime(result.locked_until, "short"),
            )
        else:
            error = _("The e-mail or password is not right.")
    status = 400 if error or form.errors else 200
    return render_template("admin/login.html", form=form, error=error), status


@bp.post("/logout")
@role_required("monitor")
def logout():
    with db.transaction() as tx:
        audit.record(tx, "logout")
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("admin.login"))


@bp.get("/")
@role_required("monitor")
def index():
    if current_user.role == "admin":
        return redirect(url_for("admin.waves"))
    return redirect(url_for("admin.monitor_home"))
