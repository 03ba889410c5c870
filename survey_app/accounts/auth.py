"""Users: hashed passwords, roles checked on every admin route, lockout after failed logins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db, login_manager
from ..i18n import DEFAULT_LANGUAGE
from ..models import User, utcnow

#: Failed logins allowed before the account locks; each failure past it doubles the lock.
FREE_ATTEMPTS = 5
FIRST_LOCK = dt.timedelta(minutes=1)
LONGEST_LOCK = dt.timedelta(hours=1)
MIN_PASSWORD_LENGTH = 10
#: A hash to check against when the e-mail is unknown, so both cases take the same time.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")

#: Which roles may use which part: admin everything, statistician data, monitor dashboards.
ACCESS = {
    "admin": {"admin"},
    "statistician": {"admin", "statistician"},
    "monitor": {"admin", "statistician", "monitor"},
}


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def normalize_email(email: str) -> str:
    return email.strip().lower()


class EmailTaken(ValueError):
    """Another user has the e-mail already."""


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalize_email(email))).first()


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def create_user(session: Session, email: str, password: str, role: str) -> User:
    """A user, in the caller's transaction; raises `EmailTaken`."""
    if user_by_email(session, email) is not None:
        raise EmailTaken(email)
    user = User(email=normalize_email(email), password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


class LoginResult:
    def __init__(self, user: User | None, locked_until: dt.datetime | None = None) -> None:
        self.user = user
        self.locked_until = locked_until


def authenticate(session: Session, email: str, password: str) -> LoginResult:
    """Check a password; count failures and lock the account for a growing time past 5."""
    user = session.scalars(
        select(User).where(User.email == normalize_email(email)).with_for_update()
    ).first()
    now = utcnow()
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return LoginResult(None)
    if user.locked_until and user.locked_until > now:
        return LoginResult(None, user.locked_until)
    if check_password_hash(user.password_hash, password):
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        return LoginResult(user)
    user.failed_logins += 1
    excess = user.failed_logins - FREE_ATTEMPTS
    if excess >= 0:
        user.locked_until = now + min(FIRST_LOCK * (2**excess), LONGEST_LOCK)
        return LoginResult(None, user.locked_until)
    return LoginResult(None)


def role_required(part: str) -> Callable:
    """Allow a view to the roles of `part` (admin, statistician, monitor) only."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("admin.login", next=request.full_path))
            if current_user.role not in ACCESS[part]:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_part = part  # read by the test that walks every route
        return wrapped

    return decorate


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        if not user_id.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None

    @login_manager.unauthorized_handler
    def unauthorized():
        return redirect(url_for("admin.login", lang=getattr(g, "lang", DEFAULT_LANGUAGE)))
