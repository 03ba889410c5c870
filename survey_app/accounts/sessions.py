"""Staff sessions: begun at login, and ended everywhere by logout, a password change or a disabled
account; ended too after `STAFF_IDLE_MINUTES` without a request and `STAFF_SESSION_HOURS` after
the login, so a copied cookie does not outlive them.

The session is Flask's signed cookie, which the server cannot delete: the user's
`session_generation`, copied into the cookie at login, is what the server can change. A
respondent's session holds no staff key and is never looked at here; ending a staff session
removes only the staff keys, so resume codes kept beside them stay.
"""

from __future__ import annotations

import time

from flask import current_app, flash, session
from flask_babel import gettext as _
from flask_login import login_user

from ..extensions import db
from ..models import User

GENERATION = "staff_generation"
STARTED = "staff_started"
SEEN = "staff_seen"
#: Flask-Login's keys and ours: all that ending a staff session removes.
FLASK_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds")
STAFF_KEYS = (*FLASK_LOGIN_KEYS, GENERATION, STARTED, SEEN)
#: The last request is noted at most this often, so that the requests of one page do not each
#: rewrite the cookie; the idle timeout is that much less exact.
SEEN_EVERY_SECONDS = 60


def begin(user: User) -> None:
    """Log `user` in on this browser, in a fresh session (no fixation)."""
    session.clear()
    login_user(user)
    now = int(time.time())
    session[GENERATION] = user.session_generation
    session[STARTED] = session[SEEN] = now


def end_everywhere(user: User) -> None:
    """End every session of `user` (in the caller's transaction): no cookie of theirs still
    carries the new generation."""
    user.session_generation += 1


def staff_user(user_id: str) -> User | None:
    """The logged-in user of this session, if the session still holds; else end it here."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    now = int(time.time())
    if user is None or not _holds(user, now):
        for key in STAFF_KEYS:
            session.pop(key, None)
        flash(_("Your session has ended. Please log in again."), "info")
        return None
    if now - session[SEEN] >= SEEN_EVERY_SECONDS:
        session[SEEN] = now
    return user


def _holds(user: User, now: int) -> bool:
    config = current_app.config
    started, seen = session.get(STARTED), session.get(SEEN)
    return (
        user.active
        and session.get(GENERATION) == user.session_generation
        and isinstance(started, int)
        and isinstance(seen, int)
        and now - started < config["STAFF_SESSION_HOURS"] * 3600
        and now - seen < config["STAFF_IDLE_MINUTES"] * 60
    )
