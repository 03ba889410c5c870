"""Login, logout and a staff member's own password change."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user

from ..accounts import audit, sessions
from ..accounts.auth import (
    ACCESS,
    MIN_PASSWORD_LENGTH,
    change_password,
    check_password,
    role_required,
)
from ..accounts.throttle import attempt_login
from ..extensions import db, limit_from, limiter
from .blueprint import bp
from .forms import LoginForm, PasswordForm


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect to another one."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _throttled_login(_limit=None):
    """The login form saying to wait: one answer for every throttle, whatever e-mail was typed."""
    error = _("Too many attempts. Try again in a few minutes.")
    page = render_template("admin/login.html", form=LoginForm(), error=error)
    return make_response(page, 429)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(limit_from("LOGIN_RATE_LIMIT"), methods=["POST"], on_breach=_throttled_login)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        with db.transaction() as tx:
            client = get_remote_address()  # the limiter's key: the same address for both counts
            attempt = attempt_login(tx, form.email.data, form.password.data, client)
        if attempt.user is not None:
            sessions.begin(attempt.user)
            return redirect(_safe_next(request.args.get("next")) or url_for("admin.index"))
        if attempt.throttled:
            return _throttled_login()
        error = _("The e-mail or password is not right.")
        return render_template("admin/login.html", form=form, error=error), 400
    status = 400 if form.errors else 200
    return render_template("admin/login.html", form=form, error=None), status


@bp.post("/logout")
@role_required("staff")
def logout():
    """Ends every session of the user, not only this browser's: a copied cookie dies too."""
    with db.transaction() as tx:
        sessions.end_everywhere(current_user)
        audit.record(tx, "logout")
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("admin.login"))


@bp.route("/password", methods=["GET", "POST"])
@role_required("staff")
@limiter.limit(limit_from("LOGIN_RATE_LIMIT"), methods=["POST"])
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not check_password(user, form.current_password.data):
            form.current_password.errors.append(_("This is not your current password."))
        else:
            with db.transaction() as tx:
                change_password(tx, user, form.new_password.data)
            sessions.begin(user)
            flash(_("Your password is changed. You were logged out everywhere else."), "info")
            return redirect(url_for("admin.index"))
    status = 400 if form.errors else 200
    page = render_template("admin/password.html", form=form, min_length=MIN_PASSWORD_LENGTH)
    return page, status


@bp.get("/")
@role_required("staff")
def index():
    if current_user.role in ("officer", "appraiser"):
        return redirect(url_for("appraisal.home"))
    if current_user.role == "admin":
        return redirect(url_for("admin.waves"))
    if current_user.role == "interviewer":
        return redirect(url_for("admin.paper_home"))
    if current_user.role not in ACCESS["monitor"]:
        abort(403)
    return redirect(url_for("admin.monitor_home"))
