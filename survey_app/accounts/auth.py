"""Users: hashed passwords, password changes, disabling, roles checked on every admin route.
Login throttling is in `throttle`, the sessions' lifetime in `sessions`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from flask import Flask, abort, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import login_manager
from ..i18n import DEFAULT_LANGUAGE
from ..models import ROLES, AppraiserScope, RatedUnit, User, utcnow
from . import audit, sessions

MIN_PASSWORD_LENGTH = 10
#: A hash to check against when the e-mail is unknown, so both cases take the same time.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")

#: Which roles may use which part: admin everything, statistician data, monitor dashboards;
#: a unit's officer their unit's appraisal, an appraiser the appraisal of their blocks; `staff`
#: is what every logged-in person may do (log out, change their password).
ACCESS = {
    "admin": {"admin"},
    "statistician": {"admin", "statistician"},
    "monitor": {"admin", "statistician", "monitor"},
    #: typing in paper questionnaires through the respondents' pages
    "paper": {"admin", "interviewer"},
    #: appraisal: a unit's officers, the council's appraisers, and pages both of them use
    "officer": {"officer"},
    "appraiser": {"admin", "appraiser"},
    "appraisal": {"admin", "appraiser", "officer"},
    #: any staff account: its own password, logging out
    "staff": set(ROLES),
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


def check_password(user: User | None, password: str) -> bool:
    """Whether the password is `user`'s and the account active; the same work when it is not,
    so the time taken does not tell whether an account has the e-mail typed."""
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(user.password_hash, password)


def authenticate(user: User | None, password: str) -> User | None:
    """`user`, noted as logged in now, if the password is theirs; else None."""
    if not check_password(user, password):
        return None
    user.last_login_at = utcnow()
    return user


class PasswordTooShort(ValueError):
    """The new password has fewer than `MIN_PASSWORD_LENGTH` characters."""


def change_password(session: Session, user: User, password: str) -> None:
    """Give `user` a new password and end every session of theirs (the page then begins its
    own again); logged."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(MIN_PASSWORD_LENGTH)
    user.password_hash = hash_password(password)
    sessions.end_everywhere(user)
    audit.record(session, "password_changed", {"email": user.email})


def set_active(session: Session, user: User, active: bool) -> None:
    """Enable or disable `user`; disabling ends every session of theirs at once. Logged."""
    user.active = active
    if not active:
        sessions.end_everywhere(user)
    audit.record(session, "user_enabled" if active else "user_disabled", {"email": user.email})


def assign(
    session: Session,
    user: User,
    role: str,
    unit_id: int | None = None,
    units: Iterable[int] = (),
    blocks: Iterable[str] = (),
) -> None:
    """Give `user` a role and their part of the appraisal: an officer's one unit (`unit_id`), an
    appraiser's set of units and blocks (none: every block). What the role does not use is
    cleared, so a role change leaves no stale access; a role change ends the user's sessions.
    Logged."""
    if role not in ROLES:
        raise ValueError(role)
    if role != user.role:
        user.role = role
        sessions.end_everywhere(user)
    user.unit_id = unit_id if role == "officer" else None
    appraiser = role == "appraiser"
    unit_ids = sorted(set(units)) if appraiser else []
    block_codes = sorted({b.strip() for b in blocks if b and b.strip()}) if appraiser else []
    session.execute(delete(AppraiserScope).where(AppraiserScope.user_id == user.id))
    session.add_all(AppraiserScope(user_id=user.id, unit_id=u) for u in unit_ids)
    session.add_all(AppraiserScope(user_id=user.id, block=b) for b in block_codes)
    session.flush()
    audit.record(
        session,
        "user_updated",
        {
            "email": user.email,
            "role": user.role,
            "unit": user.unit_id,
            # codes, not ids: the audit page reads "units: D1, X2"
            "units": list(
                session.scalars(
                    select(RatedUnit.code)
                    .where(RatedUnit.id.in_(unit_ids))
                    .order_by(RatedUnit.code)
                )
            ),
            "blocks": block_codes,
        },
    )


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
    login_manager.user_loader(sessions.staff_user)

    @login_manager.unauthorized_handler
    def unauthorized():
        return redirect(url_for("admin.login", lang=getattr(g, "lang", DEFAULT_LANGUAGE)))
