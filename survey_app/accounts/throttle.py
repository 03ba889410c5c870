"""Login throttling that tells nobody which e-mails have accounts, and locks no one out.

Two counters, both in the rate limiter's store (`RATELIMIT_STORAGE_URI`):

- per client address, every login attempt whatever the e-mail (`LOGIN_RATE_LIMIT`, Flask-Limiter
  on the login route): one client trying many e-mails, or many passwords, is slowed;
- per (e-mail, client address), the failed attempts (`LOGIN_FAILURES_LIMIT`): past it, that
  address gets no answer on that e-mail until the window passes.

Why per (e-mail, client) and not per account: a lock on the account itself, as there was, let
anyone who knows a staff e-mail keep its owner out from everywhere by failing a few times an hour.
Keyed by the client too, failures from an attacker's address slow only that address; the owner
logs in from theirs. Guessing from many addresses is still bounded by the limit per address and
the per-client limit, and each guess costs a scrypt hash against a password of at least
`MIN_PASSWORD_LENGTH` characters.

The e-mail is counted as typed (normalised), whether an account has it or not, and a throttled
attempt checks no password, for a known e-mail as for an unknown one: the answer, its status and
its time are the same for both. The store holds a keyed hash of the e-mail, never the e-mail.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import Flask, current_app, render_template
from limits import RateLimitItem, parse
from sqlalchemy.orm import Session

from ..extensions import limiter
from ..models import User
from . import audit
from .auth import authenticate, normalize_email, user_by_email


@dataclass(frozen=True)
class LoginAttempt:
    #: The user logged in, or None.
    user: User | None
    #: True when the attempt was refused unchecked, past `LOGIN_FAILURES_LIMIT`.
    throttled: bool = False


def _failures_limit() -> RateLimitItem:
    return parse(current_app.config["LOGIN_FAILURES_LIMIT"])


def _failures_key(email: str, client: str) -> tuple[str, str, str]:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, normalize_email(email).encode(), hashlib.sha256).hexdigest()
    return ("login-failures", digest, client)


def attempt_login(session: Session, email: str, password: str, client: str) -> LoginAttempt:
    """Log in unless this client has failed too often on this e-mail; audited either way, with
    the e-mail only when an account has it."""
    key = _failures_key(email, client)
    account = user_by_email(session, email)
    if not limiter.limiter.test(_failures_limit(), *key):
        audit.record(session, "login_throttled", _typed(account), actor="anonymous")
        return LoginAttempt(None, throttled=True)
    user = authenticate(account, password)
    if user is None:
        limiter.limiter.hit(_failures_limit(), *key)
        user_id = account.id if account is not None else None
        audit.record(session, "login_failed", _typed(account), actor="anonymous", user_id=user_id)
        return LoginAttempt(None)
    limiter.limiter.clear(_failures_limit(), *key)
    audit.record(session, "login", actor=user.email, user_id=user.id)
    return LoginAttempt(user)


def _typed(account: User | None) -> dict:
    """What the log keeps of the typed e-mail: an unknown one is not kept (it may be a password
    typed in the wrong field, or a list an attacker tries)."""
    return {"email": account.email} if account is not None else {"unknown_email": True}


def init_app(app: Flask) -> None:
    """The page for a request past a rate limit, in the reader's language; a page that says it
    its own way (the login form) has given its answer already."""

    @app.errorhandler(429)
    def too_many_requests(error):
        if getattr(error, "response", None) is not None:
            return error.response
        return render_template("admin/too_many_requests.html"), 429
